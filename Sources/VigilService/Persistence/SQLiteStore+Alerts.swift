// Alerts: reading one with its history, and UpdateAlert's optimistic concurrency. The version check and the update
// run in one BEGIN IMMEDIATE transaction on the single writer, so "read version, compare, write" cannot interleave
// with another update: a stale `expectedVersion` is a `conflict` (ABORTED), never a silent overwrite.
public import VigilAPI
import VigilSQLite

extension SQLiteStore {
    public func alert(id: Int64) async throws(StoreError) -> AlertDetail? {
        try await self.read { database in
            guard let alert = try Self.loadAlert(database, id: id) else { return nil }
            let history = try database.query(
                "SELECT \(Rows.alertChangeColumns) FROM alert_changes WHERE alert_id = ? ORDER BY id",
                arguments: [id]
            ) { row in try Rows.alertChange(row) }
            return AlertDetail(alert: alert, history: history)
        }
    }

    public func updateAlert(
        id: Int64,
        status: AlertStatus,
        expectedVersion: Int64,
        by actor: ActingUser
    ) async throws(StoreError) -> Alert {
        let status = try validStatus(status)
        guard expectedVersion > 0 else {
            throw StoreError(.invalidArgument, "expected_version is required (the alert's current version)")
        }
        let now = self.clock()
        return try await self.write { database in
            let current = try database.queryFirst(
                "SELECT status, version, resolved_at, created_at FROM alerts WHERE id = ?",
                arguments: [id]
            ) { row in
                (
                    status: row.int64(at: 0), version: row.int64(at: 1),
                    resolvedAt: row.isNull(at: 2) ? nil : row.int64(at: 2), createdAt: row.int64(at: 3)
                )
            }
            guard let current else { throw StoreError(.notFound, "no alert has id \(id)") }
            guard current.version == expectedVersion else {
                throw StoreError(
                    .conflict,
                    "alert \(id) is at version \(current.version), not \(expectedVersion): it changed since you read it"
                )
            }
            let resolved = Int64(AlertStatus.resolved.rawValue)
            let target = Int64(status.rawValue)
            // Becoming RESOLVED stamps the time; RESOLVED again keeps the first stamp; leaving RESOLVED clears it.
            let resolvedAt: Int64? =
                target == resolved ? (current.status == resolved ? current.resolvedAt ?? now : now) : nil
            let version = current.version + 1
            try database.execute(
                "UPDATE alerts SET status = ?, updated_at = ?, resolved_at = ?, version = ? WHERE id = ?",
                arguments: [target, now, resolvedAt, version, id]
            )
            // Status is the one indexed alert column that changes: move its index row, if it has one yet.
            try database.execute(
                "UPDATE alerts_by_status SET status = ? WHERE status = ? AND created_at = ? AND id = ?",
                arguments: [target, current.status, current.createdAt, id]
            )
            try database.execute(
                """
                INSERT INTO alert_changes (alert_id, changed_by_user_id, changed_by_username, from_status, to_status,
                    changed_at, version)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                arguments: [id, actor.userID, actor.username, current.status, target, now, version]
            )
            guard let alert = try Self.loadAlert(database, id: id) else {
                throw StoreError(.internal, "alert \(id) vanished inside its own update")
            }
            return alert
        }
    }

    static func loadAlert(_ database: Database, id: Int64) throws -> Alert? {
        try database.queryFirst(
            "SELECT \(Rows.alertColumns) FROM alerts a WHERE a.id = ?",
            arguments: [id]
        ) { row in try Rows.alert(row) }
    }
}
