// Backpressure for ingest streams: a counting semaphore whose waiters suspend (never block a thread) and are
// served first come, first served, so a big batch waiting for room is not starved by small ones slipping past.
// A stream that waits here stops reading, so it stops granting flow-control window, and its client slows down:
// the server never buffers without bound when the writer falls behind.
//
// Exactly-once resumption: a waiter leaves the Mutex-guarded list once, taken by `release` (granted) or by its
// own cancellation handler (failed), and whoever takes it resumes it.
import Synchronization

final class AsyncPermits: Sendable {
    private struct Waiter {
        let id: UInt64
        let count: Int
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var available: Int
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }

    let capacity: Int
    private let state: Mutex<State>

    init(capacity: Int) {
        precondition(capacity >= 1, "permits need a capacity")
        self.capacity = capacity
        self.state = Mutex(State(available: capacity))
    }

    /// Permits not held by anyone now.
    var available: Int { self.state.withLock { $0.available } }

    /// Takes `count` permits (at most `capacity`: a larger request takes them all), waiting in line for them.
    /// Returns how many it took, which is what the caller gives back to `release`. Throws `CancellationError` when
    /// the task is cancelled while waiting (holding nothing then).
    func acquire(_ count: Int = 1) async throws -> Int {
        let wanted = min(max(count, 0), self.capacity)
        let id: UInt64 = self.state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let granted = self.state.withLock { state -> Bool? in
                    if Task.isCancelled { return nil }
                    if state.waiters.isEmpty && state.available >= wanted {
                        state.available -= wanted
                        return true
                    }
                    state.waiters.append(Waiter(id: id, count: wanted, continuation: continuation))
                    return false
                }
                switch granted {
                case .none: continuation.resume(throwing: CancellationError())
                case .some(true): continuation.resume()
                case .some(false): break
                }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
        return wanted
    }

    /// Gives back `count` permits and wakes the waiters they now satisfy, in order.
    func release(_ count: Int = 1) {
        let woken = self.state.withLock { state -> [Waiter] in
            state.available = min(state.available + count, self.capacity)
            var woken: [Waiter] = []
            while let first = state.waiters.first, first.count <= state.available {
                state.available -= first.count
                woken.append(state.waiters.removeFirst())
            }
            return woken
        }
        for waiter in woken { waiter.continuation.resume() }
    }
}
