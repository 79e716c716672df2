// Timers for handshake, idle and close deadlines, and for pausing an accept loop that ran out of descriptors.
// They fire on the loop thread between epoll waits; `epoll_wait`'s timeout is the next deadline, so an idle loop
// with no timers sleeps until a socket or `execute` wakes it.
import Synchronization
public import VigilRPC

/// A timer set with `EventLoop.schedule(after:_:)`; `cancel()` it to stop it from firing.
///
/// `Sendable`: the state is one atomic, so cancelling from any thread is safe. A cancel that races the timer's
/// deadline on another thread may lose (the work runs); cancelled on the loop thread, it never runs.
public final class ScheduledTimer: Sendable {
    private let state = Atomic<UInt8>(0)
    private let loop: EventLoop
    private static let pending: UInt8 = 0
    private static let cancelled: UInt8 = 1
    private static let fired: UInt8 = 2

    init(loop: EventLoop) {
        self.loop = loop
    }

    public var isCancelled: Bool { self.state.load(ordering: .acquiring) == Self.cancelled }

    /// Stops the timer if it has not fired yet. Harmless after it fired or was cancelled.
    public func cancel() {
        let (exchanged, _) = self.state.compareExchange(
            expected: Self.pending, desired: Self.cancelled, ordering: .acquiringAndReleasing)
        if exchanged {
            self.loop.cancelledTimers.add(1, ordering: .relaxed)
        }
    }

    /// Claims the right to run; false if it was cancelled first.
    fileprivate func claimFiring() -> Bool {
        self.state.compareExchange(expected: Self.pending, desired: Self.fired, ordering: .acquiringAndReleasing)
            .exchanged
    }
}

extension EventLoop {
    /// Runs `work` on the loop once `delay` has passed. Callable from any thread; the deadline is measured from the
    /// call, not from when the loop picks the timer up. Timers with equal deadlines fire in the order they were set.
    ///
    /// The heap holds `work` until the deadline even after `cancel()`: capture connections weakly in it.
    @discardableResult
    public func schedule(after delay: Duration, _ work: @escaping @Sendable () -> Void) -> ScheduledTimer {
        self.schedule(at: self.clock.now.advanced(by: max(delay, .zero)), work)
    }

    /// Runs `work` on the loop at `deadline` (at once if it has passed), as `schedule(after:)` does.
    @discardableResult
    func schedule(at deadline: ContinuousClock.Instant, _ work: @escaping @Sendable () -> Void) -> ScheduledTimer {
        let timer = ScheduledTimer(loop: self)
        if self.inEventLoop {
            self.timers.insert(deadline: deadline, timer: timer, work: work)
        } else {
            let accepted = self.execute { self.timers.insert(deadline: deadline, timer: timer, work: work) }
            if !accepted {
                timer.cancel()
            }
        }
        return timer
    }

    /// Fires every timer due now, in deadline order; loop thread only.
    func runDueTimers() {
        guard self.timers.count > 0 else { return }
        let now = self.clock.now
        while let entry = self.timers.popDue(at: now) {
            if entry.timer.claimFiring() {
                entry.work()
            } else {
                self.cancelledTimers.subtract(1, ordering: .relaxed)
            }
        }
    }

    /// Connections reset idle and handshake timers constantly; without this, cancelled entries would pile up in
    /// the heap until their (distant) deadlines.
    func compactTimersIfNeeded() {
        let cancelled = self.cancelledTimers.load(ordering: .relaxed)
        guard cancelled > 256, cancelled * 2 > self.timers.count else { return }
        let removed = self.timers.removeCancelled()
        self.cancelledTimers.subtract(removed, ordering: .relaxed)
    }
}

/// The loop's timer heap as the RPC layer's deadline timers: no task and no Dispatch timer per call.
extension EventLoop: CallTimers {
    public func schedule(
        at deadline: ContinuousClock.Instant, _ work: @escaping @Sendable () -> Void
    ) -> any CallTimer {
        // Straight to the heap: through `schedule(after:)` every call's deadline read the clock twice.
        let timer: ScheduledTimer = self.schedule(at: deadline, work)
        return timer
    }
}

extension ScheduledTimer: CallTimer {}
