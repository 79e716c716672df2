// One direction of the in-process "socket". Senders append encoded bytes while holding their endpoint's lock (so
// bytes enter the pipe in the order the connection machine produced them), then call `drain()` after unlocking.
// Whoever drains first delivers every queued byte, including bytes queued meanwhile by others, and nested writes
// (the receiver answering with WINDOW_UPDATE) are picked up by the drainer already running: delivery is never
// recursive beyond one level, and no lock is held while the receiver runs.

import Synchronization

final class BytePipe: Sendable {
    struct State {
        var queue: [UInt8] = []
        var draining = false
        /// Cleared when the transport closes, which also breaks the endpoint ↔ pipe reference cycle.
        var receiver: InProcessEndpoint?
        /// After `disconnect` bytes are dropped: nobody will read them.
        var closed = false
    }

    let state = Mutex(State())

    func connect(to receiver: InProcessEndpoint) {
        self.state.withLock { $0.receiver = receiver }
    }

    func disconnect() {
        self.state.withLock { state in
            state.receiver = nil
            state.queue = []
            state.closed = true
        }
    }

    /// Appends bytes (kept until a receiver is connected); callers may hold their endpoint's lock (this lock is
    /// never held while taking another).
    func enqueue(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        self.state.withLock { state in
            if !state.closed { state.queue.append(contentsOf: bytes) }
        }
    }

    /// Delivers queued bytes unless another thread is already doing so. Call without holding an endpoint lock.
    func drain() {
        let receiver = self.state.withLock { state -> InProcessEndpoint? in
            guard !state.draining, !state.queue.isEmpty, let receiver = state.receiver else { return nil }
            state.draining = true
            return receiver
        }
        guard let receiver else { return }
        while true {
            let batch = self.state.withLock { state -> [UInt8]? in
                guard !state.queue.isEmpty, state.receiver != nil else {
                    state.draining = false
                    return nil
                }
                let batch = state.queue
                state.queue = []
                return batch
            }
            guard let batch else { return }
            receiver.receiveBytes(batch)
        }
    }
}
