// What a client refuses and what a server refuses, in memory: a certificate for another name, an expired one, one
// from an unknown authority, and a peer that offers nothing newer than TLS 1.2. Each must fail the handshake with a
// clear, typed error; none may end established.
import Foundation
import Testing
import VigilTLS
import VigilTesting

@Suite("TLS verification")
struct TLSVerificationTests {
    /// Runs a handshake that must fail on the client with certificateVerificationFailed.
    static func expectClientRefuses(_ pump: SessionPump, _ because: String) {
        pump.run()
        #expect(pump.client.state != .established, "\(because)")
        #expect(pump.clientError?.code == .certificateVerificationFailed, "\(because): \(String(describing: pump.clientError))")
        #expect(pump.clientError?.verification?.isValid == false)
    }

    @Test("refuses a certificate issued for another host name")
    func wrongHostName() throws {
        let pump = try SessionPump.make(serverName: "vigil.example.com")
        Self.expectClientRefuses(pump, "the certificate names localhost and 127.0.0.1 only")
    }

    @Test("refuses a certificate issued for another IP address")
    func wrongAddress() throws {
        let pump = try SessionPump.make(serverName: "127.0.0.2")
        Self.expectClientRefuses(pump, "the certificate names 127.0.0.1")
    }

    @Test("refuses an expired certificate")
    func expired() throws {
        let expired = try SelfSignedCertificate(notBefore: .seconds(-7200), notAfter: .seconds(-60))
        let pump = try SessionPump.make(certificate: expired)
        Self.expectClientRefuses(pump, "the certificate expired a minute ago")
    }

    @Test("refuses a certificate from an authority it does not trust")
    func untrustedAuthority() throws {
        let served = try SelfSignedCertificate()
        let trusted = try SelfSignedCertificate()
        let server = try TLSContext(configuration: .server(
            certificateChain: .bytes(served.certificatePEM), privateKey: .bytes(served.privateKeyPEM)
        ))
        let client = try TLSContext(configuration: .client(trustRoots: .certificates(.bytes(trusted.certificatePEM))))
        Self.expectClientRefuses(try SessionPump(clientContext: client, serverContext: server), "another authority")
    }

    @Test("accepts a leaf certificate signed by the trusted authority")
    func trustedChain() throws {
        let authority = try SelfSignedCertificate(commonName: "Vigil test CA")
        let leaf = try authority.issueLeafCertificate()
        let server = try TLSContext(configuration: .server(
            certificateChain: .bytes(leaf.certificateChainPEM), privateKey: .bytes(leaf.privateKeyPEM)
        ))
        let client = try TLSContext(configuration: .client(trustRoots: .certificates(.bytes(authority.certificatePEM))))
        let pump = try SessionPump(clientContext: client, serverContext: server)
        try pump.handshake()
    }

    /// A ClientHello offering TLS 1.2 only: no supported_versions extension, two ECDHE-GCM suites, P-256 and
    /// ECDSA-SHA256, as a TLS 1.2 client sends it (RFC 5246 section 7.4.1.2).
    static var tls12ClientHello: [UInt8] {
        let extensions: [UInt8] = [
            0x00, 0x0A, 0x00, 0x04, 0x00, 0x02, 0x00, 0x17,  // supported_groups: secp256r1
            0x00, 0x0B, 0x00, 0x02, 0x01, 0x00,  // ec_point_formats: uncompressed
            0x00, 0x0D, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03,  // signature_algorithms: ecdsa_secp256r1_sha256
        ]
        var body: [UInt8] = [0x03, 0x03]  // client_version TLS 1.2
        body += [UInt8](repeating: 0x5A, count: 32)  // random
        body += [0x00]  // no session id
        body += [0x00, 0x04, 0xC0, 0x2B, 0xC0, 0x2F]  // cipher suites
        body += [0x01, 0x00]  // compression: null
        body += [UInt8(extensions.count >> 8), UInt8(extensions.count & 0xFF)] + extensions
        let handshake: [UInt8] = [0x01, 0x00, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
        return [0x16, 0x03, 0x01, UInt8(handshake.count >> 8), UInt8(handshake.count & 0xFF)] + handshake
    }

    @Test("a server refuses a client that offers TLS 1.2 at most, and says why")
    func refusesTLS12() throws {
        let certificate = try SelfSignedCertificate()
        let server = try TLSSession(context: TLSContext(configuration: .server(
            certificateChain: .bytes(certificate.certificatePEM), privateKey: .bytes(certificate.privateKeyPEM)
        )))
        try server.feedCiphertext(Self.tls12ClientHello)
        let error = #expect(throws: TLSError.self) { _ = try server.readPlaintext() }
        #expect(error?.code == .unsupportedProtocolVersion, "\(String(describing: error))")
        #expect(server.state != .established)
        // The refusal goes back to the client as an alert record (content type 21), protocol_version (70).
        let reply = server.takeCiphertext()
        #expect(reply.first == 0x15)
        #expect(reply.count >= 7 && reply[6] == 70)
    }

    @Test("loads the server's certificate and key, and the client's trust, from PEM files")
    func pemFiles() throws {
        let directory = try TemporaryDirectory(prefix: "vigil-pem")
        let certificate = try SelfSignedCertificate()
        try Data(certificate.certificatePEM).write(to: URL(fileURLWithPath: directory.file("cert.pem")))
        try Data(certificate.privateKeyPEM).write(to: URL(fileURLWithPath: directory.file("key.pem")))
        let server = try TLSContext(configuration: .server(
            certificateChain: .file(path: directory.file("cert.pem")), privateKey: .file(path: directory.file("key.pem"))
        ))
        let client = try TLSContext(configuration: .client(trustRoots: .certificates(.file(path: directory.file("cert.pem")))))
        try SessionPump(clientContext: client, serverContext: server).handshake()
    }

    @Test("a missing PEM file is a typed configuration error")
    func missingPEMFile() throws {
        let error = #expect(throws: TLSError.self) {
            try TLSContext(configuration: .server(
                certificateChain: .file(path: "/nonexistent/cert.pem"), privateKey: .file(path: "/nonexistent/key.pem")
            ))
        }
        #expect(error?.code == .invalidConfiguration, "\(String(describing: error))")
    }
}
