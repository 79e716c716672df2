// Where a connection endpoint's encoded bytes go. The in-process transport hands them to the peer's pipe; a network
// transport hands them to its socket's event loop. Keeping this one seam lets both transports share every line of
// the endpoint (flow control, deadlines, resets, GOAWAY) instead of each re-implementing it.

/// The outbound byte path of an `RPCEndpoint`.
///
/// `enqueue` is called while the endpoint holds its lock, so bytes arrive in exactly the order the connection state
/// machine produced them; it must only append (never call back into the endpoint). `drain` is called right after
/// the lock is released and should start delivering what is queued, batching whatever other threads add meanwhile.
public protocol RPCByteSink: Sendable {
    /// Appends encoded frames; cheap, never blocks, never re-enters the endpoint.
    func enqueue(_ bytes: [UInt8])
    /// Lets `encode` append frames straight onto the queue: no array per write, no copy of it (a sink of small
    /// messages writes one per message). Same rules as `enqueue`; `encode` must not block or re-enter.
    func enqueue(encoding encode: (inout [UInt8]) -> Void)
    /// Starts delivery of everything queued so far (possibly later, on another thread).
    func drain()
}

extension BytePipe: RPCByteSink {}

extension RPCByteSink {
    /// Encodes into an array of its own and enqueues that: for sinks without a queue to append to in place.
    public func enqueue(encoding encode: (inout [UInt8]) -> Void) {
        var bytes: [UInt8] = []
        encode(&bytes)
        if !bytes.isEmpty { self.enqueue(bytes) }
    }
}
