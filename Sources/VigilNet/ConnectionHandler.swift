// The byte-level interface between a TLS connection and whatever speaks a protocol over it (the RPC connection
// later, echo handlers in tests). Everything crosses it in batches: all plaintext of one loop turn arrives in one
// `received` call, and writes made during a turn leave in one send at its end.

/// The delegate of one `TLSConnection`. Every method is called on the connection's event loop, so an
/// implementation may keep unsynchronised state as long as only the loop touches it.
public protocol ConnectionHandler: AnyObject {
    /// The TLS handshake finished: writes now go out, and `received` may follow.
    func connectionActive(_ connection: TLSConnection)

    /// All plaintext that arrived in one loop turn (never empty).
    func received(_ plaintext: [UInt8], on connection: TLSConnection)

    /// `connection.isWritable` flipped: false once pending output passed the high-water mark (stop producing),
    /// true once it drained below the low-water mark (produce again).
    func writabilityChanged(_ connection: TLSConnection)

    /// The peer sent TLS close_notify: no more input will come, but this side may still write. The default
    /// closes the connection (after pending output).
    func inputClosed(_ connection: TLSConnection)

    /// The connection is closed and its socket released; called exactly once, last. `error` is nil for a clean
    /// close (close_notify exchanged or a local `close()`).
    func connectionClosed(_ connection: TLSConnection, error: ConnectionError?)
}

extension ConnectionHandler {
    public func writabilityChanged(_ connection: TLSConnection) {}

    public func inputClosed(_ connection: TLSConnection) {
        connection.close()
    }
}
