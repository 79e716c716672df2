// Migration 0009: events move from a row each to a few dozen per row (`event_batches`; EventBatchRecord,
// docs/STORAGE.md "A row per acknowledged batch"). Written in Swift because the blob is protobuf, which SQL cannot
// encode. Existing events are converted into batch rows in id order, as many per row as fit `batchRowLimit` (ids
// need not be contiguous within a row); each alert gets a copy of its event's encoding (`alerts.event`, so an alert
// is read without looking its event up); and `events` goes. Its foreign key from `alerts.event_id` goes first:
// SQLite cannot drop a constraint, so the table's stored definition is edited (`writable_schema`) and the schema
// cookie bumped, the documented way.
import VigilAPI
import VigilSQLite

extension StoreSchema {
    static let eventBatches = Migration("0009_event_batches") { database in
        try database.execute(
            """
            CREATE TABLE event_batches (
                first_id INTEGER PRIMARY KEY,
                last_id INTEGER NOT NULL,
                count INTEGER NOT NULL,
                -- EventBatchRecord: a table of ids and offsets, then each event's vigil.v1.Event encoding.
                events BLOB NOT NULL
            ) STRICT;
            -- The event's vigil.v1.Event encoding: an alert is read with its event, without a lookup.
            ALTER TABLE alerts ADD COLUMN event BLOB;
            """)
        let cookie = try database.queryFirst("PRAGMA schema_version") { row in row.int64(at: 0) } ?? 0
        try database.execute("PRAGMA writable_schema = ON")
        try database.execute(
            """
            UPDATE sqlite_schema SET sql = replace(sql, 'UNIQUE REFERENCES events (id)', 'UNIQUE')
            WHERE type = 'table' AND name = 'alerts'
            """)
        try database.execute("PRAGMA writable_schema = OFF")
        try database.execute("PRAGMA schema_version = \(cookie + 1)")
        try Self.convertEventRows(database)
        try database.execute("DROP TABLE events")
    }

    /// Rewrites every `events` row into batch rows and copies each alert's event into it, 10,000 events at a time:
    /// each slice is read whole before anything is written (no statement reads a table the conversion is writing),
    /// so memory stays bounded however large the old table.
    private static func convertEventRows(_ database: Database) throws {
        let select = try database.cachedStatement(
            """
            SELECT e.id, e.source_name, e.event_type, e.severity, e.description, e.occurred_at, e.received_at,
                e.submitted_by_user_id, e.submitted_by_username, e.idempotency_key, a.id
            FROM events e LEFT JOIN alerts a ON a.event_id = e.id WHERE e.id > ? ORDER BY e.id LIMIT 10000
            """)
        let updateAlert = try database.cachedStatement("UPDATE alerts SET event = ? WHERE id = ?")
        let rowLimit = try SQLiteStore.batchRowLimit(database)
        var after = Int64.min
        var batch = EventBatchBuilder(capacity: 100)
        while true {
            let slice = try select.rows(arguments: [after]) { row in
                var event = Event()
                event.id = row.int64(at: 0)
                event.sourceName = try row.string(at: 1) ?? ""
                event.eventType = try row.string(at: 2) ?? ""
                event.severity = Severity(rawValue: Int32(truncatingIfNeeded: row.int64(at: 3)))
                event.description = try row.string(at: 4) ?? ""
                event.occurredAt = Timestamp(unixNanoseconds: row.int64(at: 5))
                event.receivedAt = Timestamp(unixNanoseconds: row.int64(at: 6))
                event.submittedByUserId = row.int64(at: 7)
                event.submittedByUsername = try row.string(at: 8) ?? ""
                event.idempotencyKey = try row.string(at: 9) ?? ""
                return (event: event, alert: row.isNull(at: 10) ? nil : row.int64(at: 10))
            }
            guard let last = slice.last else { break }
            for (event, alert) in slice {
                if !batch.fits(eventOfSize: event.serializedSize(), within: rowLimit) || !batch.accepts(id: event.id) {
                    try SQLiteStore.appendEventBatch(database, batch)
                    batch = EventBatchBuilder(capacity: 100)
                }
                let range = batch.append(event)
                if let alert { try updateAlert.execute(arguments: [batch.encoding(in: range), alert]) }
            }
            after = last.event.id
        }
        try SQLiteStore.appendEventBatch(database, batch)
    }
}
