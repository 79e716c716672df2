// The alert postings indexes (time, severity, source, type) in a real SQLite file: alerts created over many
// batches, indexed in small slices with some left in the tail, some of them acknowledged or resolved before or
// after they were indexed, are listed page by page by every filter and order, exactly as a filter-and-sort of the
// alerts says; retention takes deleted alerts out of the chunks.
import Testing
import VigilAPI
import VigilSQLite

@testable import VigilService

@Suite("Store alert postings") struct StoreAlertPostingsTests {
    static let severities: [Severity] = [.low, .medium, .high, .critical]

    /// 400 events (half of them HIGH or CRITICAL) in batches of 10, so alerts have 40 creation times; all but the
    /// last 60 events indexed in slices of 23; every third alert acknowledged and every fifth resolved.
    static func load(_ fixture: StoreFixture) async throws -> [Alert] {
        var alertIDs: [Int64] = []
        for batch in 0..<40 {
            let events = (0..<10).map { offset in
                let index = batch * 10 + offset
                return makeEvent(
                    Self.severities[(index * 7) % 4], source: "h\(index % 5)", type: "t\(index % 3)",
                    occurredAt: 10_000 + Int64(index))
            }
            let outcomes = try await fixture.store.insertEvents(events, submittedBy: agent)
            alertIDs += outcomes.compactMap(\.alertID)
            if batch == 33 {
                try await fixture.store.withWriterConnection { database in
                    while try database.transaction(.immediate, { try SQLiteStore.indexSlice($0, rows: 23) }) > 0 {}
                }
            }
        }
        for (number, id) in alertIDs.enumerated() {
            if number % 3 == 0 {
                _ = try await fixture.store.updateAlert(id: id, status: .acknowledged, expectedVersion: 1, by: admin)
            } else if number % 5 == 0 {
                _ = try await fixture.store.updateAlert(id: id, status: .resolved, expectedVersion: 1, by: admin)
            }
        }
        var alerts: [Alert] = []
        for id in alertIDs { alerts.append(try #require(try await fixture.store.alert(id: id)).alert) }
        return alerts
    }

    static func queries(_ alerts: [Alert]) -> [(String, AlertQuery)] {
        let times = alerts.map { $0.createdAt?.unixNanoseconds ?? 0 }.sorted()
        var queries: [(String, AlertQuery)] = []
        for ascending in [false, true] {
            var bySource = AlertQuery()
            bySource.sourceName = "h2"
            var byType = AlertQuery()
            byType.eventType = "t1"
            byType.createdFrom = times[times.count / 4]
            byType.createdBefore = times[times.count * 3 / 4]
            var bySeverity = AlertQuery()
            bySeverity.severities = [.critical]
            var severityOrder = AlertQuery()
            severityOrder.order = .severity
            var openBySeverity = AlertQuery()
            openBySeverity.order = .severity
            openBySeverity.statuses = [.open, .resolved]
            openBySeverity.sourceName = "h1"
            var acknowledgedFromSource = AlertQuery()
            acknowledgedFromSource.statuses = [.acknowledged]
            acknowledgedFromSource.sourceName = "h3"
            var statusOrder = AlertQuery()
            statusOrder.order = .status
            statusOrder.eventType = "t0"
            for (name, var query) in [
                ("every alert", AlertQuery()), ("source", bySource), ("type in a time range", byType),
                ("one severity", bySeverity), ("severity order", severityOrder),
                ("two statuses by severity from one source", openBySeverity),
                ("one status from one source", acknowledgedFromSource), ("status order of one type", statusOrder),
            ] {
                query.ascending = ascending
                queries.append(("\(name) asc=\(ascending)", query))
            }
        }
        return queries
    }

    static func expected(_ alerts: [Alert], _ query: AlertQuery) -> [Int64] {
        alerts.filter { alert in
            let created = alert.createdAt?.unixNanoseconds ?? 0
            return (query.statuses.isEmpty || query.statuses.contains(alert.status))
                && (query.severities.isEmpty || query.severities.contains(alert.event?.severity ?? .unspecified))
                && (query.sourceName.map { $0 == alert.event?.sourceName } ?? true)
                && (query.eventType.map { $0 == alert.event?.eventType } ?? true)
                && (query.createdFrom.map { created >= $0 } ?? true)
                && (query.createdBefore.map { created < $0 } ?? true)
        }.sorted { SQLiteStore.precedes($0, $1, query) }.map(\.id)
    }

    @Test("every filter and order lists its alerts page by page, in order, each once")
    func pagesMatchReference() async throws {
        try await StoreFixture.with { fixture in
            let alerts = try await Self.load(fixture)
            #expect(alerts.count == 200)
            for (name, query) in Self.queries(alerts) {
                let want = Self.expected(alerts, query)
                #expect(!want.isEmpty, "\(name)")
                for pageSize: Int32 in [1, 4, 1000] {
                    var query = query
                    query.pageSize = pageSize
                    var listed: [Int64] = []
                    while true {
                        let page = try await fixture.store.listAlerts(query)
                        listed += page.items.map(\.id)
                        if page.nextPageToken.isEmpty || listed.count > want.count { break }
                        query.pageToken = page.nextPageToken
                    }
                    #expect(listed == want, "\(name), pages of \(pageSize)")
                }
            }
            let entries = try await fixture.store.withWriterConnection { database in
                try ["alerts_by_time", "alerts_by_severity", "alerts_by_source", "alerts_by_type"].map { index in
                    try StoreIndexerTests.entries(database, index)
                }
            }
            let indexed = alerts.filter { $0.event.map { $0.id <= 340 } ?? false }.count
            #expect(entries == Array(repeating: Int64(indexed), count: 4))
        }
    }

    @Test("retention takes deleted alerts out of the postings; stats and lists agree with what is left")
    func retention() async throws {
        try await StoreFixture.with { fixture in
            let alerts = try await Self.load(fixture)
            // Only RESOLVED alerts go with their events (and events without an alert, which are not listed here).
            let cutoff: Int64 = 10_250
            _ = try await fixture.store.deleteEvents(occurredBefore: cutoff)
            let left = alerts.filter { alert in
                !(alert.status == .resolved && (alert.event?.occurredAt?.unixNanoseconds ?? 0) < cutoff)
            }
            #expect(left.count < alerts.count)
            let entries = try await fixture.store.withWriterConnection { database in
                try ["alerts_by_time", "alerts_by_severity", "alerts_by_source", "alerts_by_type"].map { index in
                    try StoreIndexerTests.entries(database, index)
                }
            }
            #expect(entries == Array(repeating: Int64(left.count), count: 4))
            for (name, var query) in Self.queries(alerts) {
                query.pageSize = 1000
                #expect(try await fixture.store.listAlerts(query).items.map(\.id) == Self.expected(left, query), "\(name)")
            }
            let stats = try await fixture.store.stats()
            #expect(stats.totalAlerts == Int64(left.count))
            for count in stats.alertsBySeverity {
                #expect(count.count == Int64(left.filter { $0.event?.severity == count.severity }.count))
            }
        }
    }
}
