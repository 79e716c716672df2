// Events are stored a batch per row (`event_batches`, migration 0009; EventBatchRecord has the blob's layout): one
// B-tree insert acknowledges a whole ingest batch, where a row per event cost one per event and was most of the
// writer's time (docs/STORAGE.md, "A row per acknowledged batch"). Events never change, so a batch row is written
// once and only retention rewrites it. Everything that reads events by id or by id range comes through here.
import VigilAPI
import VigilSQLite
import VigilWire

extension SQLiteStore {
    /// SQL for the largest stored event id, 0 when there is none: the newest batch's last id (one primary-key
    /// step).
    static let lastEventIDSQL =
        "coalesce((SELECT last_id FROM event_batches ORDER BY first_id DESC LIMIT 1), 0)"

    /// The largest blob to write in one row: a third of a page less room for the row's other columns, so that rows
    /// never spill into overflow pages and three share a page. A batch of 100 events (~16 KB) in one row did spill
    /// on 16 KiB pages: reading one event then read two pages and SQLite copied the whole row, and ListEvents made
    /// 2,200 calls/s where rows of an event each had made 3,100.
    static func batchRowLimit(_ database: Database) throws -> Int {
        let pageSize = try database.cachedStatement("PRAGMA page_size").firstRow { row in row.int64(at: 0) } ?? 4_096
        return max(Int(pageSize) / 3 - 64, 256)
    }

    /// Inserts the built batch as one row (nothing when it is empty), inside the caller's write transaction.
    static func appendEventBatch(_ database: Database, _ batch: EventBatchBuilder) throws {
        guard let firstID = batch.firstID else { return }
        let insert = try database.cachedStatement(
            "INSERT INTO event_batches (first_id, last_id, count, events) VALUES (?, ?, ?, ?)")
        try insert.bind(firstID, at: 1)
        try insert.bind(batch.lastID, at: 2)
        try insert.bind(Int64(batch.count), at: 3)
        try insert.bind(batch.encoded(), at: 4)
        try insert.execute()
    }

    /// Calls `body` with every batch holding an id in (`after`, `through`], in id order (newest first when
    /// `descending`): from the batch holding the first such id (the newest starting at or below it) onwards.
    static func forEachEventBatch(
        _ database: Database, after: Int64, through: Int64 = .max, descending: Bool = false,
        _ body: (EventBatchRecord) throws -> Void
    ) throws {
        guard after < through else { return }
        let select = try database.cachedStatement(
            """
            SELECT first_id, events FROM event_batches
            WHERE first_id >= coalesce(
                (SELECT first_id FROM event_batches WHERE first_id <= ?1 ORDER BY first_id DESC LIMIT 1), 0)
            AND first_id <= ?2 ORDER BY first_id \(descending ? "DESC" : "ASC")
            """)
        try select.forEachRow(arguments: [after == .max ? after : after + 1, through]) { row in
            try body(try Self.eventBatch(row))
        }
    }

    /// Deletes the events `ids` from their batch rows (retention): a batch losing all its events is deleted, one
    /// keeping some is written again with the rest (its first id may change). Returns how many events went.
    static func removeEvents(_ database: Database, _ ids: Set<Int64>) throws -> Int {
        guard let lowest = ids.min(), let highest = ids.max() else { return 0 }
        var rewritten: [(firstID: Int64, kept: EventBatchBuilder)] = []
        var removed = 0
        try Self.forEachEventBatch(database, after: lowest == .min ? lowest : lowest - 1, through: highest) { batch in
            var kept = EventBatchBuilder(capacity: batch.count)
            for index in 0..<batch.count {
                let id = batch.id(at: index)
                if ids.contains(id) {
                    removed += 1
                } else if let encoding = batch.encoding(at: index) {
                    kept.append(id: id, encoding: encoding)
                }
            }
            if kept.count < batch.count { rewritten.append((batch.firstID, kept)) }
        }
        let delete = try database.cachedStatement("DELETE FROM event_batches WHERE first_id = ?")
        for batch in rewritten {
            try delete.execute(arguments: [batch.firstID])
            try Self.appendEventBatch(database, batch.kept)
        }
        return removed
    }

    /// The batch in columns (first_id, events) of `row`.
    static func eventBatch(_ row: Statement, at column: Int = 0) throws -> EventBatchRecord {
        try EventBatchRecord(firstID: row.int64(at: column), bytes: try row.blob(at: column + 1) ?? [])
    }
}

/// Reads events by id from their batch rows: one row lookup per batch the ids fall in, and of each row only its
/// header and the wanted events' bytes are copied (a row is up to a third of a page; copying whole rows for one
/// event each, as a scattered page needs, showed in ListEvents' profile). Use it within one read transaction.
struct EventLookup {
    private let database: Database

    init(_ database: Database) {
        self.database = database
    }

    /// The stored event `id`, nil when there is none.
    func event(id: Int64) throws -> Event? {
        try self.events(ids: [id])[id]
    }

    /// The stored events among `ids`, by id.
    func events(ids: [Int64]) throws -> [Int64: Event] {
        let select = try self.database.cachedStatement(
            """
            SELECT first_id, last_id, events FROM event_batches WHERE first_id <= ? ORDER BY first_id DESC LIMIT 1
            """)
        let wanted = ids.sorted()
        var found: [Int64: Event] = [:]
        var next = 0
        while next < wanted.count {
            let id = wanted[next]
            let lastID = try select.firstRow(arguments: [id]) { row throws -> Int64 in
                let lastID = row.int64(at: 1)
                let batch = try Self.header(row)
                while next < wanted.count, wanted[next] <= lastID {
                    let wantedID = wanted[next]
                    next += 1
                    guard let index = batch.index(of: wantedID) else { continue }
                    guard let encoding = try row.blob(at: 2, range: batch.encodingRange(at: index)) else {
                        throw StoreError(.internal, "event batch \(batch.firstID) is shorter than its header says")
                    }
                    found[wantedID] = try EventBatchRecord.decode(encoding[...], id: wantedID)
                }
                return lastID
            }
            // No batch starts at or below `id`, or the one that does ends before it: no such event.
            if lastID == nil || (lastID ?? 0) < id { next += 1 }
        }
        return found
    }

    /// The batch's header alone, from the row's columns (first_id, last_id, events).
    private static func header(_ row: Statement) throws -> EventBatchRecord {
        let firstID = row.int64(at: 0)
        let length = row.byteCount(at: 2)
        guard let start = try row.blob(at: 2, range: 0..<min(length, EventBatchRecord.fixedHeaderLength)),
            let headerLength = EventBatchRecord.headerLength(of: start),
            let header = try row.blob(at: 2, range: 0..<min(headerLength, length))
        else {
            throw StoreError(.internal, "damaged event batch \(firstID): no header")
        }
        return try EventBatchRecord(firstID: firstID, prefix: header, blobLength: length)
    }
}

/// The filters of an events list that are checked in Swift: on decoded events (a postings walk's candidates) or on
/// the fields scanned from a stored encoding (the tail), names compared as bytes, without making strings.
struct EventMatch {
    let severities: Set<Int32>
    let eventType: WireString?
    let sourceName: WireString?
    private let eventTypeBytes: [UInt8]?
    private let sourceNameBytes: [UInt8]?
    let from: Int64?
    let before: Int64?

    init(_ query: EventQuery) throws(StoreError) {
        self.severities = Set(try SQLiteStore.ranks(query.severities).map { Int32($0) })
        self.eventType = query.eventType.map { WireString($0) }
        self.sourceName = query.sourceName.map { WireString($0) }
        self.eventTypeBytes = query.eventType.map { Array($0.utf8) }
        self.sourceNameBytes = query.sourceName.map { Array($0.utf8) }
        self.from = query.occurredFrom
        self.before = query.occurredBefore
    }

    func matches(_ event: Event) -> Bool {
        if !self.severities.isEmpty && !self.severities.contains(event.severity.rawValue) { return false }
        if let eventType, event.eventTypeUTF8 != eventType { return false }
        if let sourceName, event.sourceNameUTF8 != sourceName { return false }
        return self.matches(occurredAt: event.occurredAt?.unixNanoseconds ?? 0)
    }

    /// `matches` for an event known by its scanned fields, whose names are ranges of `blob`.
    func matches(_ fields: StoredEventFields, in blob: [UInt8]) -> Bool {
        if !self.severities.isEmpty && !self.severities.contains(fields.severity) { return false }
        if let eventTypeBytes, !blob[fields.type].elementsEqual(eventTypeBytes) { return false }
        if let sourceNameBytes, !blob[fields.source].elementsEqual(sourceNameBytes) { return false }
        return self.matches(occurredAt: fields.occurredAt)
    }

    private func matches(occurredAt occurred: Int64) -> Bool {
        if let from, occurred < from { return false }
        if let before, occurred >= before { return false }
        return true
    }
}
