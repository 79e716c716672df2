// The indexer: derives the list indexes (`*_by_*`: postings, and the alerts_by_status table) from the rows above
// each index's watermark, one step per transaction, on the writer thread between ingest group commits; a postings
// step's rows are built beforehand on the indexer's own read connection (`scheduleIndexing`), so the writer only
// inserts them. Why (docs/STORAGE.md): every secondary index entry costs a B-tree descent and dirties a page that
// the commit then writes to the WAL, so maintaining nine indexes per acknowledged batch caps ingest far below the
// append rate; deriving them in large sorted slices touches each index page once per slice instead, and takes the
// index work off the acknowledgement's path.
//
// Policy: a step (one index table, up to `indexSliceEvents` rows) runs once ingest has paused for `indexIdleDelay`
// (no group commit since), so a burst is acknowledged at the append rate; or, while ingest is busy, after every group
// commit once the most behind index lags past the tail bound (`maximumTailEvents` while lists are being served,
// `maximumTailEventsWithoutLists` otherwise: see `tailBound`): steps then interleave with group commits, so
// under sustained load the ingest rate falls to the rate at which the indexes can be maintained, and the tail that
// every list scans stays bounded. Each step takes the index table that lags most (in events: an alert index lags by
// the events ingested since the alert at its mark), so alerts are indexed as promptly as events. One index table
// per transaction (not all nine) keeps each hold on the writer, which acks wait behind, to a ninth of a slice.
// A step's index rows and its index's new watermark commit together, so in any snapshot a row is either in that
// index (at or below its mark) or in its tail (above it), never both and never neither.
//
// Failures (a full disk, a read-only file, an I/O error): the step rolls back, so nothing is half-indexed; the
// failure is reported (`Configuration.report`, at most once per doubling of the streak) and indexing is retried
// on a timer with exponential backoff (`indexRetryInitialDelay`...`indexRetryMaximumDelay`), whatever ingest does:
// an idle store catches up once space returns, and while the streak lasts group commits and pauses queue no step,
// so a failing indexer neither spins nor makes every commit pay for a step that cannot succeed.
import Dispatch
import Synchronization
import VigilSQLite

extension SQLiteStore {
    /// How far the most behind index table lags, in events (0 when every index is current): what bounds the tail a
    /// list may have to scan, and whether indexing has work.
    static func tailEvents(_ database: Database) throws -> Int64 {
        try Self.indexProgress(database).tailEvents
    }

    /// Every index's watermark and each table's last id, in one statement (a few primary-key lookups per index).
    static func indexProgress(_ database: Database) throws -> IndexProgress {
        let marks = try database.cachedStatement(
            """
            SELECT m.name, m.table_name, m.indexed_through,
                CASE m.table_name WHEN 'events' THEN m.indexed_through
                    ELSE coalesce((SELECT event_id FROM alerts WHERE id <= m.indexed_through ORDER BY id DESC LIMIT 1), 0)
                END,
                \(Self.lastEventIDSQL), (SELECT coalesce(max(id), 0) FROM alerts)
            FROM index_marks m
            """
        )
        var lastIDs: [String: Int64] = [:]
        let rows = try marks.rows(arguments: []) { row in
            lastIDs = ["events": row.int64(at: 4), "alerts": row.int64(at: 5)]
            return IndexProgress.Mark(
                index: try row.string(at: 0) ?? "", table: try row.string(at: 1) ?? "",
                indexedThrough: row.int64(at: 2), coveredEventID: row.int64(at: 3))
        }
        return IndexProgress(marks: rows, lastIDs: lastIDs, lastEventID: lastIDs["events"] ?? 0)
    }

    /// Queues an indexing step unless one is queued already or indexing backs off after a failure (`isRetry`: the
    /// backoff timer's own call, which may). The step starts on the indexer's read connection: when it is a postings
    /// step, the slice is read, grouped, sorted and encoded there, off the writer thread that every ack waits on, and
    /// the writer only inserts the chunk rows (profile: a third of the writer's time went to building postings).
    /// `onWriterOnly` skips the indexer's connection (at open: a step queued on the writer before any other job).
    func scheduleIndexing(isRetry: Bool = false, onWriterOnly: Bool = false) {
        guard self.ingestCommitter.claimIndexing(isRetry: isRetry) else { return }
        let fail: @Sendable (StoreError) -> Void = { error in
            self.ingestCommitter.finishIndexing(ran: false)
            // A step refused by a full queue is tried again on the retry timer: while indexing backs off only the
            // timer queues steps, and a pass in progress may see no group commit or pause to resume it. (After
            // shutdown nothing is retried.)
            if error.code == .overloaded {
                let failures = self.ingestCommitter.indexingFailures
                self.armIndexingRetry(after: self.indexRetryDelay(afterFailures: failures))
            }
        }
        let step = { @Sendable (prepared: PreparedStep?) in
            let job = ConnectionWorkers.Job(
                run: { database in self.runIndexingSlice(database, prepared: prepared) }, fail: fail)
            if let refusal = self.writer.submit(job) { job.fail(refusal) }
        }
        guard !onWriterOnly else { return step(nil) }
        let prepare = ConnectionWorkers.Job(run: { reader in step(self.preparePostingsStep(reader)) }, fail: fail)
        if let refusal = self.indexer.submit(prepare) { prepare.fail(refusal) }
    }

    /// A postings slice built off the writer, with the retention count read before its snapshot began.
    struct PreparedStep: Sendable {
        let postings: PreparedPostings
        let retentionCommits: UInt64
    }

    /// On the indexer's connection: builds the next step's postings when the next step is a postings one; nil otherwise
    /// or when the read failed (the writer then takes the step itself, reporting any failure as it always has).
    private func preparePostingsStep(_ reader: Database) -> PreparedStep? {
        let retentionCommits = self.retentionCommits.load(ordering: .sequentiallyConsistent)
        let postings = try? reader.transaction(.deferred) { database -> PreparedPostings? in
            let progress = try Self.indexProgress(database)
            guard let step = progress.nextStep(rows: self.configuration.indexSliceEvents),
                Self.postingsIndexes[step.index] != nil
            else { return nil }
            let together = Self.postingsIndexes(of: step.table, at: step.from, in: progress)
            return try Self.preparePostings(
                database, table: step.table, indexes: together, from: step.from, through: step.through)
        }
        self.configuration.afterPostingsPrepared?()
        guard let postings = postings ?? nil else { return nil }
        return PreparedStep(postings: postings, retentionCommits: retentionCommits)
    }

    /// The postings indexes of `table` whose watermark is `mark`: derived together, from one read of the slice.
    private static func postingsIndexes(of table: String, at mark: Int64, in progress: IndexProgress) -> [String] {
        progress.marks.filter { candidate in
            Self.postingsIndexes[candidate.index]?.table == table && candidate.indexedThrough == mark
        }.map(\.index)
    }

    /// Inserts a slice prepared off the writer and moves its indexes' watermarks, inside the caller's write
    /// transaction; nil (nothing written) when it went stale meanwhile: a watermark moved (retention indexes the
    /// tail itself) or retention deleted events, which may be in the slice.
    private func applyPrepared(_ database: Database, _ prepared: PreparedStep) throws -> Int? {
        guard prepared.retentionCommits == self.retentionCommits.load(ordering: .sequentiallyConsistent) else {
            return nil
        }
        let postings = prepared.postings
        let marks = try Self.indexProgress(database).marks
        for index in postings.indexes {
            guard marks.first(where: { $0.index == index })?.indexedThrough == postings.from else { return nil }
        }
        try Self.writePostings(database, postings)
        for index in postings.indexes { try Self.advance(database, index, to: postings.through) }
        return Int(postings.through - postings.from)
    }

    /// Called on the writer after each group commit.
    func afterGroupCommit(_ database: Database) {
        let generation = self.ingestCommitter.recordGroupCommit()
        let tail = (try? Self.tailEvents(database)) ?? 0
        guard tail > 0 else { return }
        if tail >= self.tailBound() {
            self.scheduleIndexing()
        } else {
            self.scheduleIndexingAfterPause(since: generation)
        }
    }

    /// The lag past which indexing interleaves with group commits: the lower bound while lists are being served
    /// (they scan the tail), the higher one otherwise (only bursts are served by it).
    func tailBound(now: ContinuousClock.Instant = .now) -> Int64 {
        Self.tailBound(listedWithin: self.lastList.elapsed(now: now), configuration: self.configuration)
    }

    static func tailBound(listedWithin elapsed: Duration?, configuration: Configuration) -> Int64 {
        guard let elapsed, elapsed <= configuration.listDemandWindow else {
            return Int64(configuration.maximumTailEventsWithoutLists)
        }
        return Int64(configuration.maximumTailEvents)
    }

    /// Queues a step after `indexIdleDelay` if no group commit happened meanwhile.
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
        .nanoseconds(Int(clamping: max(delay.wholeNanoseconds, 0)))
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

    /// Queues a retry step after `delay` (the store may be gone by then: then nothing happens).
    private func armIndexingRetry(after delay: Duration) {
        DispatchQueue.global().asyncAfter(deadline: .now() + Self.dispatchInterval(delay)) { [weak self] in
            self?.scheduleIndexing(isRetry: true)
        }
    }

    private func runIndexingSlice(_ database: Database, prepared: PreparedStep?) {
        self.ingestCommitter.finishIndexing(ran: true)
        let generation = self.ingestCommitter.groupCommits
        let indexed: Int
        do {
            indexed = try database.transaction(.immediate) { database in
                if let prepared, let moved = try self.applyPrepared(database, prepared) { return moved }
                return try Self.indexStep(database, rows: self.configuration.indexSliceEvents)
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
            let progress = try Self.indexProgress(database)
            guard indexed > 0, progress.tailEvents > 0 else { return }
            if progress.passInProgress || progress.tailEvents >= self.tailBound()
                || self.ingestCommitter.isIdleOnWriter(since: generation)
            {
                // A pass not finished, still over the bound, or still paused: keep going (behind whatever else
                // waits for the writer, so group commits interleave with the steps).
                self.scheduleIndexing()
            }
        } catch {
            // The step committed; only reading the tail failed. The next group commit or pause looks again.
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

    /// Runs the next step of the current pass (IndexProgress) inside the caller's write transaction; returns how
    /// many ids its index's watermark moved by (0: every index is current).
    @discardableResult
    static func indexStep(_ database: Database, rows: Int) throws -> Int {
        let progress = try Self.indexProgress(database)
        guard let step = progress.nextStep(rows: rows) else { return 0 }
        if Self.postingsIndexes[step.index] != nil {
            let together = Self.postingsIndexes(of: step.table, at: step.from, in: progress)
            try Self.derivePostings(
                database, table: step.table, indexes: together, from: step.from, through: step.through)
            for index in together { try Self.advance(database, index, to: step.through) }
            return Int(step.through - step.from)
        }
        for (table, indexes) in Self.indexTables where table == step.table {
            for index in indexes where index.name == step.index {
                try Self.derive(database, index: index, of: table, from: step.from, through: step.through)
                return Int(step.through - step.from)
            }
        }
        return 0
    }

    /// Indexes up to `rows` more rows into every index table inside the caller's write transaction (tests, and
    /// retention, which walks indexed rows); returns the most ids any watermark moved by.
    @discardableResult
    static func indexSlice(_ database: Database, rows: Int) throws -> Int {
        var moved = 0
        for (table, indexes) in Self.indexTables {
            for index in indexes { moved = max(moved, try Self.extend(database, index: index, of: table, rows: rows)) }
        }
        return moved
    }

    /// Derives the rows of `index` for up to `rows` ids of `table` above its watermark and moves the watermark past
    /// them; returns how many ids it moved by.
    private static func extend(
        _ database: Database,
        index: (name: String, columns: String),
        of table: String,
        rows: Int
    ) throws -> Int {
        let last = table == "events" ? Self.lastEventIDSQL : "coalesce((SELECT max(id) FROM alerts), 0)"
        let bounds = try database.cachedStatement(
            """
            SELECT (SELECT indexed_through FROM index_marks WHERE name = ?), \(last)
            """
        )
        guard let (mark, last) = try bounds.firstRow(arguments: [index.name], { row in (row.int64(at: 0), row.int64(at: 1)) })
        else { return 0 }
        let through = min(mark + Int64(max(rows, 1)), last)
        guard through > mark else { return 0 }
        try Self.derive(database, index: index, of: table, from: mark, through: through)
        return Int(through - mark)
    }

    /// Indexes `table`'s ids in (`from`, `through`] into `index` (rows or postings) and moves its watermark to
    /// `through`.
    private static func derive(
        _ database: Database,
        index: (name: String, columns: String),
        of table: String,
        from: Int64,
        through: Int64
    ) throws {
        if Self.postingsIndexes[index.name] != nil {
            try Self.derivePostings(database, table: table, indexes: [index.name], from: from, through: through)
        } else {
            try Self.deriveRows(database, index: index, of: table, from: from, through: through)
        }
        try Self.advance(database, index.name, to: through)
    }

    private static func advance(_ database: Database, _ index: String, to through: Int64) throws {
        let advance = try database.cachedStatement("UPDATE index_marks SET indexed_through = ? WHERE name = ?")
        try advance.execute(arguments: [through, index])
    }

    /// Inserts the index rows of `table`'s ids in (`from`, `through`] into the index table `index`.
    private static func deriveRows(
        _ database: Database,
        index: (name: String, columns: String),
        of table: String,
        from: Int64,
        through: Int64
    ) throws {
        // Sorted by the index key, so each index page is filled in order and touched once per step. `OR IGNORE`
        // because a statement that may abort half way inside a transaction makes SQLite copy every page it changes
        // into a statement journal first (a temp file: 92 MB in 5 s of sustained ingest, `strace`), in case it has
        // to undo itself; no row it inserts can already be there (ids above the watermark are in no index). The
        // writes went, the sustained rate did not move (page-cache writes were cheap): docs/STORAGE.md.
        let insert = try database.cachedStatement(
            """
            INSERT OR IGNORE INTO \(index.name) (\(index.columns)) SELECT \(index.columns) FROM \(table)
            WHERE id > ? AND id <= ? ORDER BY \(index.columns)
            """
        )
        try insert.execute(arguments: [from, through])
    }
}
