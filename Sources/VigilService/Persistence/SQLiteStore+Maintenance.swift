// GetStats counts and retention. Counts read the index tables (narrow rows, sorted by the counted column) or the
// postings' chunk counts, plus the tail above the watermark (for events, scanned from their batch rows). Retention
// indexes the tail, then walks indexed rows oldest first and deletes each row with its index rows. It deletes in
// bounded chunks, one write transaction each, so the writer (and ingest behind it) never waits long for a retention
// pass however much there is to delete.
import VigilAPI
import Synchronization
import VigilSQLite

extension SQLiteStore {
    /// Events deleted per retention transaction.
    static let retentionChunk = 5_000

    public func stats() async throws(StoreError) -> StoreStats {
        self.lastList.record()  // it counts the tail too
        return try await self.read { database in
            let events = try Self.counts(database, "severity", "events", "events_by_severity")
            let alertsByStatus = try Self.counts(database, "status", "alerts", "alerts_by_status")
            let alertsBySeverity = try Self.counts(database, "severity", "alerts", "alerts_by_severity")
            let severities: [Severity] = [.low, .medium, .high, .critical]
            let statuses: [AlertStatus] = [.open, .acknowledged, .resolved]
            func severityCount(_ severity: Severity, _ counts: [Int64: Int64]) -> SeverityCount {
                var count = SeverityCount()
                count.severity = severity
                count.count = counts[Int64(severity.rawValue)] ?? 0
                return count
            }
            return StoreStats(
                totalEvents: events.values.reduce(0, +),
                totalAlerts: alertsByStatus.values.reduce(0, +),
                eventsBySeverity: severities.map { severityCount($0, events) },
                alertsByStatus: statuses.map { status in
                    var count = AlertStatusCount()
                    count.status = status
                    count.count = alertsByStatus[Int64(status.rawValue)] ?? 0
                    return count
                },
                alertsBySeverity: severities.map { severityCount($0, alertsBySeverity) }
            )
        }
    }

    public func deleteEvents(occurredBefore cutoff: Int64) async throws(StoreError) -> RetentionResult {
        // Retention walks indexed rows: index the tail first (work the indexer would do anyway), a slice at a time,
        // as much of it as there was when the pass began (ingest meanwhile must not keep the pass going forever).
        let slice = max(self.configuration.indexSliceEvents, 1)
        let tail = try await self.write { database in try Self.tailEvents(database) }
        for _ in 0..<((Int(tail) + slice - 1) / slice) {
            guard try await self.write({ database in try Self.indexSlice(database, rows: slice) }) > 0 else { break }
        }
        var total = RetentionResult(events: 0, alerts: 0, alertChanges: 0)
        while true {
            let chunk = try await self.writer.run { database in
                let chunk = try database.transaction(.immediate) { database in
                    try Self.deleteChunk(database, before: cutoff)
                }
                // Counted after the commit and before the writer's next job: see `retentionCommits`.
                if chunk.events > 0 { self.retentionCommits.add(1, ordering: .sequentiallyConsistent) }
                return chunk
            }
            total.events += chunk.events
            total.alerts += chunk.alerts
            total.alertChanges += chunk.alertChanges
            if chunk.events < Self.retentionChunk { return total }
        }
    }

    /// Writes a consistent copy of the database to `path` (`vigild backup --to FILE`): SQLite's online backup from
    /// one WAL snapshot, run on a reader connection so the writer (and ingest) keep committing meanwhile. The copy
    /// holds exactly the transactions committed before it began.
    public func backup(to path: String) async throws(StoreError) {
        try await self.readers.run { database in try database.backup(to: path) }
    }

    private static func deleteChunk(_ database: Database, before cutoff: Int64) throws -> RetentionResult {
        let victims = try Self.retentionVictims(database, before: cutoff, limit: Self.retentionChunk)
        try Self.removePostings(database, table: "events", of: victims.map(\.postings))
        // An alert's postings entries have its own id and its event's severity, source and type.
        try Self.removePostings(
            database, table: "alerts",
            of: victims.compactMap { victim in
                victim.alert.map { alert in
                    PostingsVictim(
                        id: alert, severity: victim.postings.severity, sourceName: victim.postings.sourceName,
                        eventType: victim.postings.eventType)
                }
            })
        var result = RetentionResult(events: 0, alerts: 0, alertChanges: 0)
        result.events = try Self.removeEvents(database, Set(victims.map(\.event)))
        for victim in victims {
            if let alert = victim.alert {
                try database.execute("DELETE FROM alert_changes WHERE alert_id = ?", arguments: [alert])
                result.alertChanges += database.changes
                try Self.deleteIndexRows(database, of: "alerts", id: alert)
                try database.execute("DELETE FROM alerts WHERE id = ?", arguments: [alert])
                result.alerts += database.changes
            }
            if let key = victim.key {
                try database.execute(
                    "DELETE FROM idempotency_keys WHERE user_id = ? AND key = ?", arguments: [victim.submitter, key])
            }
        }
        return result
    }

    /// An event retention deletes, with what names its rows elsewhere.
    private struct Victim {
        let event: Int64
        let submitter: Int64
        let key: String?
        let alert: Int64?
        let postings: PostingsVictim
    }

    /// Up to `limit` events that occurred before `cutoff`, oldest first along events_by_time's postings (the pass
    /// indexed the tail first), skipping those whose alert is not RESOLVED (an open alert keeps its event). Events
    /// are looked up 64 at a time, like a list's.
    private static func retentionVictims(_ database: Database, before cutoff: Int64, limit: Int) throws -> [Victim] {
        let bounds = PostingBounds(ascending: true, before: cutoff)
        var walk = PostingsWalk(
            try PostingsDirectory(database, index: "events_by_time", key: "", bounds: bounds), bounds: bounds)
        var victims: [Victim] = []
        var candidates: [Int64] = []
        let lookup = EventLookup(database)
        let findAlert = try database.cachedStatement("SELECT id, status FROM alerts WHERE event_id = ?")
        func read() throws {
            defer { candidates = [] }
            let events = try lookup.events(ids: candidates)
            for id in candidates {
                guard let event = events[id] else { continue }
                let alert = try findAlert.firstRow(arguments: [id]) { row in (id: row.int64(at: 0), status: row.int64(at: 1)) }
                if let alert, alert.status != Int64(AlertStatus.resolved.rawValue) { continue }
                victims.append(
                    Victim(
                        event: id, submitter: event.submittedByUserId,
                        key: event.idempotencyKey.isEmpty ? nil : event.idempotencyKey, alert: alert?.id,
                        postings: PostingsVictim(
                            id: id, severity: Int64(event.severity.rawValue), sourceName: event.sourceName,
                            eventType: event.eventType)))
            }
        }
        while victims.count < limit, let entry = try walk.next() {
            candidates.append(entry.id)
            if candidates.count == PostingsFetcher<Event>.batch { try read() }
        }
        try read()
        return Array(victims.prefix(limit))
    }

    /// Deletes the index rows of one row of `table` (before the row itself: its columns name them), for every index
    /// table the indexer derives from it, each a primary-key lookup. (Postings are rewritten per chunk of victims.)
    private static func deleteIndexRows(_ database: Database, of table: String, id: Int64) throws {
        for (indexed, indexes) in Self.indexTables where indexed == table {
            for index in indexes where Self.postingsIndexes[index.name] == nil {
                let delete = try database.cachedStatement(
                    """
                    DELETE FROM \(index.name) WHERE (\(index.columns)) IN
                        (SELECT \(index.columns) FROM \(table) WHERE id = ?)
                    """
                )
                try delete.execute(arguments: [id])
            }
        }
    }

    /// Row counts by `column`: from the index for indexed rows (an index table's rows, or a postings index's chunk
    /// counts, whose keys are the ranks as text: no chunk is read), from `table` for the tail above that index's
    /// watermark (every name is a constant).
    private static func counts(
        _ database: Database, _ column: String, _ table: String, _ index: String
    ) throws -> [Int64: Int64] {
        var counts: [Int64: Int64] = [:]
        let mark = "(SELECT indexed_through FROM index_marks WHERE name = '\(index)')"
        let indexed =
            Self.postingsIndexes[index] != nil
            ? "SELECT CAST(key AS INTEGER), sum(count) FROM postings WHERE index_name = '\(index)' GROUP BY key"
            : "SELECT \(column), count(*) FROM \(index) GROUP BY \(column)"
        var queries = [indexed]
        if table == "events" {
            // Events have no columns: the tail's severities are scanned from their batch rows.
            let readMark = try database.cachedStatement("SELECT indexed_through FROM index_marks WHERE name = ?")
            let after = try readMark.firstRow(arguments: [index]) { row in row.int64(at: 0) } ?? 0
            try Self.forEachEventBatch(database, after: after) { batch in
                for index in 0..<batch.count where batch.id(at: index) > after {
                    counts[Int64(try batch.fields(at: index).severity), default: 0] += 1
                }
            }
        } else {
            queries.append("SELECT \(column), count(*) FROM \(table) WHERE id > \(mark) GROUP BY \(column)")
        }
        for sql in queries {
            for (key, count) in try database.query(sql, { row in (row.int64(at: 0), row.int64(at: 1)) }) {
                counts[key, default: 0] += count
            }
        }
        return counts
    }
}
