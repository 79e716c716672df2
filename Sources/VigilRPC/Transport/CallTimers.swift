// Deadline timers for calls. A unary call with a deadline needs one on each side, so at 15,000 calls/s a task per
// timer sleeping on Dispatch (its timer source, worker-thread wake-ups and futexes) took an eighth of the server's
// samples (perf, unary Echo). Transports that own an event loop pass the loop's timer heap instead; the task-based
// default remains for the in-process transport and anything without a loop.

/// Schedules deadline work.
public protocol CallTimers: Sendable {
    /// Runs `work` at `deadline` (at once if it has passed) unless the returned timer is cancelled first. Never
    /// runs it before returning: endpoints schedule under their lock, and `work` takes that lock.
    func schedule(at deadline: ContinuousClock.Instant, _ work: @escaping @Sendable () -> Void) -> any CallTimer
}

/// A scheduled piece of deadline work.
public protocol CallTimer: Sendable {
    /// Stops the work from running if it has not started. Harmless after it ran.
    func cancel()
}

extension Task: CallTimer where Success == Void, Failure == Never {}

/// Timers as tasks that sleep until the deadline.
public struct TaskCallTimers: CallTimers {
    public init() {}

    public func schedule(
        at deadline: ContinuousClock.Instant, _ work: @escaping @Sendable () -> Void
    ) -> any CallTimer {
        Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            guard !Task.isCancelled else { return }
            work()
        }
    }
}
