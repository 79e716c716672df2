// Keyset pagination under concurrent writes, and the query plans behind the lists: every main listing must be an
// index range scan, never a full scan followed by a temporary B-tree sort.
import Foundation
import Testing
import VigilAPI
import VigilRPC
import VigilSQLite

@testable import VigilService

@Suite("Store pagination")
struct StorePaginationTests {
    @Test(
        "walking 10,000 alerts while new ones arrive returns each pre-existing alert exactly once, in order",
        arguments: [false, true])
    func stableUnderInserts(ascending: Bool) async throws {
        try await StoreFixture.with { fixture in
            let store = fixture.store
            var existing: [Int64] = []
            for _ in 0..<10 {
                let batch = (0..<1_000).map { index in makeEvent(index % 2 == 0 ? .high : .critical) }
                existing += try await store.insertEvents(batch, submittedBy: agent).compactMap(\.alertID)
            }
            #expect(existing.count == 10_000)
            let walking = Locked(true)
            let inserted = Locked(0)
            let listed: [Int64] = try await withThrowingTaskGroup(of: [Int64].self) { group in
                group.addTask {
                    while walking.value {
                        let batch = (0..<25).map { _ in makeEvent(.critical, source: "late") }
                        let alerts = try await store.insertEvents(batch, submittedBy: agent).compactMap(\.alertID)
                        inserted.update { $0 += alerts.count }
                        await Task.yield()
                    }
                    return []
                }
                group.addTask {
                    defer { walking.update { $0 = false } }
                    var query = AlertQuery()
                    query.ascending = ascending
                    query.pageSize = 250
                    var ids: [Int64] = []
                    repeat {
                        let page = try await store.listAlerts(query)
                        ids += page.items.map(\.id)
                        query.pageToken = page.nextPageToken
                    } while !query.pageToken.isEmpty
                    return ids
                }
                var all: [Int64] = []
                for try await ids in group { all += ids }
                return all
            }
            #expect(inserted.value > 0)
            let preexisting = Set(existing)
            let seen = listed.filter { preexisting.contains($0) }
            // created_at grows with each batch and ids within it, so (created_at, id) order is id order.
            #expect(seen == (ascending ? existing : existing.reversed()))
            #expect(Set(listed).count == listed.count)
        }
    }

    /// Query plans of the main listings; each must use an index for both the filter and the order.
    @Test("the main list queries use an index, never a full scan plus a temporary sort")
    func queryPlans() async throws {
        try await StoreFixture.with { fixture in
            _ = try await fixture.store.insertEvents(
                (0..<200).map { makeEvent(.high, source: "h\($0 % 10)", type: "t\($0 % 5)") },
                submittedBy: agent
            )
            var alerts: [(String, AlertQuery)] = []
            for order in [AlertQuery.Order.createdAt, .status, .severity] {
                for ascending in [false, true] {
                    var query = AlertQuery()
                    query.order = order
                    query.ascending = ascending
                    alerts.append(("alerts \(order) asc=\(ascending)", query))
                }
            }
            var alertsBySource = AlertQuery()
            alertsBySource.sourceName = "h1"
            alerts.append(("alerts by source", alertsBySource))
            var alertsByType = AlertQuery()
            alertsByType.eventType = "t1"
            alerts.append(("alerts by type", alertsByType))
            var openAlerts = AlertQuery()
            openAlerts.statuses = [.open]
            openAlerts.order = .status
            alerts.append(("open alerts by status", openAlerts))

            var statements: [(String, String, [SQLiteValue])] = []
            // Every events index and all alert indexes but the status one are postings: their walks read chunks
            // through the directory (SQLiteStore+PostingsReads), whose plan must be a covering-index range too.
            for ascending in [false, true] {
                statements.append((
                    "postings directory asc=\(ascending)", PostingsDirectory.sql(ascending: ascending),
                    [.text("events_by_source"), .text("h1"), .integer(.max), .integer(.min)]
                ))
            }
            for (name, query) in alerts where SQLiteStore.postingsIndexes[SQLiteStore.alertDriver(query).table] == nil {
                for after in [nil, query.order == .createdAt ? [Int64(1), 1] : [Int64(3), 1, 1]] {
                    let (sql, arguments) = try SQLiteStore.listStatement(query, after: after, limit: 20)
                    statements.append((name, sql, arguments))
                }
            }
            let toExplain = statements
            let plans = try await fixture.store.withReaderConnection { database in
                try toExplain.map { name, sql, arguments in
                    let details = try database.query("EXPLAIN QUERY PLAN " + sql, arguments: arguments) { row in
                        try row.string(at: 3) ?? ""
                    }
                    return (name, details)
                }
            }
            for (name, details) in plans {
                let plan = details.joined(separator: " | ")
                if ProcessInfo.processInfo.environment["VIGIL_PRINT_PLANS"] != nil { print("PLAN \(name): \(plan)") }
                #expect(!plan.contains("TEMP B-TREE"), "\(name): \(plan)")
                // The one scan allowed is of `x`, the index table, walked in its key order (the order asked for,
                // since there is no TEMP B-TREE); the rows themselves are only ever looked up by id.
                for detail in details where detail.hasPrefix("SCAN") {
                    #expect(detail == "SCAN x" || detail.contains("USING INDEX"), "\(name): \(plan)")
                }
                if name.hasPrefix("postings directory") {
                    // One search of the directory index in walk order (a range on high or low, never a sort).
                    let index = "postings_by_\(name.hasSuffix("true") ? "low" : "high")"
                    #expect(details.count == 1, "\(name): \(plan)")
                    let search = "SEARCH postings USING COVERING INDEX \(index) (index_name=? AND key=?"
                    #expect(plan.hasPrefix(search), "\(name): \(plan)")
                    continue
                }
                #expect(details.first?.hasSuffix(" x") == true || details.first?.contains(" x USING") == true, "\(name): \(plan)")
            }
        }
    }
}
