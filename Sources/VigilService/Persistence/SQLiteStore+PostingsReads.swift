// Reading the postings indexes (SQLiteStore+Postings writes them): the indexed arm of a ListEvents or ListAlerts
// page whose driving index is a postings one walks the chunks of the key (or keys) the filters fix, merges the runs
// of every slice lazily (PostingsWalk), and reads the candidates' rows 64 ids per statement, keeping those that
// match the other filters. The tail above the index's watermark is the list's other arm, merged by the caller.
import VigilAPI
import VigilSQLite

extension SQLiteStore {
    /// The indexed arm of a ListEvents page driven by a postings index: up to `limit` events in the query's order,
    /// at or below the index's watermark, strictly after `after`, matching every filter.
    static func postingsEvents(
        _ database: Database, _ query: EventQuery, index: String, after: [Int64]?, limit: Int
    ) throws -> [Event] {
        let severities = try Self.ranks(query.severities)
        var filters = PostingsFilters()
        filters.add(in: "e.severity", severities)
        filters.add("e.event_type = ?", query.eventType)
        filters.add("e.source_name = ?", query.sourceName)
        var fetcher = try PostingsFetcher(
            database, select: "SELECT \(Rows.eventColumns) FROM events e", id: "e.id", filters: filters, limit: limit,
            decode: { try Rows.event($0) }, idOf: \.id)
        let walk = PostingsPageWalk(
            index: index, severities: severities, sourceName: query.sourceName, eventType: query.eventType,
            bySeverity: query.order == .severity, ascending: query.ascending, from: query.occurredFrom,
            before: query.occurredBefore, after: after)
        try walk.run(database, &fetcher)
        return fetcher.items
    }

    /// As `postingsEvents`, for a ListAlerts page (ordered by creation time or by severity).
    static func postingsAlerts(
        _ database: Database, _ query: AlertQuery, index: String, after: [Int64]?, limit: Int
    ) throws -> [Alert] {
        let severities = try Self.ranks(query.severities)
        let statuses = try Self.ranks(query.statuses)
        var filters = PostingsFilters()
        filters.add(in: "a.status", statuses)
        filters.add(in: "a.severity", severities)
        filters.add("a.source_name = ?", query.sourceName)
        filters.add("a.event_type = ?", query.eventType)
        var fetcher = try PostingsFetcher(
            database, select: "SELECT \(Rows.alertColumns) FROM alerts a JOIN events e ON e.id = a.event_id",
            id: "a.id", filters: filters, limit: limit, decode: { try Rows.alert($0) }, idOf: \.id)
        let walk = PostingsPageWalk(
            index: index, severities: severities, sourceName: query.sourceName, eventType: query.eventType,
            bySeverity: query.order == .severity, ascending: query.ascending, from: query.createdFrom,
            before: query.createdBefore, after: after)
        try walk.run(database, &fetcher)
        return fetcher.items
    }
}

/// Which keys of a postings index a page walks, in what order and from where.
struct PostingsPageWalk {
    let index: String
    let severities: [Int64]
    let sourceName: String?
    let eventType: String?
    /// Ordered by (severity, time, id) rather than (time, id).
    let bySeverity: Bool
    let ascending: Bool
    let from: Int64?
    let before: Int64?
    /// The page token's keys: (time, id), or (severity, time, id) when `bySeverity`.
    let after: [Int64]?

    /// The keys to walk, in order: the one the filter fixes, every row's, or (by severity) each severity in turn.
    var keys: [(key: String, severity: Int64?)] {
        switch SQLiteStore.postingsIndexes[self.index]?.column {
        case "source_name": return [(self.sourceName ?? "", nil)]
        case "event_type": return [(self.eventType ?? "", nil)]
        case "": return [("", nil)]
        default:
            let ranks: [Int64] = self.severities.isEmpty ? [1, 2, 3, 4] : self.severities
            return (self.bySeverity && !self.ascending ? ranks.reversed() : ranks).map { (String($0), $0) }
        }
    }

    /// Feeds the fetcher candidates in page order until it holds a page.
    func run<Item>(_ database: Database, _ fetcher: inout PostingsFetcher<Item>) throws {
        for (key, severity) in self.keys {
            var bounds = PostingBounds(ascending: self.ascending, from: self.from, before: self.before)
            if let after = self.after {
                if self.bySeverity, let severity, after.count == 3 {
                    // Severities before the continuation's in walk order were listed on earlier pages.
                    if self.ascending ? severity < after[0] : severity > after[0] { continue }
                    if severity == after[0] { bounds.after = PostingEntry(sort: after[1], id: after[2]) }
                } else if after.count == 2 {
                    bounds.after = PostingEntry(sort: after[0], id: after[1])
                }
            }
            var walk = PostingsWalk(
                try PostingsDirectory(database, index: self.index, key: key, bounds: bounds), bounds: bounds)
            while !fetcher.isFull, let entry = try walk.next() { try fetcher.add(entry.id) }
            try fetcher.flush()
            if fetcher.isFull { break }
        }
    }
}

/// The filters a fetch applies to candidate rows, as constant SQL fragments and bound values.
struct PostingsFilters {
    private(set) var conditions: [String] = []
    private(set) var arguments: [any SQLiteBindable] = []

    mutating func add(_ condition: String, _ value: String?) {
        guard let value else { return }
        self.conditions.append(condition)
        self.arguments.append(value)
    }

    mutating func add(in column: String, _ values: [Int64]) {
        guard !values.isEmpty else { return }
        self.conditions.append("\(column) IN (\(Array(repeating: "?", count: values.count).joined(separator: ", ")))")
        self.arguments += values as [any SQLiteBindable]
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

/// Reads the rows of candidate ids in batches, keeping those that match the filters, in candidate order.
struct PostingsFetcher<Item> {
    /// Ids per statement: a page of 50 (vigilbench's) in one round, few enough to bind cheaply.
    static var batch: Int { 64 }

    private let statement: Statement
    private let filterArguments: [any SQLiteBindable]
    private let wanted: Int
    private let decode: (Statement) throws -> Item
    private let idOf: (Item) -> Int64
    private var candidates: [Int64] = []
    private(set) var items: [Item] = []

    var isFull: Bool { self.items.count >= self.wanted }

    /// `select` and `id` are constant SQL (the row query up to WHERE, and its id column).
    init(
        _ database: Database, select: String, id: String, filters: PostingsFilters, limit: Int,
        decode: @escaping (Statement) throws -> Item, idOf: @escaping (Item) -> Int64
    ) throws {
        self.wanted = limit
        self.decode = decode
        self.idOf = idOf
        let conditions = ["\(id) IN (\(Array(repeating: "?", count: Self.batch).joined(separator: ", ")))"]
            + filters.conditions
        self.filterArguments = filters.arguments
        self.statement = try database.cachedStatement(select + " WHERE " + conditions.joined(separator: " AND "))
    }

    /// Queues `id`; reads a batch once enough are queued.
    mutating func add(_ id: Int64) throws {
        self.candidates.append(id)
        if self.candidates.count >= min(Self.batch, self.wanted - self.items.count) { try self.flush() }
    }

    /// Reads the queued candidates' rows and keeps the matching ones in candidate order, up to the page.
    mutating func flush() throws {
        guard !self.candidates.isEmpty else { return }
        var ids: [any SQLiteBindable] = self.candidates.map { $0 as any SQLiteBindable }
        ids += Array(repeating: SQLiteValue.null as any SQLiteBindable, count: Self.batch - self.candidates.count)
        var found: [Int64: Item] = [:]
        try self.statement.forEachRow(arguments: ids + self.filterArguments) { row in
            let item = try self.decode(row)
            found[self.idOf(item)] = item
        }
        for id in self.candidates where !self.isFull {
            if let item = found[id] { self.items.append(item) }
        }
        self.candidates.removeAll(keepingCapacity: true)
    }
}
