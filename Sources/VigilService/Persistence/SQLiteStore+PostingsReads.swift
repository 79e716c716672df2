// Reading the postings indexes (SQLiteStore+Postings writes them): the indexed arm of a ListEvents or ListAlerts
// page whose driving index is a postings one walks the chunks of the key (or keys) the filters fix, merges the runs
// of every slice lazily (PostingsWalk), and looks the candidates up 64 at a time (alerts' rows in one statement,
// events in their batch rows), keeping those that match the other filters. The tail above the index's watermark is
// the list's other arm, merged by the caller.
import VigilAPI
import VigilSQLite

extension SQLiteStore {
    /// The indexed arm of a ListEvents page driven by a postings index: up to `limit` events in the query's order,
    /// at or below the index's watermark, strictly after `after`, matching every filter.
    static func postingsEvents(
        _ database: Database, _ query: EventQuery, match: EventMatch, index: String, after: [Int64]?, limit: Int
    ) throws -> [Event] {
        let severities = try Self.ranks(query.severities)
        // Candidates are decoded from their batch rows and filtered in Swift.
        let lookup = EventLookup(database)
        var fetcher = PostingsFetcher<Event>(limit: limit) { ids in
            try lookup.events(ids: ids).filter { match.matches($0.value) }
        }
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
        let select = try database.cachedStatement(
            "SELECT \(Rows.alertColumns) FROM alerts a WHERE "
                + (["a.id IN (\(Array(repeating: "?", count: PostingsFetcher<Alert>.batch).joined(separator: ", ")))"]
                    + filters.conditions).joined(separator: " AND "))
        var fetcher = PostingsFetcher<Alert>(limit: limit) { ids in
            var arguments: [any SQLiteBindable] = ids.map { $0 as any SQLiteBindable }
            arguments += Array(
                repeating: SQLiteValue.null as any SQLiteBindable, count: PostingsFetcher<Alert>.batch - ids.count)
            var found: [Int64: Alert] = [:]
            try select.forEachRow(arguments: arguments + filters.arguments) { row in
                let alert = try Rows.alert(row)
                found[alert.id] = alert
            }
            return found
        }
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

/// Looks candidate ids up in batches, keeping those that match the filters, in candidate order.
struct PostingsFetcher<Item> {
    /// Ids per lookup: a page of 50 (vigilbench's) in one round, few enough to bind cheaply in one statement.
    static var batch: Int { 64 }

    private let wanted: Int
    /// Up to `batch` ids → the items among them that exist and match.
    private let find: ([Int64]) throws -> [Int64: Item]
    private var candidates: [Int64] = []
    private(set) var items: [Item] = []

    var isFull: Bool { self.items.count >= self.wanted }

    init(limit: Int, find: @escaping ([Int64]) throws -> [Int64: Item]) {
        self.wanted = limit
        self.find = find
    }

    /// Queues `id`; looks a batch up once enough are queued.
    mutating func add(_ id: Int64) throws {
        self.candidates.append(id)
        if self.candidates.count >= min(Self.batch, self.wanted - self.items.count) { try self.flush() }
    }

    /// Looks the queued candidates up and keeps the matching ones in candidate order, up to the page.
    mutating func flush() throws {
        guard !self.candidates.isEmpty else { return }
        let found = try self.find(self.candidates)
        for id in self.candidates where !self.isFull {
            if let item = found[id] { self.items.append(item) }
        }
        self.candidates.removeAll(keepingCapacity: true)
    }
}
