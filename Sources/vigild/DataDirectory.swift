// The embedded defaults of a first start: a data directory holding the TLS certificate and key (self-signed for
// localhost and 127.0.0.1) and the token signing secret, each made once and kept, so a restart serves the same
// certificate (clients keep trusting it) and honours the tokens it issued. Secrets are created with mode 0600 in
// one exclusive open, never written somewhere readable first and narrowed later.
import Foundation
import Glibc
import VigilTLS

/// What a start found or made in the data directory.
struct DataDirectory: Sendable {
    let certificatePEM: [UInt8]
    let privateKeyPEM: [UInt8]
    let tokenSecret: [UInt8]
    /// Files this start created, for the log line that tells the operator what happened.
    let created: [String]

    /// The secret is 32 random bytes written as 64 hex digits; an operator's own file of at least 32 bytes works too.
    static let minimumSecretBytes = 32

    /// Creates what is missing, reads what exists. A certificate without its key (or the reverse) is refused
    /// rather than silently replaced: the operator may have put one of them there on purpose.
    static func prepare(_ configuration: Configuration) throws -> DataDirectory {
        var created: [String] = []
        try makeDirectory(configuration.dataDirectory)
        let certificatePath = configuration.resolvedCertificatePath
        let keyPath = configuration.resolvedKeyPath
        let haveCertificate = FileManager.default.fileExists(atPath: certificatePath)
        let haveKey = FileManager.default.fileExists(atPath: keyPath)
        if !haveCertificate && !haveKey && configuration.tlsCertificatePath == nil {
            let certificate = try SelfSignedCertificate()
            try makeDirectory((certificatePath as NSString).deletingLastPathComponent)
            try writeNewFile(keyPath, certificate.privateKeyPEM, mode: 0o600)
            try writeNewFile(certificatePath, certificate.certificatePEM, mode: 0o644)
            created += [certificatePath, keyPath]
        } else if haveCertificate != haveKey {
            throw ConfigurationError("\(haveCertificate ? keyPath : certificatePath) is missing, though \(haveCertificate ? certificatePath : keyPath) exists")
        }
        let secretPath = configuration.resolvedTokenSecretPath
        if !FileManager.default.fileExists(atPath: secretPath) && configuration.tokenSecretPath == nil {
            let hex = SecureRandom.bytes(minimumSecretBytes).map { byte in
                let digits = Array("0123456789abcdef".utf8)
                return [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
            }.joined()
            try writeNewFile(secretPath, Array(hex) + [0x0A], mode: 0o600)
            created.append(secretPath)
        }
        var secret = try readFile(secretPath)
        while secret.last == 0x0A || secret.last == 0x0D { secret.removeLast() }
        guard secret.count >= minimumSecretBytes else {
            throw ConfigurationError("\(secretPath) holds \(secret.count) bytes; a token secret needs at least \(minimumSecretBytes)")
        }
        return DataDirectory(
            certificatePEM: try readFile(certificatePath),
            privateKeyPEM: try readFile(keyPath),
            tokenSecret: secret,
            created: created
        )
    }

    private static func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
        )
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigurationError("cannot read \(path)") }
        return [UInt8](data)
    }

    /// O_CREAT | O_EXCL with the final mode, then fsync: the file never exists with looser permissions, a
    /// concurrent start cannot overwrite it, and a crash right after start does not leave it empty.
    private static func writeNewFile(_ path: String, _ bytes: [UInt8], mode: mode_t) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw ConfigurationError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { throw ConfigurationError("cannot write \(path): \(String(cString: strerror(errno)))") }
            written += result
        }
        guard fsync(descriptor) == 0 else { throw ConfigurationError("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }
}
