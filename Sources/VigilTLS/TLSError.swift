// Every way TLS setup, a session or a crypto primitive can fail, as one typed error. OpenSSL's own reasons (its
// thread-local error queue) are drained into the error at the point of failure, so logs say what OpenSSL saw.

/// A TLS or crypto failure, with OpenSSL's reasons attached.
public struct TLSError: Error, CustomStringConvertible {
    /// What went wrong. A struct of statics, so codes can be added without breaking callers that switch on them.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt8
        init(_ rawValue: UInt8) { self.rawValue = rawValue }

        /// A configuration OpenSSL refused: unreadable or malformed PEM, a missing file, an impossible setting.
        public static let invalidConfiguration = Code(1)
        /// The private key does not belong to the certificate; a server with it could never finish a handshake.
        public static let privateKeyMismatch = Code(2)
        /// This side refused the peer's certificate: chain, validity or name. `TLSError.verification` says which.
        public static let certificateVerificationFailed = Code(3)
        /// The two sides share no protocol version (one of them insists on TLS 1.3).
        public static let unsupportedProtocolVersion = Code(4)
        /// The peer aborted with a fatal alert (for example because it refused this side's certificate).
        public static let alertReceived = Code(5)
        /// The handshake failed for another reason (no shared cipher or application protocol, bad signature).
        public static let handshakeFailed = Code(6)
        /// Bytes that are not TLS records, or records that break the protocol.
        public static let protocolViolation = Code(7)
        /// The byte stream ended without the peer's close_notify: the data may have been truncated.
        public static let unexpectedEndOfStream = Code(8)
        /// More ciphertext was fed than the session buffers; read plaintext first, then feed the rest.
        public static let incomingBufferFull = Code(9)
        /// The ciphertext waiting to be sent is at its limit; take and send it before writing or feeding more.
        public static let outgoingBufferFull = Code(10)
        /// The call does not fit the session's state (writing before the handshake or after shutdown).
        public static let invalidState = Code(11)
        /// A crypto primitive or certificate generation failed inside OpenSSL.
        public static let cryptoFailure = Code(12)
        /// An argument outside what the API accepts (an empty host name, zero iterations).
        public static let invalidArgument = Code(13)

        public var description: String {
            switch self {
            case .invalidConfiguration: "invalidConfiguration"
            case .privateKeyMismatch: "privateKeyMismatch"
            case .certificateVerificationFailed: "certificateVerificationFailed"
            case .unsupportedProtocolVersion: "unsupportedProtocolVersion"
            case .alertReceived: "alertReceived"
            case .handshakeFailed: "handshakeFailed"
            case .protocolViolation: "protocolViolation"
            case .unexpectedEndOfStream: "unexpectedEndOfStream"
            case .incomingBufferFull: "incomingBufferFull"
            case .outgoingBufferFull: "outgoingBufferFull"
            case .invalidState: "invalidState"
            case .cryptoFailure: "cryptoFailure"
            case .invalidArgument: "invalidArgument"
            default: "code\(self.rawValue)"
            }
        }
    }

    public let code: Code
    /// A sentence for logs; never contains key material or payload bytes.
    public let message: String
    /// OpenSSL's error queue at the moment of failure, oldest first, as OpenSSL renders it.
    public let openSSLErrors: [String]
    /// Why the peer's certificate was refused, when that is what failed.
    public let verification: TLSCertificateVerification?
    /// A lower-level error that led to this one, when there was one.
    public let cause: (any Error)?

    public init(
        _ code: Code,
        _ message: String,
        openSSLErrors: [String] = [],
        verification: TLSCertificateVerification? = nil,
        cause: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.openSSLErrors = openSSLErrors
        self.verification = verification
        self.cause = cause
    }

    /// An error carrying whatever OpenSSL queued for the call that just failed; empties the queue.
    static func drainingQueue(_ code: Code, _ message: String) -> TLSError {
        TLSError(code, message, openSSLErrors: OpenSSLErrorQueue.drain().map(\.text))
    }

    public var description: String {
        var text = "TLSError(\(self.code)): \(self.message)"
        if !self.openSSLErrors.isEmpty { text += " [" + self.openSSLErrors.joined(separator: "; ") + "]" }
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }
}
