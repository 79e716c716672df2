// The indexer: derives the list index tables (`*_by_*`) from the rows above each table's watermark, in one
// transaction per slice, on the writer thread between ingest group commits. Why (docs/STORAGE.md): every secondary
// index entry costs a B-tree descent and dirties a page that the commit then writes to the WAL, so maintaining nine
// indexes per acknowledged batch caps ingest far below the append rate; deriving them in large sorted slices
// touches each index page once per slice instead, and takes the index work off the acknowledgement's path.
//
// Policy: a slice runs once ingest has paused for `indexIdleDelay` (no group commit since), so a burst is
// acknowledged at the append rate; or, while ingest is busy, after every group commit once the tail has grown past
// `maximumTailEvents`: slices then interleave with group commits, so under sustained load the ingest rate falls to
// the rate at which the indexes can be maintained, and the tail that every list scans stays bounded. A slice run in
// a pause queues the next while the pause lasts, so an idle store drains its tail.
// A slice's index rows and its new watermark commit together, so in any snapshot a row is either indexed (at or
// below the mark) or in the tail (above it), never both and never neither.
//
// Failures (a full disk, a read-only file, an I/O error): the slice rolls back, so nothing is half-indexed; the
// failure is reported (`Configuration.report`, at most once per doubling of the streak) and the slice is retried
// on a timer with exponential backoff (`indexRetryInitialDelay`...`indexRetryMaximumDelay`), whatever ingest does:
// an idle store catches up once space returns, and while the streak lasts group commits and pauses queue no slice,
// so a failing indexer neither spins nor makes every commit pay for a slice that cannot succeed.
import Dispatch
import VigilSQLite

extension SQLiteStore {
    /// Events above the watermark: ids are allocated densely, so the id range is the count (O(1) to read).
    static func tailEvents(_ database: Database) throws -> Int64 {
        let range = try database.cachedStatement(
            """
            SELECT max(0, coalesce((SELECT max(id) FROM events), 0)
                - (SELECT indexed_through FROM index_marks WHERE name = 'events'))
            """
        )
        return try range.firstRow { row in row.int64(at: 0) } ?? 0
    }

    /// Queues an indexing slice unless one is queued already or indexing backs off after a failure (`isRetry`: the
    /// backoff timer's own call, which may).
    func scheduleIndexing(isRetry: Bool = false) {
        guard self.ingestCommitter.claimIndexing(isRetry: isRetry) else { return }
        let job = ConnectionWorkers.Job(
            run: { database in self.runIndexingSlice(database) },
            fail: { error in
                self.ingestCommitter.finishIndexing(ran: false)
                // A retry refused by a full writer queue must not end the retries: while indexing backs off, only
                // the timer queues slices. (After shutdown nothing is retried.)
                if isRetry && error.code == .overloaded {
                    let failures = self.ingestCommitter.indexingFailures
                    self.armIndexingRetry(after: self.indexRetryDelay(afterFailures: failures))
                }
            }
        )
        if let refusal = self.writer.submit(job) { job.fail(refusal) }
    }

    /// Called on the writer after each group commit.
    func afterGroupCommit(_ database: Database) {
        let generation = self.ingestCommitter.recordGroupCommit()
        let tail = (try? Self.tailEvents(database)) ?? 0
        guard tail > 0 else { return }
        if tail >= Int64(self.configuration.maximumTailEvents) {
            self.scheduleIndexing()
        } else {
            self.scheduleIndexingAfterPause(since: generation)
        }
    }

    /// Queues a slice after `indexIdleDelay` if no group commit happened meanwhile.
    func scheduleIndexingAfterPause(since generation: UInt64) {
        DispatchQueue.global().asyncAfter(deadline: .now() + Self.dispatchInterval(self.configuration.indexIdleDelay)) {
            [weak self] in
            // A pause: no group commit since, and none waiting or running (a long commit is not a pause; the next
            // group commit arms a new check).
            guard let self, self.ingestCommitter.isIdle(since: generation) else { return }
            self.scheduleIndexing()
        }
    }

    private static func dispatchInterval(_ delay: Duration) -> DispatchTimeInterval {
        let nanoseconds = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
        return .nanoseconds(Int(clamping: max(nanoseconds, 0)))
    }

    /// The wait before retry number `failures` (1, 2...): the initial delay doubled per failure, capped.
    func indexRetryDelay(afterFailures failures: Int) -> Duration {
        let initial = self.configuration.indexRetryInitialDelay
        let maximum = self.configuration.indexRetryMaximumDelay
        var delay = initial
        for _ in 1..<max(failures, 1) {
            delay *= 2
            if delay >= maximum { return maximum }
        }
        return min(delay, maximum)
    }

    /// Queues a retry slice after `delay` (the store may be gone by then: then nothing happens).
    private func armIndexingRetry(after delay: Duration) {
        DispatchQueue.global().asyncAfter(deadline: .now() + Self.dispatchInterval(delay)) { [weak self] in
            self?.scheduleIndexing(isRetry: true)
        }
    }

    private func runIndexingSlice(_ database: Database) {
        self.ingestCommitter.finishIndexing(ran: true)
        let generation = self.ingestCommitter.groupCommits
        let indexed: Int
        do {
            indexed = try database.transaction(.immediate) { database in
                try Self.indexSlice(database, rows: self.configuration.indexSliceEvents)
            }
        } catch {
            // Nothing indexed (the transaction rolled back): back off and retry on a timer, since neither a pause
            // (none may come) nor the next group commit (it may never come) can be relied on to try again.
            let failure = StoreError.from(error)
            let failures = self.ingestCommitter.recordIndexingFailure()
            let delay = self.indexRetryDelay(afterFailures: failures)
            if Self.isReportable(failures) {
                self.configuration.report?(.indexingFailed(failure, failures: failures, retryIn: delay))
            }
            self.armIndexingRetry(after: delay)
            return
        }
        let ended = self.ingestCommitter.recordIndexingSuccess()
        if ended > 0 { self.configuration.report?(.indexingRecovered(failures: ended)) }
        do {
            let tail = try Self.tailEvents(database)
            guard indexed > 0, tail > 0 else { return }
            if tail >= Int64(self.configuration.maximumTailEvents) || self.ingestCommitter.isIdle(since: generation) {
                // Still over the bound, or still paused: keep going (behind whatever else waits for the writer).
                self.scheduleIndexing()
            }
        } catch {
            // The slice committed; only reading the tail failed. The next group commit or pause looks again.
        }
    }

    /// The index tables of each indexed table, with the columns each takes from it (in key order, the id last).
    static let indexTables: [(table: String, indexes: [(name: String, columns: String)])] = [
        (
            "events",
            [
                ("events_by_time", "occurred_at, id"), ("events_by_severity", "severity, occurred_at, id"),
                ("events_by_source", "source_name, occurred_at, id"), ("events_by_type", "event_type, occurred_at, id"),
            ]
        ),
        (
            "alerts",
            [
                ("alerts_by_time", "created_at, id"), ("alerts_by_status", "status, created_at, id"),
                ("alerts_by_severity", "severity, created_at, id"), ("alerts_by_source", "source_name, created_at, id"),
                ("alerts_by_type", "event_type, created_at, id"),
            ]
        ),
    ]

    /// Indexes up to `rows` more rows of each table (the oldest above its watermark), inside the caller's write
    /// transaction; returns how many events it indexed.
    @discardableResult
    static func indexSlice(_ database: Database, rows: Int) throws -> Int {
        var indexedEvents = 0
        for (table, indexes) in Self.indexTables {
            let bounds = try database.cachedStatement(
                """
                SELECT (SELECT indexed_through FROM index_marks WHERE name = ?), coalesce((SELECT max(id) FROM \(table)), 0)
                """
            )
            guard let (mark, last) = try bounds.firstRow(arguments: [table], { row in (row.int64(at: 0), row.int64(at: 1)) })
            else { continue }
            let through = min(mark + Int64(max(rows, 1)), last)
            guard through > mark else { continue }
            for index in indexes {
                // Sorted by the index key, so each index page is filled in order and touched once per slice.
                let insert = try database.cachedStatement(
                    """
                    INSERT INTO \(index.name) (\(index.columns)) SELECT \(index.columns) FROM \(table)
                    WHERE id > ? AND id <= ? ORDER BY \(index.columns)
                    """
                )
                try insert.execute(arguments: [mark, through])
                if table == "events" && index.name == "events_by_time" { indexedEvents = database.changes }
            }
            let advance = try database.cachedStatement("UPDATE index_marks SET indexed_through = ? WHERE name = ?")
            try advance.execute(arguments: [through, table])
        }
        return indexedEvents
    }
}
