// Storing and reading events. A batch is one transaction: its events, the one OPEN alert of each HIGH or CRITICAL
// event, and the idempotency checks all commit together or not at all, so a reader never sees an event without
// its alert, and a failed batch leaves nothing behind. The batch's events are one row of `event_batches`
// (SQLiteStore+EventBatches) and each alert one row of `alerts`, neither with a secondary index on the write path
// (docs/STORAGE.md): an insert is an append plus, for keyed events only, one primary-key probe and insert in
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
        let insertAlert = try database.cachedStatement(
            """
            INSERT INTO alerts (id, event_id, status, created_at, updated_at, resolved_at, version, severity,
                source_name, event_type, event)
            VALUES (?, ?, 1, ?, ?, NULL, 1, ?, ?, ?, ?)
            """
        )
        var ids = try IDAllocator(database)
        let receivedAt = ids.receivedAt(clockReading)
        let rowLimit = try Self.batchRowLimit(database)
        var batch = EventBatchBuilder(capacity: events.count)
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
            var stored = Event()
            stored.id = eventID
            stored.sourceName = event.sourceName
            stored.eventType = event.eventType
            stored.severity = event.severity
            stored.description = event.description
            stored.occurredAt = Timestamp(unixNanoseconds: event.occurredAt ?? receivedAt)
            stored.receivedAt = Timestamp(unixNanoseconds: receivedAt)
            stored.submittedByUserId = submitter.userID
            stored.submittedByUsername = submitter.username
            stored.idempotencyKey = key ?? ""
            let size = stored.serializedSize()
            if !batch.fits(eventOfSize: size, within: rowLimit) {
                try Self.appendEventBatch(database, batch)
                batch = EventBatchBuilder(capacity: events.count)
            }
            let encoding = batch.append(stored)
            var alertID: Int64?
            if event.severity == .high || event.severity == .critical {
                // Bound one by one rather than as `arguments:`: an array of existentials per row (an allocation, a
                // box per value, a dynamic call per bind) was a tenth of the writer's time in a burst (perf).
                let id = ids.nextAlertID()
                try insertAlert.bind(id, at: 1)
                try insertAlert.bind(eventID, at: 2)
                try insertAlert.bind(receivedAt, at: 3)
                try insertAlert.bind(receivedAt, at: 4)
                try insertAlert.bind(Int64(event.severity.rawValue), at: 5)
                try insertAlert.bind(event.sourceName, at: 6)
                try insertAlert.bind(event.eventType, at: 7)
                try insertAlert.bind(batch.encoding(in: encoding), at: 8)
                try insertAlert.execute()
                alertID = id
            }
            outcomes.append(.stored(eventID: eventID, alertID: alertID))
        }
        // A row for every few dozen events the batch stored (batchRowLimit), not one per event.
        try Self.appendEventBatch(database, batch)
        return outcomes
    }

    public func event(id: Int64) async throws(StoreError) -> EventDetail? {
        try await self.read { database in
            guard let event = try EventLookup(database).event(id: id) else { return nil }
            let alert = try database.queryFirst("SELECT id FROM alerts WHERE event_id = ?", arguments: [id]) { row in
                row.int64(at: 0)
            }
            return EventDetail(event: event, alertID: alert)
        }
    }
}
