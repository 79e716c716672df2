// The first start's embedded defaults on a real directory: certificate, key and token secret are made once with
// private modes, reused on the next start, and usable by TLS; half-present material is refused, not replaced.
import Foundation
import Testing
import VigilTLS
import VigilTesting
@testable import vigild

@Suite struct DataDirectoryTests {
    static func configuration(_ directory: TemporaryDirectory) throws -> Configuration {
        try Configuration.parse(flags: ["--data-dir", directory.file("data")], environment: [:])
    }

    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test("a first start creates the certificate, key and secret, private where they must be")
    func firstStart() throws {
        let directory = try TemporaryDirectory(prefix: "vigild-data")
        let configuration = try Self.configuration(directory)
        let prepared = try DataDirectory.prepare(configuration)
        #expect(Set(prepared.created) == [
            configuration.resolvedCertificatePath, configuration.resolvedKeyPath, configuration.resolvedTokenSecretPath,
        ])
        #expect(try Self.mode(configuration.resolvedKeyPath) == 0o600)
        #expect(try Self.mode(configuration.resolvedTokenSecretPath) == 0o600)
        #expect(try Self.mode(configuration.dataDirectory) == 0o700)
        #expect(prepared.tokenSecret.count == 64)
        // The material is what a TLS server loads.
        _ = try TLSContext(configuration: .server(
            certificateChain: .bytes(prepared.certificatePEM), privateKey: .bytes(prepared.privateKeyPEM)
        ))
    }

    @Test("a second start reuses everything and creates nothing")
    func restart() throws {
        let directory = try TemporaryDirectory(prefix: "vigild-data")
        let configuration = try Self.configuration(directory)
        let first = try DataDirectory.prepare(configuration)
        let second = try DataDirectory.prepare(configuration)
        #expect(second.created.isEmpty)
        #expect(second.certificatePEM == first.certificatePEM)
        #expect(second.tokenSecret == first.tokenSecret)
    }

    @Test("a certificate without its key is refused, not replaced")
    func halfPresent() throws {
        let directory = try TemporaryDirectory(prefix: "vigild-data")
        let configuration = try Self.configuration(directory)
        _ = try DataDirectory.prepare(configuration)
        try FileManager.default.removeItem(atPath: configuration.resolvedKeyPath)
        let before = FileManager.default.contents(atPath: configuration.resolvedCertificatePath)
        #expect(throws: ConfigurationError.self) { try DataDirectory.prepare(configuration) }
        #expect(FileManager.default.contents(atPath: configuration.resolvedCertificatePath) == before)
    }

    @Test("a token secret shorter than 32 bytes is refused")
    func shortSecret() throws {
        let directory = try TemporaryDirectory(prefix: "vigild-data")
        try Data("too short\n".utf8).write(to: URL(fileURLWithPath: directory.file("secret")))
        let configuration = try Configuration.parse(
            flags: ["--data-dir", directory.file("data"), "--token-secret-file", directory.file("secret")], environment: [:]
        )
        let error = #expect(throws: ConfigurationError.self) { try DataDirectory.prepare(configuration) }
        #expect(error?.description.contains("at least 32") == true)
    }
}
