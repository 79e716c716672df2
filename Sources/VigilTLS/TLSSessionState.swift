// Where a TLS session is in its life, so the connection driving it knows whether to keep pumping, start sending
// application data, answer a close_notify, or close the socket.

/// The lifecycle of a `TLSSession`.
public enum TLSSessionState: Sendable, Hashable {
    /// The handshake has not finished: keep feeding the peer's bytes and sending what the session produces.
    case handshaking
    /// Application data flows both ways.
    case established
    /// This side sent close_notify; the peer may still send data until its own close_notify arrives.
    case shutdownSent
    /// The peer sent close_notify: no more data will arrive. This side may still write, then calls `shutdown()`.
    case shutdownReceived
    /// Both close_notify alerts were exchanged (or the session was shut down before the handshake finished).
    case closed
    /// A fatal error ended the session. Any alert telling the peer why is still waiting in the outgoing buffer.
    case failed
}
