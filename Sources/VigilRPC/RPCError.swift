// The one error type a call fails with, on either side: handlers throw it to choose the status the client sees,
// and clients receive it when a call ends with anything but OK. Domain errors map to it in one place each, so the
// status a failure produces is decided once, not at every throw site.

/// A failed call: its status code, a message for people, the trailing metadata, and the local cause if any.
public struct RPCError: Error, Sendable, CustomStringConvertible {
    public var code: Status.Code
    /// Travels to the peer in TRAILERS, so it must never contain secrets.
    public var message: String
    /// Trailing metadata sent with (server) or received with (client) the failure.
    public var metadata: Metadata
    /// The underlying error on this side, for logs; never sent to the peer.
    public var cause: (any Error & Sendable)?

    public init(
        code: Status.Code,
        message: String,
        metadata: Metadata = Metadata(),
        cause: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.metadata = metadata
        self.cause = cause
    }

    /// The error a non-OK status describes.
    public init(status: Status, metadata: Metadata = Metadata()) {
        self.init(code: status.code, message: status.message, metadata: metadata)
    }

    /// The status this error ends a call with.
    public var status: Status { Status(code: self.code, message: self.message) }

    /// Code and message, then the cause; metadata is left out because values may be secrets (its own description
    /// redacts them, but a log line rarely needs it).
    public var description: String {
        var text = self.status.description
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }
}
