// The indexer: moves the oldest rows of the recent tail into the indexed tables, in one transaction per slice, on
// the writer thread between ingest group commits. Why (docs/STORAGE.md): every secondary index entry costs a
// B-tree descent and dirties a page that the commit then writes to the WAL, so maintaining nine indexes per
// acknowledged batch caps ingest far below the append rate; moving rows in large slices touches each index page
// once per slice instead, and takes the index work off the acknowledgement's path.
//
// Policy: a slice runs once ingest has paused for `indexIdleDelay` (no group commit since), so a burst is
// acknowledged at the append rate; or, while ingest is busy, after every group commit once the tail has grown past
// `maximumTailEvents`: slices then interleave with group commits, so under sustained load the ingest rate falls to
// the rate at which the indexes can be maintained, and the tail that every list scans stays bounded. A slice run in
// a pause queues the next while the pause lasts, so an idle store drains its tail.
// Rows are moved, never copied twice: the move and the delete commit together, and readers see a row in exactly
// one of the two tables in any snapshot.
import Dispatch
import VigilSQLite

extension SQLiteStore {
    /// Events in the recent tail: ids are allocated densely, so the id range is the count (O(1) to read).
    static func tailEvents(_ database: Database) throws -> Int64 {
        let range = try database.cachedStatement("SELECT coalesce(max(id) - min(id) + 1, 0) FROM events_recent")
        return try range.firstRow { row in row.int64(at: 0) } ?? 0
    }

    /// Queues an indexing slice unless one is queued already.
    func scheduleIndexing(force: Bool = false) {
        guard self.ingestCommitter.claimIndexing() else { return }
        let job = ConnectionWorkers.Job(
            run: { database in self.runIndexingSlice(database) },
            fail: { _ in self.ingestCommitter.finishIndexing() }
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
    private func scheduleIndexingAfterPause(since generation: UInt64) {
        let delay = self.configuration.indexIdleDelay
        let nanoseconds = max(Int(delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000), 0)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { [weak self] in
            guard let self, self.ingestCommitter.groupCommits == generation else { return }
            self.scheduleIndexing()
        }
    }

    private func runIndexingSlice(_ database: Database) {
        self.ingestCommitter.finishIndexing()
        let generation = self.ingestCommitter.groupCommits
        do {
            let moved = try database.transaction(.immediate) { database in
                try Self.moveSlice(database, events: self.configuration.indexSliceEvents)
            }
            let tail = try Self.tailEvents(database)
            guard moved > 0, tail > 0 else { return }
            if tail >= Int64(self.configuration.maximumTailEvents) || self.ingestCommitter.groupCommits == generation {
                // Still over the bound, or still paused: keep going (behind whatever else waits for the writer).
                self.scheduleIndexing()
            }
        } catch {
            // Nothing moved (the transaction rolled back); the next group commit tries again.
        }
    }

    /// Moves up to `events` of the oldest recent events, and their alerts, into the indexed tables; returns how
    /// many events moved.
    @discardableResult
    static func moveSlice(_ database: Database, events: Int) throws -> Int {
        let boundary = try database.cachedStatement(
            "SELECT id FROM events_recent ORDER BY id LIMIT 1 OFFSET ?"
        )
        let last = try database.cachedStatement("SELECT max(id) FROM events_recent")
        guard
            let through = try boundary.firstRow(arguments: [max(events, 1) - 1], { row in row.int64(at: 0) })
                ?? (try last.firstRow { row in row.isNull(at: 0) ? nil : row.int64(at: 0) } ?? nil)
        else { return 0 }
        let moveEvents = try database.cachedStatement(
            """
            INSERT INTO events (id, source_name, event_type, severity, description, occurred_at, received_at,
                submitted_by_user_id, submitted_by_username, idempotency_key)
            SELECT id, source_name, event_type, severity, description, occurred_at, received_at,
                submitted_by_user_id, submitted_by_username, idempotency_key
            FROM events_recent WHERE id <= ? ORDER BY id
            """
        )
        let moveAlerts = try database.cachedStatement(
            """
            INSERT INTO alerts (id, event_id, status, created_at, updated_at, resolved_at, version, severity,
                source_name, event_type)
            SELECT id, event_id, status, created_at, updated_at, resolved_at, version, severity, source_name,
                event_type
            FROM alerts_recent WHERE event_id <= ? ORDER BY id
            """
        )
        let dropAlerts = try database.cachedStatement("DELETE FROM alerts_recent WHERE event_id <= ?")
        let dropEvents = try database.cachedStatement("DELETE FROM events_recent WHERE id <= ?")
        try moveEvents.execute(arguments: [through])
        let moved = database.changes
        try moveAlerts.execute(arguments: [through])
        try dropAlerts.execute(arguments: [through])
        try dropEvents.execute(arguments: [through])
        return moved
    }
}
