// One live stream per producer. A stream that opens for a producer already streaming takes it over: the older
// stream's lease is revoked and its handler ends it with ABORTED, so two streams never race on one sequence (the
// store's in-transaction sequence check keeps even that race harmless, but the older client must learn that it
// was replaced, and must not retry). Leases live only in memory: after a restart there is nothing to take over.
import Synchronization

final class ProducerRegistry: Sendable {
    /// A stream's hold on a producer id; revoked when a newer stream for the same producer opens.
    final class Lease: Sendable {
        private struct State {
            var revoked = false
            var waiter: CheckedContinuation<Void, Never>?
            /// Bumped by every wait; a timer or cancellation that fires before its wait suspended records the wait
            /// here, so the wait does not suspend at all (no wake-up is ever lost).
            var waitNumber: UInt64 = 0
            var endedWait: UInt64 = 0
        }

        let producerID: [UInt8]
        private let state = Mutex(State())

        init(producerID: [UInt8]) {
            self.producerID = producerID
        }

        var isRevoked: Bool { self.state.withLock { $0.revoked } }

        func revoke() {
            let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.revoked = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }

        /// Returns when the lease is revoked, `timeout` passes or the task is cancelled; true when revoked.
        func waitForRevocation(timeout: Duration) async -> Bool {
            let number = self.state.withLock { state -> UInt64 in
                state.waitNumber += 1
                return state.waitNumber
            }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                self.endWait(number)
            }
            defer { timer.cancel() }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = self.state.withLock { state -> Bool in
                        if state.revoked || state.endedWait == number || Task.isCancelled { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                self.endWait(number)
            }
            return self.isRevoked
        }

        private func endWait(_ number: UInt64) {
            let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard state.waitNumber == number else { return nil }
                state.endedWait = number
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }

    private let leases = Mutex<[[UInt8]: Lease]>([:])

    /// Takes the producer for a new stream, revoking the lease of the stream that held it, if any.
    func claim(_ producerID: [UInt8]) -> Lease {
        let lease = Lease(producerID: producerID)
        let previous = self.leases.withLock { leases in leases.updateValue(lease, forKey: producerID) }
        previous?.revoke()
        return lease
    }

    /// Lets the producer go when its stream ends, unless a newer stream holds it already.
    func release(_ lease: Lease) {
        self.leases.withLock { leases in
            if leases[lease.producerID] === lease { leases[lease.producerID] = nil }
        }
    }

    /// Producers with a live stream.
    var count: Int { self.leases.withLock { $0.count } }
}
