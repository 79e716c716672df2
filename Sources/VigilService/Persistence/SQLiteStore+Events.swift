// Storing and reading events. A batch is one transaction: its events, the one OPEN alert of each HIGH or CRITICAL
// event, and the idempotency checks all commit together or not at all, so a reader never sees an event without
// its alert, and a failed batch leaves nothing behind. `events` and `alerts` have no secondary index on the write
// path (docs/STORAGE.md): an insert is an append plus, for keyed events only, one primary-key probe and insert in
// `idempotency_keys`; the indexer derives the list indexes later. Ids come from `IDAllocator`.
import VigilAPI
import VigilSQLite

extension SQLiteStore {
    public func insertEvents(
        _ events: [NewEvent],
        submittedBy submitter: ActingUser
    ) async throws(StoreError) -> [InsertOutcome] {
        for event in events { _ = try validSeverity(event.severity) }
        guard !events.isEmpty else { return [] }
        let clock = self.clock
        return try await self.write { database in
            // Read on the writer, so receive times follow the order of commits.
            try Self.insertBatch(database, events, submittedBy: submitter, receivedAt: clock())
        }
    }

    /// Inserts `events` inside the caller's write transaction. Keys already stored for the submitter, including by
    /// an earlier event of the same batch (the transaction sees its own writes), make a `duplicate`.
    static func insertBatch(
        _ database: Database,
        _ events: [NewEvent],
        submittedBy submitter: ActingUser,
        receivedAt clockReading: Int64
    ) throws -> [InsertOutcome] {
        let findKey = try database.cachedStatement(
            "SELECT event_id FROM idempotency_keys WHERE user_id = ? AND key = ?"
        )
        let insertKey = try database.cachedStatement(
            "INSERT INTO idempotency_keys (user_id, key, event_id) VALUES (?, ?, ?)"
        )
        let insertEvent = try database.cachedStatement(
            """
            INSERT INTO events (id, source_name, event_type, severity, description, occurred_at, received_at,
                submitted_by_user_id, submitted_by_username, idempotency_key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        )
        let insertAlert = try database.cachedStatement(
            """
            INSERT INTO alerts (id, event_id, status, created_at, updated_at, resolved_at, version, severity,
                source_name, event_type)
            VALUES (?, ?, 1, ?, ?, NULL, 1, ?, ?, ?)
            """
        )
        var ids = try IDAllocator(database)
        let receivedAt = ids.receivedAt(clockReading)
        var outcomes: [InsertOutcome] = []
        outcomes.reserveCapacity(events.count)
        for event in events {
            let key = event.idempotencyKey.flatMap { $0.isEmpty ? nil : $0 }
            if let key {
                let existing = try findKey.firstRow(arguments: [submitter.userID, key]) { row in row.int64(at: 0) }
                if let existing {
                    outcomes.append(.duplicate(existingEventID: existing))
                    continue
                }
            }
            let eventID = ids.nextEventID()
            if let key { try insertKey.execute(arguments: [submitter.userID, key, eventID]) }
            // Bound one by one rather than as `arguments:`: an array of existentials per row (an allocation, a box
            // per value, a dynamic call per bind) was a tenth of the writer's time in a burst (perf).
            let severity = Int64(event.severity.rawValue)
            try insertEvent.bind(eventID, at: 1)
            try insertEvent.bind(event.sourceName, at: 2)
            try insertEvent.bind(event.eventType, at: 3)
            try insertEvent.bind(severity, at: 4)
            try insertEvent.bind(event.description, at: 5)
            try insertEvent.bind(event.occurredAt ?? receivedAt, at: 6)
            try insertEvent.bind(receivedAt, at: 7)
            try insertEvent.bind(submitter.userID, at: 8)
            try insertEvent.bind(submitter.username, at: 9)
            try insertEvent.bind(key, at: 10)
            try insertEvent.execute()
            var alertID: Int64?
            if event.severity == .high || event.severity == .critical {
                let id = ids.nextAlertID()
                try insertAlert.bind(id, at: 1)
                try insertAlert.bind(eventID, at: 2)
                try insertAlert.bind(receivedAt, at: 3)
                try insertAlert.bind(receivedAt, at: 4)
                try insertAlert.bind(severity, at: 5)
                try insertAlert.bind(event.sourceName, at: 6)
                try insertAlert.bind(event.eventType, at: 7)
                try insertAlert.execute()
                alertID = id
            }
            outcomes.append(.stored(eventID: eventID, alertID: alertID))
        }
        return outcomes
    }

    public func event(id: Int64) async throws(StoreError) -> EventDetail? {
        try await self.read { database in
            try database.queryFirst(
                """
                SELECT \(Rows.eventColumns), a.id FROM events e LEFT JOIN alerts a ON a.event_id = e.id
                WHERE e.id = ?
                """,
                arguments: [id]
            ) { row in
                let alertColumn = Rows.eventColumnCount
                return EventDetail(
                    event: try Rows.event(row),
                    alertID: row.isNull(at: alertColumn) ? nil : row.int64(at: alertColumn)
                )
            }
        }
    }
}
