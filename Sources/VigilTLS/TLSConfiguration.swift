// What a TLS endpoint needs to know, as a plain value: which side it is, its certificate and key or whom it
// trusts, and its buffer limit. Policy that must not vary (TLS 1.3 only, no compression, no renegotiation) is not
// configurable here; TLSContext applies it to every context.
import COpenSSL

/// The settings a `TLSContext` is built from.
public struct TLSConfiguration: Sendable {
    /// Which end of the handshake the context's sessions play.
    public enum Role: Sendable, Hashable {
        case server
        case client
    }

    /// Where PEM text comes from: a file read by OpenSSL, or bytes already in memory (generated, from a secret store).
    public enum PEMSource: Sendable, Hashable {
        case file(path: String)
        case bytes([UInt8])

        /// PEM text held in a string.
        public static func string(_ text: String) -> PEMSource { .bytes(Array(text.utf8)) }
    }

    /// The certificates a client accepts as issuers of the server's certificate.
    public enum TrustRoots: Sendable, Hashable {
        /// Certificates in PEM; a self-signed server certificate can be its own root.
        case certificates(PEMSource)
        /// The operating system's CA store.
        case system
    }

    /// The application protocol Vigil offers and selects in ALPN.
    public static let vigilApplicationProtocol = "vigil/1"
    /// Ciphertext a session buffers in each direction unless told otherwise.
    public static let defaultBufferLimit = 256 * 1024
    /// The smallest buffer limit that still holds one full TLS record (16 KiB + 256 + 5-byte header) with room.
    public static let minimumBufferLimit = 17 * 1024

    public var role: Role
    /// Server only: the certificate, followed by any intermediates.
    public var certificateChain: PEMSource?
    /// Server only: the private key of the first certificate in `certificateChain`.
    public var privateKey: PEMSource?
    /// Client only: whom to trust. A client always verifies the server's chain and name.
    public var trustRoots: TrustRoots?
    /// ALPN protocols, most preferred first. A server selects from these and refuses a client offering none of
    /// them; a client that offers none negotiates no protocol. Empty turns ALPN off.
    public var applicationProtocols: [String]
    /// The most ciphertext a session holds in each direction: fed but not yet decrypted, and produced but not yet
    /// taken. Beyond it the session refuses input or writes (`incomingBufferFull`, `outgoingBufferFull`) rather than
    /// grow without bound when a peer or the network is slow.
    public var bufferLimit: Int

    /// Test-only knobs (reach them with `@testable import`): production contexts speak TLS 1.3 and nothing else.
    var minimumProtocolVersion: Int32 = TLS1_3_VERSION
    var maximumProtocolVersion: Int32 = TLS1_3_VERSION

    public init(
        role: Role,
        certificateChain: PEMSource? = nil,
        privateKey: PEMSource? = nil,
        trustRoots: TrustRoots? = nil,
        applicationProtocols: [String] = [TLSConfiguration.vigilApplicationProtocol],
        bufferLimit: Int = TLSConfiguration.defaultBufferLimit
    ) {
        self.role = role
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.trustRoots = trustRoots
        self.applicationProtocols = applicationProtocols
        self.bufferLimit = bufferLimit
    }

    /// A server presenting `certificateChain`, proving it with `privateKey`.
    public static func server(certificateChain: PEMSource, privateKey: PEMSource) -> TLSConfiguration {
        TLSConfiguration(role: .server, certificateChain: certificateChain, privateKey: privateKey)
    }

    /// A client that accepts servers whose certificate chains to `trustRoots`.
    public static func client(trustRoots: TrustRoots) -> TLSConfiguration {
        TLSConfiguration(role: .client, trustRoots: trustRoots)
    }
}
