// The bridge from an RPC endpoint's outbound bytes to a TLS connection's loop. The endpoint may write from any
// thread (a handler task, a client's call, a deadline timer); this queues the bytes and, off the loop, asks the loop
// once for a flush that takes everything queued by then: many frames from many tasks cross in one hop and leave in
// the connection's one send of that turn. On the loop (handlers preferring it, or `received`) it writes directly.
import Synchronization
import VigilRPC

/// Delivers an `RPCEndpoint`'s bytes to a `TLSConnection`, batched per loop turn.
final class LoopByteSink: RPCByteSink {
    struct State {
        var pending: [UInt8] = []
        /// A flush is queued on the loop: later `drain`s only append.
        var scheduled = false
        /// Set when the connection is active; bytes queue up until then (preface and SETTINGS come first).
        var connection: TLSConnection?
        /// The connection is gone: bytes are dropped.
        var closed = false
    }

    let loop: EventLoop
    let state = Mutex(State())

    init(loop: EventLoop) {
        self.loop = loop
    }

    func enqueue(_ bytes: [UInt8]) {
        self.state.withLock { state in
            if !state.closed { state.pending.append(contentsOf: bytes) }
        }
    }

    func enqueue(encoding encode: (inout [UInt8]) -> Void) {
        self.state.withLock { state in
            if !state.closed { encode(&state.pending) }
        }
    }

    func drain() {
        if self.loop.inEventLoop {
            self.flushOnLoop()
            return
        }
        let schedule = self.state.withLock { state -> Bool in
            guard !state.closed, state.connection != nil, !state.pending.isEmpty, !state.scheduled else {
                return false
            }
            state.scheduled = true
            return true
        }
        if schedule {
            self.loop.execute { self.flushOnLoop() }
        }
    }

    /// Hands every queued byte to the connection (which sends at the end of the turn); loop thread only.
    func flushOnLoop() {
        self.loop.assertInEventLoop()
        let (connection, bytes) = self.state.withLock { state -> (TLSConnection?, [UInt8]) in
            state.scheduled = false
            guard let connection = state.connection, !state.closed, !state.pending.isEmpty else { return (nil, []) }
            var bytes: [UInt8] = []
            swap(&bytes, &state.pending)
            return (connection, bytes)
        }
        connection?.write(bytes)
    }

    /// The connection became active: what was queued (preface, SETTINGS, early calls) goes out now.
    func attach(_ connection: TLSConnection) {
        self.state.withLock { $0.connection = connection }
        self.flushOnLoop()
    }

    /// The connection is closed: drop queued bytes and everything written later.
    func close() {
        self.state.withLock { state in
            state.closed = true
            state.pending = []
            state.connection = nil
        }
    }

    /// Bytes queued and not yet handed to the connection.
    var queuedByteCount: Int { self.state.withLock { $0.pending.count } }
}
