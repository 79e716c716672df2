// `--retention-days N`: a background task that deletes events older than N days (by occurred_at) whose alert is
// absent or RESOLVED, together with that alert and its history; an open or acknowledged alert keeps its event.
// It runs once at start, so a server restarted after a long pause catches up at once, then every `interval`. The
// deleting itself is the store's (bounded chunks on the store's writer thread), so this task only waits: it never
// blocks the cooperative pool, and ingest keeps committing between chunks.
import Glibc
import VigilService

struct Retention: Sendable {
    static let defaultInterval: Duration = .seconds(3600)
    static let nanosecondsPerDay: Int64 = 86_400 * 1_000_000_000

    /// Events older than this many days go; always > 0 here (0 means no task at all).
    let days: Int
    let interval: Duration
    /// The store's deletion, injected so a test can see the cutoff the flag produced without a database.
    let deleteEvents: @Sendable (_ occurredBefore: Int64) async throws -> RetentionResult
    /// Now, in Unix nanoseconds (UTC).
    let now: @Sendable () -> Int64

    /// The task for `days`, or nil when retention is off (0 keeps everything). Detached: the caller may be the main
    /// actor blocked in a signal wait, and this task must not inherit that executor.
    static func start(
        days: Int, interval: Duration = Self.defaultInterval, store: SQLiteStore
    ) -> Task<Void, Never>? {
        guard days > 0 else { return nil }
        let retention = Retention(
            days: days, interval: interval,
            deleteEvents: { cutoff in try await store.deleteEvents(occurredBefore: cutoff) },
            now: { Self.unixNanoseconds() })
        Log.info("retention on", [
            "days": .integer(Int64(days)), "interval_seconds": .integer(interval.components.seconds),
        ])
        return Task.detached { await retention.run() }
    }

    /// The first instant kept: everything that occurred strictly before it may go.
    static func cutoff(days: Int, now: Int64) -> Int64 {
        let span = Int64(days).multipliedReportingOverflow(by: Self.nanosecondsPerDay)
        return span.overflow ? Int64.min : now - span.partialValue
    }

    /// Passes until cancelled (drain cancels it; a pass in progress finishes its current chunk first).
    func run() async {
        while !Task.isCancelled {
            _ = await self.pass()
            do {
                try await Task.sleep(for: self.interval)
            } catch {
                return
            }
        }
    }

    /// One pass, logged: what went, or why nothing did. Returns the result (nil on failure) for tests.
    @discardableResult
    func pass() async -> RetentionResult? {
        let cutoff = Self.cutoff(days: self.days, now: self.now())
        let cutoffText = Log.rfc3339(seconds: cutoff / 1_000_000_000)
        do {
            let result = try await self.deleteEvents(cutoff)
            Log.info("retention pass", [
                "older_than": .string(cutoffText), "events_deleted": .integer(Int64(result.events)),
                "alerts_deleted": .integer(Int64(result.alerts)),
                "alert_changes_deleted": .integer(Int64(result.alertChanges)),
            ])
            return result
        } catch {
            Log.error("retention pass failed", ["older_than": .string(cutoffText), "error": .string("\(error)")])
            return nil
        }
    }

    /// Wall-clock time, as the store's occurred_at is.
    static func unixNanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
