// Why a connection ended, as one typed error the RPC layer can map to a status or a log line: the code says what
// kind of failure it was, the message is for people, the cause keeps the underlying Errno or TLSError.

/// The failure that closed a `TLSConnection`, passed to `ConnectionHandler.connectionClosed(_:error:)`.
public struct ConnectionError: Error, CustomStringConvertible {
    /// A struct of statics so new codes do not break exhaustive switches in callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: UInt8

        private init(_ rawValue: UInt8) {
            self.rawValue = rawValue
        }

        /// The TCP connect failed (refused, unreachable, timed out).
        public static let connectFailed = Code(1)
        /// The TLS handshake did not finish within the configured time.
        public static let handshakeTimeout = Code(2)
        /// TLS refused the peer: a failed handshake, bytes that are not TLS, a fatal alert.
        public static let tls = Code(3)
        /// A socket call failed (reset by peer, broken pipe...).
        public static let io = Code(4)
        /// The stream ended without TLS close_notify: possibly truncated, so not a clean close.
        public static let unexpectedEndOfStream = Code(5)
        /// The loop that owned the connection was shut down.
        public static let eventLoopShutdown = Code(6)
        /// A graceful close could not deliver its pending output in time.
        public static let closeTimeout = Code(7)
        /// The peer sent bytes this side can no longer buffer (TLS buffer limits).
        public static let bufferLimit = Code(8)
        /// No traffic either way for the configured idle timeout.
        public static let idleTimeout = Code(9)

        public var description: String {
            switch self {
            case .connectFailed: "connect failed"
            case .handshakeTimeout: "handshake timeout"
            case .tls: "TLS failure"
            case .io: "I/O error"
            case .unexpectedEndOfStream: "unexpected end of stream"
            case .eventLoopShutdown: "event loop shut down"
            case .closeTimeout: "close timeout"
            case .bufferLimit: "buffer limit"
            case .idleTimeout: "idle timeout"
            default: "connection error \(self.rawValue)"
            }
        }
    }

    public let code: Code
    public let message: String
    public let cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        guard let cause else { return "\(self.code): \(self.message)" }
        return "\(self.code): \(self.message) (\(cause))"
    }
}
