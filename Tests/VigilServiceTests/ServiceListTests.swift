// ListEvents and ListAlerts through the RPCs: the defaults (newest first, 20 a page), filters, rank orders, walking
// every page exactly once, and page tokens that are tampered with or reused with another filter (INVALID_ARGUMENT).
import Testing
import VigilAPI
import VigilRPC

@testable import VigilService

@Suite struct ServiceListTests {
    static let severities: [Severity] = [.low, .medium, .high, .critical]
    static let base: Int64 = 1_700_000_000

    /// 25 events a minute apart, severities cycling LOW..CRITICAL, sources alternating web-01 / db-01.
    func seed(_ fixture: ServiceFixture, _ token: String) async throws {
        let events = (0..<25).map { index in
            makeAPIEvent(
                Self.severities[index % 4], source: index % 2 == 0 ? "web-01" : "db-01",
                occurredAt: Timestamp(seconds: Self.base + Int64(index) * 60))
        }
        let ack = try await fixture.ingest(events, token: token)
        #expect(ack.accepted == 25)
    }

    func events(_ fixture: ServiceFixture, _ token: String, _ request: ListEventsRequest) async throws
        -> ListEventsResponse
    {
        try await fixture.call(VigilMethods.listEvents, request, token: token, as: ListEventsResponse.self)
    }

    @Test("ListEvents defaults to newest first, 20 a page, and every page walks each event once")
    func eventPages() async throws {
        try await ServiceFixture.with { fixture in
            let admin = try await fixture.userWithToken("root", .admin).token
            try await self.seed(fixture, admin)
            let first = try await self.events(fixture, admin, ListEventsRequest())
            #expect(first.events.count == 20)
            #expect(!first.nextPageToken.isEmpty)
            let times = first.events.compactMap { $0.occurredAt?.seconds }
            #expect(times == times.sorted(by: >))
            var request = ListEventsRequest()
            request.pageSize = 7
            var seen: [Int64] = []
            repeat {
                let page = try await self.events(fixture, admin, request)
                seen += page.events.map(\.id)
                request.pageToken = page.nextPageToken
            } while !request.pageToken.isEmpty
            #expect(seen.count == 25 && Set(seen).count == 25)
        }
    }

    @Test("ListEvents filters by severity, source and time range, and orders by severity rank")
    func eventFilters() async throws {
        try await ServiceFixture.with { fixture in
            let analyst = try await fixture.userWithToken("ana", .analyst).token
            try await self.seed(fixture, try await fixture.userWithToken("probe", .agent).token)
            var request = ListEventsRequest()
            var filter = EventFilter()
            filter.severities = [.high, .critical]
            filter.sourceName = "db-01"
            request.filter = filter
            request.pageSize = 100
            let filtered = try await self.events(fixture, analyst, request).events
            #expect(!filtered.isEmpty)
            #expect(filtered.allSatisfy { [.high, .critical].contains($0.severity) && $0.sourceName == "db-01" })

            var range = TimeRange()
            range.start = Timestamp(seconds: Self.base + 60)
            range.end = Timestamp(seconds: Self.base + 4 * 60)
            var timed = ListEventsRequest()
            timed.filter = EventFilter()
            timed.filter?.occurred = range
            let inRange = try await self.events(fixture, analyst, timed).events
            #expect(inRange.compactMap { $0.occurredAt?.seconds }.sorted() == [1, 2, 3].map { Self.base + $0 * 60 })

            var bySeverity = ListEventsRequest()
            bySeverity.orderBy = .severity
            bySeverity.pageSize = 100
            let ranked = try await self.events(fixture, analyst, bySeverity).events.map(\.severity.rawValue)
            #expect(ranked == ranked.sorted(by: >))
            bySeverity.ascending = true
            let ascending = try await self.events(fixture, analyst, bySeverity).events.map(\.severity.rawValue)
            #expect(ascending == ascending.sorted())
        }
    }

    @Test("a tampered page token, one reused with another filter, or a negative page size is INVALID_ARGUMENT")
    func badPageTokens() async throws {
        try await ServiceFixture.with { fixture in
            let admin = try await fixture.userWithToken("root", .admin).token
            try await self.seed(fixture, admin)
            var request = ListEventsRequest()
            request.pageSize = 5
            let token = try await self.events(fixture, admin, request).nextPageToken
            var tampered = request
            var characters = Array(token)
            characters[characters.count / 2] = characters[characters.count / 2] == "A" ? "B" : "A"
            tampered.pageToken = String(characters)
            #expect(await statusCode { _ = try await self.events(fixture, admin, tampered) } == .invalidArgument)
            var otherFilter = request
            otherFilter.pageToken = token
            otherFilter.orderBy = .severity
            #expect(await statusCode { _ = try await self.events(fixture, admin, otherFilter) } == .invalidArgument)
            var negative = ListEventsRequest()
            negative.pageSize = -1
            #expect(await statusCode { _ = try await self.events(fixture, admin, negative) } == .invalidArgument)
            var alerts = ListAlertsRequest()
            alerts.pageToken = "garbage"
            let code = await statusCode {
                _ = try await fixture.call(VigilMethods.listAlerts, alerts, token: admin, as: ListAlertsResponse.self)
            }
            #expect(code == .invalidArgument)
        }
    }

    @Test("ListAlerts filters by status and source, orders by lifecycle and severity, and pages")
    func alertLists() async throws {
        try await ServiceFixture.with { fixture in
            let admin = try await fixture.userWithToken("root", .admin).token
            try await self.seed(fixture, admin)
            func list(_ request: ListAlertsRequest) async throws -> ListAlertsResponse {
                try await fixture.call(VigilMethods.listAlerts, request, token: admin, as: ListAlertsResponse.self)
            }
            let all = try await list(ListAlertsRequest()).alerts
            #expect(all.count == 12)  // indices 2,3 mod 4 of 0..<25
            let created = all.compactMap { $0.createdAt?.unixNanoseconds }
            #expect(created == created.sorted(by: >))
            let target = try #require(all.first)
            var update = UpdateAlertRequest()
            update.id = target.id
            update.status = .resolved
            update.expectedVersion = target.version
            _ = try await fixture.call(VigilMethods.updateAlert, update, token: admin, as: UpdateAlertResponse.self)

            var resolved = ListAlertsRequest()
            resolved.filter = AlertFilter()
            resolved.filter?.statuses = [.resolved]
            #expect(try await list(resolved).alerts.map(\.id) == [target.id])

            var bySource = ListAlertsRequest()
            bySource.filter = AlertFilter()
            bySource.filter?.sourceName = "web-01"
            bySource.filter?.severities = [.high]
            let web = try await list(bySource).alerts
            #expect(!web.isEmpty && web.allSatisfy { $0.event?.sourceName == "web-01" && $0.event?.severity == .high })

            var byStatus = ListAlertsRequest()
            byStatus.orderBy = .status
            byStatus.ascending = true
            byStatus.pageSize = 100
            #expect(try await list(byStatus).alerts.last?.status == .resolved)

            var bySeverity = ListAlertsRequest()
            bySeverity.orderBy = .severity
            bySeverity.pageSize = 5
            var ranks: [Int32] = []
            repeat {
                let page = try await list(bySeverity)
                ranks += page.alerts.compactMap { $0.event?.severity.rawValue }
                bySeverity.pageToken = page.nextPageToken
            } while !bySeverity.pageToken.isEmpty
            #expect(ranks.count == 12 && ranks == ranks.sorted(by: >))
        }
    }
}
