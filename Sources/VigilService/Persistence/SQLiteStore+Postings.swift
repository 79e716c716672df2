// The postings indexes in SQLite (Postings.swift has the pure half; docs/STORAGE.md, "Postings", the why): the
// indexer writes a slice's entries as chunk rows of `postings`, ListEvents walks them (merged with the tail above
// the index's watermark, as for every index), GetStats sums their chunks' counts, and retention takes deleted
// events out of them. A postings index has the same watermark in `index_marks` as an index table, with the same
// promise: in any snapshot an event is in the index (at or below the mark) or in its tail (above it), never both
// or neither.
import VigilAPI
import VigilSQLite

extension SQLiteStore {
    /// The indexes kept as postings, with the events column each is keyed by (none for events_by_time: one key,
    /// "", holds every event). Their entries sort by occurred_at.
    static let postingsIndexes: [String: String] = [
        "events_by_time": "", "events_by_severity": "severity", "events_by_source": "source_name",
        "events_by_type": "event_type",
    ]

    // MARK: Writing (the indexer)

    /// Writes the entries of events (`from`, `through`] into each of `indexes` (postings indexes): `preparePostings`
    /// then `writePostings` on one connection. The indexer instead prepares on a reader, off the writer thread.
    static func derivePostings(_ database: Database, indexes: [String], from: Int64, through: Int64) throws {
        try Self.writePostings(database, try Self.preparePostings(database, indexes: indexes, from: from, through: through))
    }

    /// Reads events (`from`, `through`] once and builds every chunk row of `indexes` for them: one run per key, cut
    /// into chunks, all as the segment `from + 1` (the slice's first id, which no other slice of an index has).
    /// Only reads, so it runs on a reader in a snapshot that holds the whole slice (events never change, and ids at
    /// or below a committed one are never inserted later), while the writer goes on committing.
    static func preparePostings(
        _ database: Database, indexes: [String], from: Int64, through: Int64
    ) throws -> PreparedPostings {
        let wanted = Set(indexes)
        var all: [PostingEntry] = []
        var severities: [Int64: [PostingEntry]] = [:]
        var sources: [String: [PostingEntry]] = [:]
        var types: [String: [PostingEntry]] = [:]
        let byTime = wanted.contains("events_by_time")
        let bySeverity = wanted.contains("events_by_severity")
        let bySource = wanted.contains("events_by_source")
        let byType = wanted.contains("events_by_type")
        let select = try database.cachedStatement(
            "SELECT severity, source_name, event_type, occurred_at, id FROM events WHERE id > ? AND id <= ?")
        try select.forEachRow(arguments: [from, through]) { row in
            let entry = PostingEntry(sort: row.int64(at: 3), id: row.int64(at: 4))
            if byTime { all.append(entry) }
            if bySeverity { severities[row.int64(at: 0), default: []].append(entry) }
            if bySource { sources[try row.string(at: 1) ?? "", default: []].append(entry) }
            if byType { types[try row.string(at: 2) ?? "", default: []].append(entry) }
        }
        // Severities were grouped by rank (no string per event); their keys are the ranks as text.
        let bySeverityText = Dictionary(uniqueKeysWithValues: severities.map { (String($0.key), $0.value) })
        let runsByIndex = [
            ("events_by_time", byTime ? ["": all] : [:]), ("events_by_severity", bySeverityText), ("events_by_source", sources), ("events_by_type", types),
        ]
        var rows: [PreparedPostings.Row] = []
        for (index, runs) in runsByIndex {
            for (key, entries) in runs {
                rows += Self.chunkRows(index: index, key: key, segment: from + 1, entries: entries.sorted())
            }
        }
        return PreparedPostings(indexes: indexes, from: from, through: through, rows: rows)
    }

    /// Inserts prepared chunk rows (inside the caller's write transaction).
    static func writePostings(_ database: Database, _ prepared: PreparedPostings) throws {
        try Self.insert(database, prepared.rows)
    }

    /// Sorted `entries` as the chunk rows of (`index`, `key`, `segment`), numbered from 0.
    private static func chunkRows(
        index: String, key: String, segment: Int64, entries: [PostingEntry]
    ) -> [PreparedPostings.Row] {
        PostingChunk.chunks(of: entries).enumerated().map { number, chunk in
            PreparedPostings.Row(
                index: index, key: key, segment: segment, chunk: Int64(number), low: chunk.low, high: chunk.high,
                count: Int64(chunk.entries.count), entries: chunk.encoded())
        }
    }

    private static func insert(_ database: Database, _ rows: [PreparedPostings.Row]) throws {
        let insert = try database.cachedStatement(
            """
            INSERT INTO postings (index_name, key, segment, chunk, low, high, count, entries)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """
        )
        for row in rows {
            try insert.execute(arguments: [
                row.index, row.key, row.segment, row.chunk, row.low, row.high, row.count, row.entries,
            ])
        }
    }

    // MARK: Retention

    /// Takes `events` (their ids and indexed columns, read before the rows are deleted) out of every postings index
    /// that holds them: each affected segment of a key is read, filtered and written back.
    static func removePostings(_ database: Database, of events: [PostingsVictim]) throws {
        guard !events.isEmpty else { return }
        let marks = try Self.indexProgress(database).marks
        let findSegment = try database.cachedStatement(
            "SELECT max(segment) FROM postings WHERE index_name = ? AND key = ? AND segment <= ?")
        for (index, _) in Self.postingsIndexes.sorted(by: { $0.key < $1.key }) {
            let mark = marks.first { $0.index == index }?.indexedThrough ?? 0
            // (key, segment) → ids to remove: events above the mark are in no chunk yet.
            var affected: [SegmentKey: Set<Int64>] = [:]
            for event in events where event.id <= mark {
                let key = event.key(for: index)
                let segment = try findSegment.firstRow(arguments: [index, key, event.id]) { row in
                    row.isNull(at: 0) ? nil : row.int64(at: 0)
                }
                guard let segment = segment ?? nil else { continue }
                affected[SegmentKey(key: key, segment: segment), default: []].insert(event.id)
            }
            for (place, ids) in affected {
                try Self.rewriteSegment(database, index: index, place, removing: ids)
            }
        }
    }

    private struct SegmentKey: Hashable {
        let key: String
        let segment: Int64
    }

    private static func rewriteSegment(
        _ database: Database, index: String, _ place: SegmentKey, removing ids: Set<Int64>
    ) throws {
        let read = try database.cachedStatement(
            "SELECT entries FROM postings WHERE index_name = ? AND key = ? AND segment = ? ORDER BY chunk")
        var entries: [PostingEntry] = []
        try read.forEachRow(arguments: [index, place.key, place.segment]) { row in
            entries += try Self.decodeChunk(row)
        }
        let delete = try database.cachedStatement(
            "DELETE FROM postings WHERE index_name = ? AND key = ? AND segment = ?")
        try delete.execute(arguments: [index, place.key, place.segment])
        let kept = entries.filter { !ids.contains($0.id) }
        try Self.insert(
            database, Self.chunkRows(index: index, key: place.key, segment: place.segment, entries: kept))
    }

    static func decodeChunk(_ row: Statement, at column: Int = 0) throws -> [PostingEntry] {
        do {
            return try PostingChunk.decode(try row.blob(at: column) ?? [])
        } catch let error as PostingsError {
            throw StoreError(.internal, "damaged index row: \(error.message)")
        }
    }

    // MARK: Reading (ListEvents)

    /// The indexed arm of a ListEvents page driven by a postings index: up to `limit` events in the query's order,
    /// at or below the index's watermark, strictly after `after`, matching every filter.
    static func postingsEvents(
        _ database: Database, _ query: EventQuery, index: String, after: [Int64]?, limit: Int
    ) throws -> [Event] {
        let severities = Set(try query.severities.map { severity throws(StoreError) in
            Int64(try validSeverity(severity).rawValue)
        })
        // The keys to walk, in order: the one the filter fixes, or (ordering by severity) each severity in turn.
        let keys: [(key: String, severity: Int64?)]
        if index == "events_by_source", let source = query.sourceName {
            keys = [(source, nil)]
        } else if index == "events_by_type", let type = query.eventType {
            keys = [(type, nil)]
        } else if index == "events_by_time" {
            keys = [("", nil)]
        } else {
            let ranks = (severities.isEmpty ? [1, 2, 3, 4] : severities.sorted())
            keys = (query.order == .severity && !query.ascending ? ranks.reversed() : ranks).map { (String($0), $0) }
        }
        var fetcher = try EventFetcher(database, query, severities: severities.sorted(), limit: limit)
        for (key, severity) in keys {
            var bounds = PostingBounds(
                ascending: query.ascending, from: query.occurredFrom, before: query.occurredBefore)
            if let after {
                if query.order == .severity, let severity, after.count == 3 {
                    // Severities before the continuation's in walk order were listed on earlier pages.
                    if query.ascending ? severity < after[0] : severity > after[0] { continue }
                    if severity == after[0] { bounds.after = PostingEntry(sort: after[1], id: after[2]) }
                } else if after.count == 2 {
                    bounds.after = PostingEntry(sort: after[0], id: after[1])
                }
            }
            var walk = PostingsWalk(
                try PostingsDirectory(database, index: index, key: key, bounds: bounds), bounds: bounds)
            while !fetcher.isFull, let entry = try walk.next() { try fetcher.add(entry.id) }
            try fetcher.flush()
            if fetcher.isFull { break }
        }
        return fetcher.events
    }
}

/// A slice's postings chunk rows, built off the writer (`preparePostings`) and inserted on it (`writePostings`).
struct PreparedPostings: Sendable {
    struct Row: Sendable {
        let index: String
        let key: String
        let segment: Int64
        let chunk: Int64
        let low: Int64
        let high: Int64
        let count: Int64
        let entries: [UInt8]
    }

    /// The postings indexes it covers, all at the mark `from` when it was read.
    let indexes: [String]
    let from: Int64
    let through: Int64
    let rows: [Row]
}

/// An event leaving the store (retention), with what names its postings entries.
struct PostingsVictim: Sendable {
    let id: Int64
    let severity: Int64
    let sourceName: String
    let eventType: String

    func key(for index: String) -> String {
        switch SQLiteStore.postingsIndexes[index] {
        case "": ""
        case "severity": String(self.severity)
        case "source_name": self.sourceName
        default: self.eventType
        }
    }
}

/// The chunks of one postings key from SQLite, in walk order, through one of the two directory indexes (which hold
/// every column the directory needs, so the walk never reads a chunk's entries until they are asked for).
final class PostingsDirectory: PostingChunkSource {
    private let database: Database
    private let statement: Statement
    private let index: String
    private let key: String
    private var finished = false

    init(_ database: Database, index: String, key: String, bounds: PostingBounds) throws {
        self.database = database
        self.index = index
        self.key = key
        // A chunk can hold an admitted entry only if it reaches into [from, before) and past the continuation.
        var lowest = bounds.from ?? .min
        var highest = bounds.before.map { $0 == .min ? .min : $0 - 1 } ?? .max
        if let after = bounds.after {
            if bounds.ascending { lowest = max(lowest, after.sort) } else { highest = min(highest, after.sort) }
        }
        if bounds.before == .min { self.finished = true }
        self.statement = try database.cachedStatement(Self.sql(ascending: bounds.ascending))
        self.statement.reset()
        try self.statement.bind([index, key, highest, lowest])
    }

    /// The directory walk, bound to (index, key, largest low, smallest high): also what the query-plan test reads.
    static func sql(ascending: Bool) -> String {
        ascending
            ? """
            SELECT segment, chunk, low, high FROM postings INDEXED BY postings_by_low
            WHERE index_name = ? AND key = ? AND low <= ? AND high >= ? ORDER BY low ASC
            """
            : """
            SELECT segment, chunk, low, high FROM postings INDEXED BY postings_by_high
            WHERE index_name = ? AND key = ? AND low <= ? AND high >= ? ORDER BY high DESC
            """
    }

    deinit {
        // Ends the read the walk left open (the statement is cached and used again).
        self.statement.reset()
    }

    func nextChunk() throws -> PostingChunkRef? {
        guard !self.finished else { return nil }
        guard try self.statement.step() else {
            self.finished = true
            self.statement.reset()
            return nil
        }
        return PostingChunkRef(
            segment: self.statement.int64(at: 0), chunk: self.statement.int64(at: 1),
            low: self.statement.int64(at: 2), high: self.statement.int64(at: 3))
    }

    func entries(of chunk: PostingChunkRef) throws -> [PostingEntry] {
        let read = try self.database.cachedStatement(
            "SELECT entries FROM postings WHERE index_name = ? AND key = ? AND segment = ? AND chunk = ?")
        return try read.firstRow(arguments: [self.index, self.key, chunk.segment, chunk.chunk]) { row in
            try SQLiteStore.decodeChunk(row)
        } ?? []
    }
}

/// Reads the rows of candidate ids in batches, keeping those that match the query's filters, in candidate order.
struct EventFetcher {
    /// Ids per statement: a page of 50 (vigilbench's) in one round, few enough to bind cheaply.
    static let batch = 64

    private let database: Database
    private let statement: Statement
    private let filterArguments: [any SQLiteBindable]
    private let wanted: Int
    private var candidates: [Int64] = []
    private(set) var events: [Event] = []

    var isFull: Bool { self.events.count >= self.wanted }

    init(_ database: Database, _ query: EventQuery, severities: [Int64], limit: Int) throws {
        self.database = database
        self.wanted = limit
        var conditions = ["e.id IN (\(Array(repeating: "?", count: Self.batch).joined(separator: ", ")))"]
        var arguments: [any SQLiteBindable] = []
        if !severities.isEmpty {
            let placeholders = Array(repeating: "?", count: severities.count).joined(separator: ", ")
            conditions.append("e.severity IN (\(placeholders))")
            arguments += severities as [any SQLiteBindable]
        }
        if let type = query.eventType {
            conditions.append("e.event_type = ?")
            arguments.append(type)
        }
        if let source = query.sourceName {
            conditions.append("e.source_name = ?")
            arguments.append(source)
        }
        self.filterArguments = arguments
        self.statement = try database.cachedStatement(
            "SELECT \(Rows.eventColumns) FROM events e WHERE " + conditions.joined(separator: " AND "))
    }

    /// Queues `id`; reads a batch once enough are queued.
    mutating func add(_ id: Int64) throws {
        self.candidates.append(id)
        if self.candidates.count >= min(Self.batch, self.wanted - self.events.count) { try self.flush() }
    }

    /// Reads the queued candidates' rows and keeps the matching ones in candidate order, up to the page.
    mutating func flush() throws {
        guard !self.candidates.isEmpty else { return }
        var ids: [any SQLiteBindable] = self.candidates.map { $0 as any SQLiteBindable }
        ids += Array(repeating: SQLiteValue.null as any SQLiteBindable, count: Self.batch - self.candidates.count)
        var found: [Int64: Event] = [:]
        try self.statement.forEachRow(arguments: ids + self.filterArguments) { row in
            let event = try Rows.event(row)
            found[event.id] = event
        }
        for id in self.candidates where !self.isFull {
            if let event = found[id] { self.events.append(event) }
        }
        self.candidates.removeAll(keepingCapacity: true)
    }
}
