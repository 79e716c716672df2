// ListEvents and ListAlerts as keyset pages. The SQL is assembled only from the constant fragments below, chosen by
// which filters are set and which order is asked for (never from filter values, which are all bound), so the
// statement cache holds a few dozen variants at most. Each page asks for one row more than it returns: that row's
// presence says whether a next page exists, without a count query.
//
// Stability: rows inserted during a walk never make it repeat or skip a row that existed when it began (the key of
// a row never changes). The one exception is ordering alerts by status: an alert whose status changes mid-walk
// moves in that order, so it may be seen twice or not at all, as in any keyset listing over a mutable key.
public import VigilAPI
import VigilSQLite

extension SQLiteStore {
    public func listEvents(_ query: EventQuery) async throws(StoreError) -> Page<Event> {
        let limit = try PageSize.resolve(query.pageSize)
        let scope = try Self.scope(of: query)
        let keyCount = query.order == .severity ? 3 : 2
        let after = try self.pageTokens.readToken(query.pageToken, scope: scope, keyCount: keyCount)
        let (sql, arguments) = try Self.listStatementWithTail(query, after: after, limit: limit)
        let order = query.order
        let codec = self.pageTokens
        return try await self.read { database in
            var events = try database.query(sql, arguments: arguments) { row in try Rows.event(row) }
            guard events.count > limit else { return Page(items: events, nextPageToken: "") }
            events.removeLast(events.count - limit)
            let last = events[limit - 1]
            let occurred = last.occurredAt?.unixNanoseconds ?? 0
            let keys = order == .severity ? [Int64(last.severity.rawValue), occurred, last.id] : [occurred, last.id]
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

    /// One ListEvents page over both tables: the indexed arm walks its index for `limit + 1` rows, the tail arm
    /// scans the recent rows (few, unindexed) for the same, and the merge keeps the first `limit + 1` in order.
    static func listStatementWithTail(
        _ query: EventQuery,
        after: [Int64]?,
        limit: Int
    ) throws(StoreError) -> (sql: String, arguments: [SQLiteValue]) {
        let indexed = try Self.listStatement(query, after: after, limit: limit)
        let tail = try Self.listStatement(query, after: after, limit: limit, table: "events_recent")
        // Result columns: 1 id, 4 severity, 6 occurred_at (Rows.eventColumns).
        let keys = query.order == .severity ? [4, 6, 1] : [6, 1]
        return Self.merge(indexed, tail, keyColumns: keys, ascending: query.ascending, limit: limit)
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

    /// The SQL and arguments of one ListEvents page (`limit + 1` rows) from one table: also what the query-plan
    /// tests inspect (the indexed table's arm must be an index range, never a scan and sort).
    static func listStatement(
        _ query: EventQuery,
        after: [Int64]?,
        limit: Int,
        table: String = "events"
    ) throws(StoreError) -> (sql: String, arguments: [SQLiteValue]) {
        let severities = Set(try query.severities.map { severity throws(StoreError) in try validSeverity(severity) })
            .map { Int64($0.rawValue) }.sorted()
        let keyColumns =
            query.order == .severity ? ["e.severity", "e.occurred_at", "e.id"] : ["e.occurred_at", "e.id"]
        var plan = KeysetPlan(keyColumns: keyColumns, ascending: query.ascending)
        plan.add(in: "e.severity", severities)
        plan.add("e.event_type = ?", query.eventType)
        plan.add("e.source_name = ?", query.sourceName)
        plan.add("e.occurred_at >= ?", query.occurredFrom)
        plan.add("e.occurred_at < ?", query.occurredBefore)
        plan.continue(after: after)
        let sql = plan.sql(select: "SELECT \(Rows.eventColumns) FROM \(table) e")
        return (sql, plan.arguments.map(\.sqliteValue) + [.integer(Int64(limit + 1))])
    }

    public func listAlerts(_ query: AlertQuery) async throws(StoreError) -> Page<Alert> {
        let limit = try PageSize.resolve(query.pageSize)
        let scope = try Self.scope(of: query)
        let keyCount = query.order == .createdAt ? 2 : 3
        let after = try self.pageTokens.readToken(query.pageToken, scope: scope, keyCount: keyCount)
        let (sql, arguments) = try Self.listStatementWithTail(query, after: after, limit: limit)
        let order = query.order
        let codec = self.pageTokens
        return try await self.read { database in
            var alerts = try database.query(sql, arguments: arguments) { row in try Rows.alert(row) }
            guard alerts.count > limit else { return Page(items: alerts, nextPageToken: "") }
            alerts.removeLast(alerts.count - limit)
            let last = alerts[limit - 1]
            let created = last.createdAt?.unixNanoseconds ?? 0
            let keys: [Int64] =
                switch order {
                case .createdAt: [created, last.id]
                case .status: [Int64(last.status.rawValue), created, last.id]
                case .severity: [Int64(last.event?.severity.rawValue ?? 0), created, last.id]
                }
            return Page(items: alerts, nextPageToken: codec.makeToken(keys: keys, scope: scope))
        }
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

    /// One ListAlerts page over both tables, as `listStatementWithTail` for events.
    static func listStatementWithTail(
        _ query: AlertQuery,
        after: [Int64]?,
        limit: Int
    ) throws(StoreError) -> (sql: String, arguments: [SQLiteValue]) {
        let indexed = try Self.listStatement(query, after: after, limit: limit)
        let tail = try Self.listStatement(query, after: after, limit: limit, tables: ("alerts_recent", "events_recent"))
        // Result columns: 1 id, 3 status, 4 created_at, 11 the event's severity (Rows.alertColumns).
        let keys: [Int] =
            switch query.order {
            case .createdAt: [4, 1]
            case .status: [3, 4, 1]
            case .severity: [11, 4, 1]
            }
        return Self.merge(indexed, tail, keyColumns: keys, ascending: query.ascending, limit: limit)
    }

    /// The SQL and arguments of one ListAlerts page (`limit + 1` rows) from one pair of tables: also what the
    /// query-plan tests inspect.
    static func listStatement(
        _ query: AlertQuery,
        after: [Int64]?,
        limit: Int,
        tables: (alerts: String, events: String) = ("alerts", "events")
    ) throws(StoreError) -> (sql: String, arguments: [SQLiteValue]) {
        let statuses = Set(try query.statuses.map { status throws(StoreError) in try validStatus(status) })
            .map { Int64($0.rawValue) }.sorted()
        let severities = Set(try query.severities.map { severity throws(StoreError) in try validSeverity(severity) })
            .map { Int64($0.rawValue) }.sorted()
        let keyColumns: [String] =
            switch query.order {
            case .createdAt: ["a.created_at", "a.id"]
            case .status: ["a.status", "a.created_at", "a.id"]
            case .severity: ["a.severity", "a.created_at", "a.id"]
            }
        var plan = KeysetPlan(keyColumns: keyColumns, ascending: query.ascending)
        plan.add(in: "a.status", statuses)
        plan.add(in: "a.severity", severities)
        plan.add("a.source_name = ?", query.sourceName)
        plan.add("a.event_type = ?", query.eventType)
        plan.add("a.created_at >= ?", query.createdFrom)
        plan.add("a.created_at < ?", query.createdBefore)
        plan.continue(after: after)
        let sql = plan.sql(
            select: "SELECT \(Rows.alertColumns) FROM \(tables.alerts) a JOIN \(tables.events) e ON e.id = a.event_id")
        return (sql, plan.arguments.map(\.sqliteValue) + [.integer(Int64(limit + 1))])
    }
}

/// The WHERE and ORDER BY of one keyset query, from constant fragments plus bound arguments.
struct KeysetPlan {
    private var conditions: [String] = []
    private(set) var arguments: [any SQLiteBindable] = []
    let keyColumns: [String]
    let ascending: Bool

    init(keyColumns: [String], ascending: Bool) {
        self.keyColumns = keyColumns
        self.ascending = ascending
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
        sql += " ORDER BY " + self.keyColumns.map { "\($0) \(direction)" }.joined(separator: ", ")
        return sql + " LIMIT ?"
    }
}
