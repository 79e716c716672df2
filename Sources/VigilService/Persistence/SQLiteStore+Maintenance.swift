// GetStats counts and retention. Retention covers the indexed tables and the recent tail. It deletes in bounded chunks, one write transaction each, so the writer
// (and ingest behind it) never waits long for a retention pass however much there is to delete.
import VigilAPI
import VigilSQLite

extension SQLiteStore {
    /// Events deleted per retention transaction.
    static let retentionChunk = 5_000

    public func stats() async throws(StoreError) -> StoreStats {
        try await self.read { database in
            let events = try Self.counts(database, "severity", "events")
            let alertsByStatus = try Self.counts(database, "status", "alerts")
            let alertsBySeverity = try Self.counts(database, "severity", "alerts")
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
        var total = RetentionResult(events: 0, alerts: 0, alertChanges: 0)
        while true {
            let chunk = try await self.write { database in try Self.deleteChunk(database, before: cutoff) }
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

    /// One chunk from the indexed tables, or from the recent tail once they hold nothing more to delete.
    private static func deleteChunk(_ database: Database, before cutoff: Int64) throws -> RetentionResult {
        let indexed = try self.deleteChunk(database, before: cutoff, tables: ("events", "alerts"))
        guard indexed.events < Self.retentionChunk else { return indexed }
        let tail = try self.deleteChunk(database, before: cutoff, tables: ("events_recent", "alerts_recent"))
        return RetentionResult(
            events: indexed.events + tail.events, alerts: indexed.alerts + tail.alerts,
            alertChanges: indexed.alertChanges + tail.alertChanges)
    }

    private static func deleteChunk(
        _ database: Database,
        before cutoff: Int64,
        tables: (events: String, alerts: String)
    ) throws -> RetentionResult {
        // Oldest first along events_occurred (in the tail: a scan of few rows); an event whose alert is not
        // RESOLVED keeps both.
        let victims = try database.query(
            """
            SELECT e.id, a.id, e.submitted_by_user_id, e.idempotency_key
            FROM \(tables.events) e LEFT JOIN \(tables.alerts) a ON a.event_id = e.id
            WHERE e.occurred_at < ? AND (a.id IS NULL OR a.status = 3)
            ORDER BY e.occurred_at LIMIT ?
            """,
            arguments: [cutoff, Self.retentionChunk]
        ) { row in
            (
                event: row.int64(at: 0), alert: row.isNull(at: 1) ? nil : row.int64(at: 1),
                submitter: row.int64(at: 2), key: try row.string(at: 3)
            )
        }
        var result = RetentionResult(events: 0, alerts: 0, alertChanges: 0)
        for victim in victims {
            if let alert = victim.alert {
                try database.execute("DELETE FROM alert_changes WHERE alert_id = ?", arguments: [alert])
                result.alertChanges += database.changes
                try database.execute("DELETE FROM \(tables.alerts) WHERE id = ?", arguments: [alert])
                result.alerts += database.changes
            }
            try database.execute("DELETE FROM \(tables.events) WHERE id = ?", arguments: [victim.event])
            result.events += database.changes
            if let key = victim.key {
                try database.execute(
                    "DELETE FROM idempotency_keys WHERE user_id = ? AND key = ?", arguments: [victim.submitter, key])
            }
        }
        return result
    }

    /// Row counts by `column` over the indexed table and its recent tail (both names are constants).
    private static func counts(_ database: Database, _ column: String, _ table: String) throws -> [Int64: Int64] {
        var counts: [Int64: Int64] = [:]
        for source in [table, table + "_recent"] {
            let sql = "SELECT \(column), count(*) FROM \(source) GROUP BY \(column)"
            for (key, count) in try database.query(sql, { row in (row.int64(at: 0), row.int64(at: 1)) }) {
                counts[key, default: 0] += count
            }
        }
        return counts
    }
}
