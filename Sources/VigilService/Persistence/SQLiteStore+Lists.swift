// ListEvents and ListAlerts as keyset pages. The SQL is assembled only from the constant fragments below, chosen by
// which filters are set and which order is asked for (never from filter values, which are all bound), so the
// statement cache holds a few dozen variants at most. Each page asks for one row more than it returns: that row's
// presence says whether a next page exists, without a count query.
//
// Two arms per page (docs/STORAGE.md): the indexed arm walks the driving index (the one whose key a filter fixes,
// else the time index) for rows up to the indexer's watermark; the tail arm scans the rows above the watermark
// (few: the indexer keeps up) with the same filters; the merge keeps the first `limit + 1` in order. Every events
// index and every alerts index but alerts_by_status is a postings index: its arm is a walk of chunks
// (SQLiteStore+PostingsReads), merged here with the tail's rows in the same read transaction, so both arms see one
// snapshot. alerts_by_status is an index table: its arm is SQL, joined to the rows by id and merged in SQL, with
// the watermark read inside the statement.
//
// Stability: rows inserted during a walk never make it repeat or skip a row that existed when it began (the key of
// a row never changes). The one exception is ordering alerts by status: an alert whose status changes mid-walk
// moves in that order, so it may be seen twice or not at all, as in any keyset listing over a mutable key.
public import VigilAPI
import VigilSQLite

/// An event's place in a ListEvents order, (occurred_at, id) or (severity, occurred_at, id), compared without
/// allocating: what the tail arm sorts a tail of up to 200,000 events by.
struct EventKey: Comparable {
    let first: Int64
    let second: Int64
    let third: Int64

    init(id: Int64, severity: Int32, occurredAt: Int64, bySeverity: Bool) {
        self =
            bySeverity
            ? EventKey(first: Int64(severity), second: occurredAt, third: id)
            : EventKey(first: occurredAt, second: id, third: 0)
    }

    /// A page token's keys (2 or 3 of them, as `SQLiteStore.pageKey` makes).
    init(_ keys: [Int64]) {
        self.init(first: keys.first ?? 0, second: keys.count > 1 ? keys[1] : 0, third: keys.count > 2 ? keys[2] : 0)
    }

    init(first: Int64, second: Int64, third: Int64) {
        self.first = first
        self.second = second
        self.third = third
    }

    static func < (lhs: EventKey, rhs: EventKey) -> Bool {
        (lhs.first, lhs.second, lhs.third) < (rhs.first, rhs.second, rhs.third)
    }
}

extension SQLiteStore {
    public func listEvents(_ query: EventQuery) async throws(StoreError) -> Page<Event> {
        self.lastList.record()
        let limit = try PageSize.resolve(query.pageSize)
        let scope = try Self.scope(of: query)
        let keyCount = query.order == .severity ? 3 : 2
        let after = try self.pageTokens.readToken(query.pageToken, scope: scope, keyCount: keyCount)
        let driver = Self.eventDriver(query)
        let match = try EventMatch(query)
        let order = query.order
        let codec = self.pageTokens
        return try await self.read { database in
            // Every events index is postings (SQLiteStore+PostingsReads): its arm is walked here and merged with
            // the tail's in Swift, in the same read transaction.
            var events = try Self.tailEvents(
                database, query, match: match, driver: driver, after: after, limit: limit + 1)
            events += try Self.postingsEvents(database, query, match: match, index: driver, after: after, limit: limit + 1)
            events.sort { Self.precedes($0, $1, query) }
            guard events.count > limit else { return Page(items: events, nextPageToken: "") }
            events.removeLast(events.count - limit)
            let keys = Self.pageKey(of: events[limit - 1], order)
            return Page(items: events, nextPageToken: codec.makeToken(keys: keys, scope: scope))
        }
    }

    static func scope(of query: EventQuery) throws(StoreError) -> PageScope {
        var scope = PageScope(kind: 1, order: query.order.rawValue, ascending: query.ascending)
        scope.add(
            ranks: try query.severities.map { severity throws(StoreError) in try validSeverity(severity).rawValue })
        scope.add(query.eventType)
        scope.add(query.sourceName)
        scope.add(query.occurredFrom)
        scope.add(query.occurredBefore)
        return scope
    }

    /// The tail arm of a ListEvents page: the first `limit` events in the query's order among those above the
    /// driving index's watermark that match the filters and come after `after`. Events have no columns to filter in
    /// SQL, so the tail's batch rows are scanned here (StoredEventFields) and only the page is decoded.
    static func tailEvents(
        _ database: Database, _ query: EventQuery, match: EventMatch, driver: String, after: [Int64]?, limit: Int
    ) throws -> [Event] {
        let readMark = try database.cachedStatement("SELECT indexed_through FROM index_marks WHERE name = ?")
        let mark = try readMark.firstRow(arguments: [driver]) { row in row.int64(at: 0) } ?? 0
        let bySeverity = query.order == .severity
        let start = after.map { EventKey($0) }
        let ascending = query.ascending
        // Filtered and ordered on fields scanned from each encoding; only the page is decoded. Candidates are
        // plain values (the batches they come from are kept once, aside), and once a page's worth is kept, an event
        // that does not come before the last of them is skipped without being kept. Batches are walked in the
        // page's direction, so with times that grow with ids (live agents) the first page's worth is the answer.
        typealias Candidate = (key: EventKey, batch: Int, index: Int)
        func precedes(_ first: Candidate, _ second: Candidate) -> Bool {
            ascending ? first.key < second.key : second.key < first.key
        }
        var batches: [EventBatchRecord] = []
        var kept: [Candidate] = []
        var worst: EventKey?
        try Self.forEachEventBatch(database, after: mark, descending: !ascending) { batch in
            guard let blob = batch.blob else { return }
            let number = batches.count
            var used = false
            let indices = 0..<batch.count
            for index in ascending ? Array(indices) : indices.reversed() {
                let id = batch.id(at: index)
                guard id > mark else { continue }
                let fields = try batch.fields(at: index)
                guard match.matches(fields, in: blob) else { continue }
                let key = EventKey(id: id, severity: fields.severity, occurredAt: fields.occurredAt, bySeverity: bySeverity)
                if let start, ascending ? !(start < key) : !(key < start) { continue }
                if let worst, ascending ? !(key < worst) : !(worst < key) { continue }
                kept.append((key, number, index))
                used = true
                if kept.count >= 4 * limit + 64 {
                    kept.sort(by: precedes)
                    kept.removeLast(kept.count - limit)
                    worst = kept.last?.key
                }
            }
            if used { batches.append(batch) }
        }
        kept.sort(by: precedes)
        return try kept.prefix(limit).map { candidate throws(StoreError) in
            try batches[candidate.batch].event(at: candidate.index)
        }
    }

    /// An event's key in `order`: what a page token holds and what pages are sorted by.
    static func pageKey(of event: Event, _ order: EventQuery.Order) -> [Int64] {
        let occurred = event.occurredAt?.unixNanoseconds ?? 0
        return order == .severity ? [Int64(event.severity.rawValue), occurred, event.id] : [occurred, event.id]
    }

    /// True when `first` comes before `second` in the query's order.
    static func precedes(_ first: Event, _ second: Event, _ query: EventQuery) -> Bool {
        let (a, b) = (Self.pageKey(of: first, query.order), Self.pageKey(of: second, query.order))
        return query.ascending ? a.lexicographicallyPrecedes(b) : b.lexicographicallyPrecedes(a)
    }

    /// `SELECT * FROM (first) UNION ALL SELECT * FROM (second) ORDER BY keys LIMIT limit + 1`, ordering by result
    /// column numbers (alerts and their events both have an `id`, so names would be ambiguous).
    static func merge(
        _ first: (sql: String, arguments: [SQLiteValue]),
        _ second: (sql: String, arguments: [SQLiteValue]),
        keyColumns: [Int],
        ascending: Bool,
        limit: Int
    ) -> (sql: String, arguments: [SQLiteValue]) {
        let direction = ascending ? "ASC" : "DESC"
        let order = keyColumns.map { "\($0) \(direction)" }.joined(separator: ", ")
        let sql = "SELECT * FROM (\(first.sql)) UNION ALL SELECT * FROM (\(second.sql)) ORDER BY \(order) LIMIT ?"
        return (sql, first.arguments + second.arguments + [.integer(Int64(limit + 1))])
    }

    /// The distinct ranks of a severity filter, ascending; INVALID_ARGUMENT for an unknown severity.
    static func ranks(_ severities: [Severity]) throws(StoreError) -> [Int64] {
        Set(try severities.map { severity throws(StoreError) in Int64(try validSeverity(severity).rawValue) }).sorted()
    }

    /// The distinct ranks of a status filter, ascending; INVALID_ARGUMENT for an unknown status.
    static func ranks(_ statuses: [AlertStatus]) throws(StoreError) -> [Int64] {
        Set(try statuses.map { status throws(StoreError) in Int64(try validStatus(status).rawValue) }).sorted()
    }

    /// The postings index that drives a ListEvents walk: the one whose key a filter fixes, else the time index.
    static func eventDriver(_ query: EventQuery) -> String {
        if query.order == .severity { return "events_by_severity" }
        if query.sourceName != nil { return "events_by_source" }
        if query.eventType != nil { return "events_by_type" }
        if Set(query.severities).count == 1 { return "events_by_severity" }
        return "events_by_time"
    }

    public func listAlerts(_ query: AlertQuery) async throws(StoreError) -> Page<Alert> {
        self.lastList.record()
        let limit = try PageSize.resolve(query.pageSize)
        let scope = try Self.scope(of: query)
        let keyCount = query.order == .createdAt ? 2 : 3
        let after = try self.pageTokens.readToken(query.pageToken, scope: scope, keyCount: keyCount)
        let driver = Self.alertDriver(query)
        let postings = Self.postingsIndexes[driver.table] != nil
        let (sql, arguments) =
            postings
            ? try Self.tailStatement(query, after: after, limit: limit)
            : try Self.listStatementWithTail(query, after: after, limit: limit)
        let order = query.order
        let codec = self.pageTokens
        return try await self.read { database in
            var alerts = try database.query(sql, arguments: arguments) { row in try Rows.alert(row) }
            if postings {
                // As for events: the indexed arm walks postings, and the two arms are merged here.
                alerts += try Self.postingsAlerts(database, query, index: driver.table, after: after, limit: limit + 1)
                alerts.sort { Self.precedes($0, $1, query) }
            }
            guard alerts.count > limit else { return Page(items: alerts, nextPageToken: "") }
            alerts.removeLast(alerts.count - limit)
            let keys = Self.pageKey(of: alerts[limit - 1], order)
            return Page(items: alerts, nextPageToken: codec.makeToken(keys: keys, scope: scope))
        }
    }

    /// An alert's key in `order`: what a page token holds and what pages are sorted by.
    static func pageKey(of alert: Alert, _ order: AlertQuery.Order) -> [Int64] {
        let created = alert.createdAt?.unixNanoseconds ?? 0
        return switch order {
        case .createdAt: [created, alert.id]
        case .status: [Int64(alert.status.rawValue), created, alert.id]
        case .severity: [Int64(alert.event?.severity.rawValue ?? 0), created, alert.id]
        }
    }

    /// True when `first` comes before `second` in the query's order.
    static func precedes(_ first: Alert, _ second: Alert, _ query: AlertQuery) -> Bool {
        let (a, b) = (Self.pageKey(of: first, query.order), Self.pageKey(of: second, query.order))
        return query.ascending ? a.lexicographicallyPrecedes(b) : b.lexicographicallyPrecedes(a)
    }

    static func scope(of query: AlertQuery) throws(StoreError) -> PageScope {
        var scope = PageScope(kind: 2, order: query.order.rawValue, ascending: query.ascending)
        scope.add(ranks: try query.statuses.map { status throws(StoreError) in try validStatus(status).rawValue })
        scope.add(
            ranks: try query.severities.map { severity throws(StoreError) in try validSeverity(severity).rawValue })
        scope.add(query.sourceName)
        scope.add(query.eventType)
        scope.add(query.createdFrom)
        scope.add(query.createdBefore)
        return scope
    }

    /// One ListAlerts page: the indexed arm and the tail arm, merged.
    static func listStatementWithTail(
        _ query: AlertQuery,
        after: [Int64]?,
        limit: Int
    ) throws(StoreError) -> (sql: String, arguments: [SQLiteValue]) {
        let indexed = try Self.listStatement(query, after: after, limit: limit)
        let tail = try Self.tailStatement(query, after: after, limit: limit)
        // Result columns: 1 id, 3 status, 4 created_at, 8 the event's severity (Rows.alertColumns).
        let keys: [Int] =
            switch query.order {
            case .createdAt: [4, 1]
            case .status: [3, 4, 1]
            case .severity: [8, 4, 1]
            }
        return Self.merge(indexed, tail, keyColumns: keys, ascending: query.ascending, limit: limit)
    }

    /// The tail arm of a ListAlerts page alone (`limit + 1` rows, in order).
    static func tailStatement(
        _ query: AlertQuery,
        after: [Int64]?,
        limit: Int
    ) throws(StoreError) -> (sql: String, arguments: [SQLiteValue]) {
        let tailPlan = try Self.alertPlan(query, after: after, driver: Self.alertDriver(query), tail: true)
        // Filtered and ordered on the alert rows alone (they carry every filtered column), ids only, then the page's
        // alerts read: the tail's cost is a scan of alerts, and no sorter holds whole rows.
        return (
            "SELECT \(Rows.alertColumns) FROM (" + tailPlan.sql(select: "SELECT a.id AS tail_id FROM alerts a")
                + ") t JOIN alerts a ON a.id = t.tail_id",
            tailPlan.arguments.map(\.sqliteValue) + [SQLiteValue.integer(Int64(limit + 1))]
        )
    }

    /// The index table that drives a ListAlerts walk, and the column its equality filter fixes (if any).
    static func alertDriver(_ query: AlertQuery) -> (table: String, lead: String?) {
        switch query.order {
        case .status: return ("alerts_by_status", nil)
        case .severity: return ("alerts_by_severity", nil)
        case .createdAt: break
        }
        if query.sourceName != nil { return ("alerts_by_source", "source_name") }
        if query.eventType != nil { return ("alerts_by_type", "event_type") }
        if Set(query.statuses).count == 1 { return ("alerts_by_status", "status") }
        if Set(query.severities).count == 1 { return ("alerts_by_severity", "severity") }
        return ("alerts_by_time", nil)
    }

    /// As `eventPlan`, for alerts: index table `x`, alert row `a`.
    static func alertPlan(
        _ query: AlertQuery,
        after: [Int64]?,
        driver: (table: String, lead: String?),
        tail: Bool
    ) throws(StoreError) -> KeysetPlan {
        let statuses = try Self.ranks(query.statuses)
        let severities = try Self.ranks(query.severities)
        let onIndex = !tail
        let key = onIndex ? "x" : "a"
        func column(_ name: String) -> String {
            let ordered = [("alerts_by_status", "status"), ("alerts_by_severity", "severity")]
            let indexed = onIndex && (name == driver.lead || name == "created_at" || name == "id"
                || ordered.contains { $0.0 == driver.table && $0.1 == name })
            return (indexed ? "x." : "a.") + name
        }
        let keyColumns: [String] =
            switch query.order {
            case .createdAt: ["\(key).created_at", "\(key).id"]
            case .status: ["\(key).status", "\(key).created_at", "\(key).id"]
            case .severity: ["\(key).severity", "\(key).created_at", "\(key).id"]
            }
        var plan = KeysetPlan(keyColumns: keyColumns, ascending: query.ascending)
        if tail { plan.add(raw: "a.id > (SELECT indexed_through FROM index_marks WHERE name = '\(driver.table)')") }
        plan.add(in: column("status"), statuses)
        plan.add(in: column("severity"), severities)
        plan.add("\(column("source_name")) = ?", query.sourceName)
        plan.add("\(column("event_type")) = ?", query.eventType)
        plan.add("\(column("created_at")) >= ?", query.createdFrom)
        plan.add("\(column("created_at")) < ?", query.createdBefore)
        plan.continue(after: after)
        if tail && query.order == .createdAt {
            // In the tail, id order is created_at order (IDAllocator never lets created_at decrease as ids grow), so
            // the newest rows are the last ids: walking them backwards stops after `limit + 1` matches instead of
            // sorting the whole tail, which with 50,000 tail alerts cost ~35 ms a call. The continuation key
            // bounds the walk too: a row after (created_at, id) in this order has a larger id.
            plan.walk(by: ["a.id"])
            if let after, let lastID = after.last { plan.add(query.ascending ? "a.id > ?" : "a.id < ?", lastID) }
        }
        return plan
    }

    /// The indexed arm of one ListAlerts page (`limit + 1` rows): also what the query-plan tests inspect.
    static func listStatement(
        _ query: AlertQuery,
        after: [Int64]?,
        limit: Int
    ) throws(StoreError) -> (sql: String, arguments: [SQLiteValue]) {
        let driver = Self.alertDriver(query)
        let plan = try Self.alertPlan(query, after: after, driver: driver, tail: false)
        let sql = plan.sql(
            select: """
                SELECT \(Rows.alertColumns) FROM \(driver.table) x CROSS JOIN alerts a ON a.id = x.id
                """)
        return (sql, plan.arguments.map(\.sqliteValue) + [.integer(Int64(limit + 1))])
    }
}

/// The WHERE and ORDER BY of one keyset query, from constant fragments plus bound arguments.
struct KeysetPlan {
    private var conditions: [String] = []
    private(set) var arguments: [any SQLiteBindable] = []
    let keyColumns: [String]
    /// What ORDER BY names: the key columns, unless `walk(by:)` chose columns known to give the same order.
    private var orderColumns: [String]
    let ascending: Bool

    init(keyColumns: [String], ascending: Bool) {
        self.keyColumns = keyColumns
        self.orderColumns = keyColumns
        self.ascending = ascending
    }

    /// Orders by `columns` instead of the key columns: only for rows where both give the same order.
    mutating func walk(by columns: [String]) {
        self.orderColumns = columns
    }

    /// A condition without arguments (a constant fragment).
    mutating func add(raw condition: String) {
        self.conditions.append(condition)
    }

    /// `condition` (one `?`) when `value` is set.
    mutating func add(_ condition: String, _ value: (some SQLiteBindable)?) {
        guard let value else { return }
        self.conditions.append(condition)
        self.arguments.append(value)
    }

    /// `column IN (?, ...)` when `values` is not empty; `values` are deduplicated ranks, at most 4 of them.
    mutating func add(in column: String, _ values: [Int64]) {
        guard !values.isEmpty else { return }
        let placeholders = Array(repeating: "?", count: values.count).joined(separator: ", ")
        self.conditions.append("\(column) IN (\(placeholders))")
        self.arguments.append(contentsOf: values as [any SQLiteBindable])
    }

    /// Rows strictly after the last row of the previous page, in this order: a row-value comparison, which SQLite
    /// turns into an index range.
    mutating func `continue`(after keys: [Int64]?) {
        guard let keys else { return }
        let columns = self.keyColumns.joined(separator: ", ")
        let placeholders = Array(repeating: "?", count: keys.count).joined(separator: ", ")
        self.conditions.append("(\(columns)) \(self.ascending ? ">" : "<") (\(placeholders))")
        self.arguments.append(contentsOf: keys as [any SQLiteBindable])
    }

    func sql(select: String) -> String {
        let direction = self.ascending ? "ASC" : "DESC"
        var sql = select
        if !self.conditions.isEmpty { sql += " WHERE " + self.conditions.joined(separator: " AND ") }
        sql += " ORDER BY " + self.orderColumns.map { "\($0) \(direction)" }.joined(separator: ", ")
        return sql + " LIMIT ?"
    }
}
