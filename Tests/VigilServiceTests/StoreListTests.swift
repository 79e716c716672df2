// ListEvents and ListAlerts: every filter, every order (severity by rank, status by lifecycle), keyset pages checked
// against a model sort in Swift, page sizes, and page tokens that refuse tampering and foreign listings.
import Testing
import VigilAPI
import VigilRPC

@testable import VigilService

@Suite("Store lists")
struct StoreListTests {
    static let base: Int64 = 1_800_000_000_000_000_000
    static let severities: [Severity] = [.low, .medium, .high, .critical]

    /// 48 events: every severity × 3 sources × 2 types × 2 times, with equal times to exercise id tie-breaks.
    private func seed(_ fixture: StoreFixture) async throws -> [Event] {
        var batch: [NewEvent] = []
        for index in 0..<48 {
            batch.append(
                makeEvent(
                    Self.severities[index % 4],
                    source: "host-\(index % 3)",
                    type: index % 2 == 0 ? "login" : "scan",
                    occurredAt: Self.base + Int64(index / 8) * 1_000
                )
            )
        }
        let outcomes = try await fixture.store.insertEvents(batch, submittedBy: agent)
        var events: [Event] = []
        for outcome in outcomes {
            let id = try #require(outcome.eventID)
            events.append(try #require(try await fixture.store.event(id: id)).event)
        }
        return events
    }

    private func walk(_ store: SQLiteStore, _ query: EventQuery) async throws -> [Event] {
        var query = query
        var all: [Event] = []
        repeat {
            let page = try await store.listEvents(query)
            all += page.items
            query.pageToken = page.nextPageToken
        } while !query.pageToken.isEmpty
        return all
    }

    private func walk(_ store: SQLiteStore, _ query: AlertQuery) async throws -> [Alert] {
        var query = query
        var all: [Alert] = []
        repeat {
            let page = try await store.listAlerts(query)
            all += page.items
            query.pageToken = page.nextPageToken
        } while !query.pageToken.isEmpty
        return all
    }

    private static func key(_ event: Event, _ order: EventQuery.Order) -> [Int64] {
        let time = event.occurredAt?.unixNanoseconds ?? 0
        return order == .severity ? [Int64(event.severity.rawValue), time, event.id] : [time, event.id]
    }

    @Test(
        "event pages in every order and direction equal the model sort (severity by rank)",
        arguments: [EventQuery.Order.occurredAt, .severity], [false, true]
    )
    func eventOrders(order: EventQuery.Order, ascending: Bool) async throws {
        try await StoreFixture.with { fixture in
            let events = try await self.seed(fixture)
            var query = EventQuery()
            query.order = order
            query.ascending = ascending
            query.pageSize = 7
            let listed = try await self.walk(fixture.store, query)
            let expected = events.sorted {
                ascending
                    ? Self.key($0, order).lexicographicallyPrecedes(Self.key($1, order))
                    : Self.key($1, order).lexicographicallyPrecedes(Self.key($0, order))
            }
            #expect(listed.map(\.id) == expected.map(\.id))
            if order == .severity && !ascending {
                #expect(listed.first?.severity == .critical && listed.last?.severity == .low)
                let ranks = listed.map(\.severity.rawValue)
                #expect(ranks == ranks.sorted(by: >))
            }
        }
    }

    @Test("event filters: severities, event type, source name, occurred range [start, end)")
    func eventFilters() async throws {
        try await StoreFixture.with { fixture in
            let events = try await self.seed(fixture)
            var query = EventQuery()
            query.pageSize = 5
            query.severities = [.high, .low, .high]
            query.eventType = "login"
            query.sourceName = "host-1"
            query.occurredFrom = Self.base + 1_000
            query.occurredBefore = Self.base + 5_000
            let listed = try await self.walk(fixture.store, query)
            let expected = events.filter { event in
                let time = event.occurredAt?.unixNanoseconds ?? 0
                return [.high, .low].contains(event.severity) && event.eventType == "login"
                    && event.sourceName == "host-1" && time >= Self.base + 1_000 && time < Self.base + 5_000
            }
            #expect(!expected.isEmpty)
            #expect(Set(listed.map(\.id)) == Set(expected.map(\.id)))
            #expect(listed.count == expected.count)
        }
    }

    @Test(
        "alert pages in every order equal the model sort (status by lifecycle, severity by rank)",
        arguments: [AlertQuery.Order.createdAt, .status, .severity], [false, true]
    )
    func alertOrders(order: AlertQuery.Order, ascending: Bool) async throws {
        try await StoreFixture.with { fixture in
            var ids: [Int64] = []
            for round in 0..<6 {
                let batch = (0..<4).map { makeEvent($0 % 2 == 0 ? .high : .critical, source: "host-\(round % 2)") }
                ids += try await fixture.store.insertEvents(batch, submittedBy: agent).compactMap(\.alertID)
            }
            for (index, id) in ids.enumerated() where index % 3 != 0 {
                _ = try await fixture.store.updateAlert(
                    id: id, status: index % 3 == 1 ? .acknowledged : .resolved, expectedVersion: 1, by: admin)
            }
            var all: [Alert] = []
            for id in ids { all.append(try #require(try await fixture.store.alert(id: id)).alert) }
            func key(_ alert: Alert) -> [Int64] {
                let created = alert.createdAt?.unixNanoseconds ?? 0
                switch order {
                case .createdAt: return [created, alert.id]
                case .status: return [Int64(alert.status.rawValue), created, alert.id]
                case .severity: return [Int64(alert.event?.severity.rawValue ?? 0), created, alert.id]
                }
            }
            let expected = all.sorted {
                ascending ? key($0).lexicographicallyPrecedes(key($1)) : key($1).lexicographicallyPrecedes(key($0))
            }
            var query = AlertQuery()
            query.order = order
            query.ascending = ascending
            query.pageSize = 5
            let listed = try await self.walk(fixture.store, query)
            #expect(listed.map(\.id) == expected.map(\.id))
            if order == .status && !ascending {
                #expect(listed.first?.status == .resolved && listed.last?.status == .open)
            }
        }
    }

    @Test("alert filters: statuses, severities, source name, event type, created range")
    func alertFilters() async throws {
        try await StoreFixture.with { fixture in
            let first = try await fixture.store.insertEvents(
                [
                    makeEvent(.high, source: "a", type: "x"), makeEvent(.critical, source: "a", type: "y"),
                    makeEvent(.high, source: "b", type: "x"), makeEvent(.low, source: "a", type: "x"),
                ],
                submittedBy: agent
            ).compactMap(\.alertID)
            let later = fixture.clock.peek
            let second = try await fixture.store.insertEvents(
                [makeEvent(.critical, source: "a", type: "x")], submittedBy: agent
            ).compactMap(\.alertID)
            _ = try await fixture.store.updateAlert(id: first[0], status: .resolved, expectedVersion: 1, by: admin)

            func ids(_ configure: (inout AlertQuery) -> Void) async throws -> Set<Int64> {
                var query = AlertQuery()
                configure(&query)
                return Set(try await self.walk(fixture.store, query).map(\.id))
            }
            #expect(try await ids { $0.statuses = [.open] } == [first[1], first[2], second[0]])
            #expect(try await ids { $0.statuses = [.resolved, .acknowledged] } == [first[0]])
            #expect(try await ids { $0.severities = [.critical] } == [first[1], second[0]])
            #expect(try await ids { $0.sourceName = "a" } == [first[0], first[1], second[0]])
            #expect(try await ids { $0.eventType = "x" } == [first[0], first[2], second[0]])
            #expect(try await ids { $0.createdFrom = later } == [second[0]])
            #expect(try await ids { $0.createdBefore = later } == Set(first))
            #expect(
                try await ids {
                    $0.sourceName = "a"
                    $0.eventType = "x"
                    $0.statuses = [.open]
                } == [second[0]])
        }
    }

    @Test("page size defaults to 20 and goes up to 1000; a negative or larger one is refused")
    func pageSizes() async throws {
        try await StoreFixture.with { fixture in
            _ = try await fixture.store.insertEvents((0..<1_005).map { _ in makeEvent(.low) }, submittedBy: agent)
            var query = EventQuery()
            #expect(try await fixture.store.listEvents(query).items.count == 20)
            query.pageSize = 1_001
            let tooLarge = await #expect(throws: StoreError.self) { try await fixture.store.listEvents(query) }
            #expect(tooLarge?.statusCode == .invalidArgument)
            query.pageSize = 1_000
            let page = try await fixture.store.listEvents(query)
            #expect(page.items.count == 1_000)
            query.pageToken = page.nextPageToken
            let last = try await fixture.store.listEvents(query)
            #expect(last.items.count == 5 && last.nextPageToken.isEmpty)
            query.pageSize = -1
            query.pageToken = ""
            let error = await #expect(throws: StoreError.self) { try await fixture.store.listEvents(query) }
            #expect(error?.statusCode == .invalidArgument)
        }
    }

    @Test("a tampered token, a garbage token, and a token used with another filter, order or listing are rejected")
    func pageTokens() async throws {
        try await StoreFixture.with { fixture in
            _ = try await fixture.store.insertEvents((0..<10).map { _ in makeEvent(.high) }, submittedBy: agent)
            var query = EventQuery()
            query.pageSize = 3
            query.sourceName = "web-01"
            let token = try await fixture.store.listEvents(query).nextPageToken
            #expect(!token.isEmpty)

            func rejects(_ query: EventQuery) async {
                let error = await #expect(throws: StoreError.self) { try await fixture.store.listEvents(query) }
                #expect(error?.code == .invalidPageToken)
                #expect(error?.statusCode == .invalidArgument)
            }
            var tampered = query
            var characters = Array(token)
            characters[characters.count / 2] = characters[characters.count / 2] == "A" ? "B" : "A"
            tampered.pageToken = String(characters)
            await rejects(tampered)
            var garbage = query
            garbage.pageToken = "not a token!"
            await rejects(garbage)
            var otherFilter = query
            otherFilter.pageToken = token
            otherFilter.sourceName = "web-02"
            await rejects(otherFilter)
            var otherOrder = query
            otherOrder.pageToken = token
            otherOrder.ascending = true
            await rejects(otherOrder)

            var alerts = AlertQuery()
            alerts.sourceName = "web-01"
            alerts.pageToken = token
            let error = await #expect(throws: StoreError.self) { try await fixture.store.listAlerts(alerts) }
            #expect(error?.code == .invalidPageToken)

            // The untouched token still works, also with a different page size.
            var valid = query
            valid.pageToken = token
            valid.pageSize = 100
            #expect(try await fixture.store.listEvents(valid).items.count == 7)
        }
    }
}
