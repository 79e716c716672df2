// When something last happened, written by many threads and read by others without a lock: the last data RPC (for
// hashing pace) and the last list (for the tail bound). One relaxed atomic store per occurrence, because both are
// recorded on hot paths.
import Synchronization

/// The most recent instant something happened, if it ever did.
final class LastOccurrence: Sendable {
    private let origin = ContinuousClock.now
    /// Nanoseconds after `origin`; -1 before the first occurrence.
    private let nanoseconds = Atomic<Int64>(-1)

    func record(at now: ContinuousClock.Instant = .now) {
        self.nanoseconds.store((now - self.origin).wholeNanoseconds, ordering: .relaxed)
    }

    /// The last occurrence, or nil before the first.
    var instant: ContinuousClock.Instant? {
        let nanoseconds = self.nanoseconds.load(ordering: .relaxed)
        return nanoseconds < 0 ? nil : self.origin + .nanoseconds(nanoseconds)
    }

    /// Time since the last occurrence, or nil before the first.
    func elapsed(now: ContinuousClock.Instant = .now) -> Duration? {
        self.instant.map { now - $0 }
    }
}

extension Duration {
    /// The duration in whole nanoseconds (truncated).
    var wholeNanoseconds: Int64 {
        let parts = self.components
        return parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000
    }
}
