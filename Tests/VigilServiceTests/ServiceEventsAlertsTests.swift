// Events and alerts through the RPCs: ingest (validation per event, idempotency keys, alerts for HIGH/CRITICAL, the
// stream's own rules), GetEvent, UpdateAlert's lifecycle and concurrency rules with its history, listing with
// filters, orders and pages (and a tampered page token), and GetStats.
import Testing
import VigilAPI
import VigilRPC

@testable import VigilService

@Suite struct ServiceEventsAlertsTests {
    @Test("a batch stores valid events, rejects invalid ones by index, counts duplicates and alerts")
    func ingestBatch() async throws {
        try await ServiceFixture.with { fixture in
            let agent = try await fixture.userWithToken("probe", .agent).token
            let admin = try await fixture.userWithToken("root", .admin).token
            let ack = try await fixture.ingest(
                [
                    makeAPIEvent(.low), makeAPIEvent(.high), makeAPIEvent(.critical), makeAPIEvent(.low, source: " "),
                    makeAPIEvent(.medium, key: "k1"), makeAPIEvent(.medium, key: "k1"),
                ], token: agent)
            #expect(ack.sequence == 1)
            #expect(ack.accepted == 4)
            #expect(ack.duplicates == 1)
            #expect(ack.alertsCreated == 2)
            #expect(ack.rejections.map(\.index) == [3])
            #expect(ack.rejections.first?.code == Status.Code.invalidArgument.rawValue)
            let stats = try await fixture.call(
                VigilMethods.getStats, GetStatsRequest(), token: admin, as: GetStatsResponse.self)
            #expect(stats.totalEvents == 4)
            #expect(stats.totalAlerts == 2)
            #expect(stats.eventsBySeverity.map(\.count) == [1, 1, 1, 1])
            #expect(stats.alertsByStatus.map(\.status) == [.open, .acknowledged, .resolved])
            #expect(stats.alertsByStatus.map(\.count) == [2, 0, 0])
            #expect(stats.alertsBySeverity.map(\.count) == [0, 0, 1, 1])
            // The key is per user: the same key from another user is stored.
            let again = try await fixture.ingest([makeAPIEvent(.medium, key: "k1")], token: admin)
            #expect(again.accepted == 1)
        }
    }

    @Test("the stream opens with a 16-byte producer id, then takes batches; a resent sequence stores nothing")
    func ingestStreamRules() async throws {
        try await ServiceFixture.with { fixture in
            let agent = try await fixture.userWithToken("probe", .agent).token
            let noOpen = await statusCode { _ = try await self.stream(fixture, agent, [.batch(1, [])]) }
            #expect(noOpen == .invalidArgument)
            let shortID = await statusCode {
                _ = try await self.stream(fixture, agent, [.open(producer: Array(repeating: 1, count: 15))])
            }
            #expect(shortID == .invalidArgument)
            let zero = await statusCode {
                _ = try await self.stream(fixture, agent, [.open(producer: randomProducer()), .batch(0, [])])
            }
            #expect(zero == .invalidArgument)
            let responses = try await self.stream(
                fixture, agent,
                [
                    .open(producer: randomProducer()), .batch(1, [makeAPIEvent(.high)]),
                    .batch(1, [makeAPIEvent(.high)]),
                    .batch(2, [makeAPIEvent(.low)]),
                ])
            guard responses.count == 4, case .ready(let ready) = responses[0].kind,
                case .ack(let first) = responses[1].kind, case .ack(let resent) = responses[2].kind,
                case .ack(let second) = responses[3].kind
            else {
                Issue.record("unexpected responses \(responses)")
                return
            }
            #expect(ready.lastCommittedSequence == 0)
            #expect(first.accepted == 1 && first.alertsCreated == 1 && !first.duplicateBatch)
            #expect(resent.duplicateBatch && resent.accepted == 0 && resent.duplicates == 1)
            #expect(second.sequence == 2 && second.accepted == 1)
            #expect(try await fixture.store.count("events") == 2)
        }
    }

    @Test("a user disabled during a stream ends it with UNAUTHENTICATED at the next check")
    func ingestRechecksCaller() async throws {
        let configure: (inout VigilServer.Configuration) -> Void = { $0.tokenRecheckInterval = .zero }
        try await ServiceFixture.with(configure: configure) { fixture in
            let agent = try await fixture.userWithToken("probe", .agent)
            let code = await statusCode {
                try await fixture.client.bidiStream(
                    VigilMethods.ingestEvents, requestType: IngestEventsRequest.self,
                    responseType: IngestEventsResponse.self, metadata: bearer(agent.token)
                ) { writer, responses in
                    var iterator = responses.makeAsyncIterator()
                    try await writer.write(.open(producer: randomProducer()))
                    try await writer.write(.batch(1, [makeAPIEvent(.low)]))
                    _ = try await iterator.next()
                    _ = try await iterator.next()
                    _ = try await fixture.store.updateUser(id: agent.user.id, UserChanges(disabled: true))
                    try await writer.write(.batch(2, [makeAPIEvent(.low)]))
                    while try await iterator.next() != nil {}
                }
            }
            #expect(code == .unauthenticated)
            #expect(try await fixture.store.count("events") == 1)
        }
    }

    @Test("GetEvent returns the event and its alert id (0 without one); an unknown id is NOT_FOUND")
    func getEvent() async throws {
        try await ServiceFixture.with { fixture in
            let admin = try await fixture.userWithToken("root", .admin).token
            _ = try await fixture.ingest([makeAPIEvent(.high), makeAPIEvent(.low)], token: admin)
            let listed = try await fixture.call(
                VigilMethods.listEvents, ListEventsRequest(), token: admin, as: ListEventsResponse.self)
            for event in listed.events {
                var request = GetEventRequest()
                request.id = event.id
                let detail = try await fixture.call(
                    VigilMethods.getEvent, request, token: admin, as: GetEventResponse.self)
                #expect(detail.event == event)
                #expect((detail.alertId != 0) == (event.severity == .high))
                #expect(detail.event?.submittedByUsername == "root")
            }
            var unknown = GetEventRequest()
            unknown.id = 999
            let code = await statusCode {
                _ = try await fixture.call(VigilMethods.getEvent, unknown, token: admin, as: GetEventResponse.self)
            }
            #expect(code == .notFound)
        }
    }

    @Test("UpdateAlert moves through the lifecycle, keeps resolved_at rules and history; bad requests fail")
    func updateAlert() async throws {
        try await ServiceFixture.with { fixture in
            let admin = try await fixture.userWithToken("root", .admin).token
            _ = try await fixture.ingest([makeAPIEvent(.critical)], token: admin)
            let alerts = try await fixture.call(
                VigilMethods.listAlerts, ListAlertsRequest(), token: admin, as: ListAlertsResponse.self)
            let original = try #require(alerts.alerts.first)
            #expect(original.status == .open && original.version == 1 && original.resolvedAt == nil)
            let acknowledged = try await self.update(fixture, admin, original.id, .acknowledged, 1)
            #expect(acknowledged.version == 2 && acknowledged.resolvedAt == nil)
            let resolved = try await self.update(fixture, admin, original.id, .resolved, 2)
            let resolvedAt = try #require(resolved.resolvedAt)
            let again = try await self.update(fixture, admin, original.id, .resolved, 3)
            #expect(again.resolvedAt == resolvedAt)
            let reopened = try await self.update(fixture, admin, original.id, .open, 4)
            #expect(reopened.resolvedAt == nil && reopened.version == 5)
            #expect(reopened.eventId == original.eventId && reopened.event == original.event)

            #expect(
                await statusCode { _ = try await self.update(fixture, admin, original.id, .resolved, 4) } == .aborted)
            #expect(await statusCode { _ = try await self.update(fixture, admin, 9999, .resolved, 1) } == .notFound)
            let unspecified = await statusCode {
                _ = try await self.update(fixture, admin, original.id, .unspecified, 5)
            }
            #expect(unspecified == .invalidArgument)
            #expect(
                await statusCode { _ = try await self.update(fixture, admin, original.id, .open, 0) }
                    == .invalidArgument)

            var get = GetAlertRequest()
            get.id = original.id
            let detail = try await fixture.call(VigilMethods.getAlert, get, token: admin, as: GetAlertResponse.self)
            #expect(detail.alert?.version == 5)
            #expect(detail.history.map(\.fromStatus) == [.open, .acknowledged, .resolved, .resolved])
            #expect(detail.history.map(\.toStatus) == [.acknowledged, .resolved, .resolved, .open])
            #expect(detail.history.map(\.version) == [2, 3, 4, 5])
            #expect(detail.history.allSatisfy { $0.changedByUsername == "root" })
        }
    }

    // MARK: Helpers

    func update(
        _ fixture: ServiceFixture, _ token: String, _ id: Int64, _ status: AlertStatus, _ version: Int64
    ) async throws -> Alert {
        var request = UpdateAlertRequest()
        request.id = id
        request.status = status
        request.expectedVersion = version
        let response = try await fixture.call(
            VigilMethods.updateAlert, request, token: token, as: UpdateAlertResponse.self)
        return try #require(response.alert)
    }

    /// Sends `messages` on one IngestEvents stream, half-closes, and returns every response until the server ends it.
    func stream(_ fixture: ServiceFixture, _ token: String, _ messages: [IngestEventsRequest]) async throws
        -> [IngestEventsResponse]
    {
        try await fixture.client.bidiStream(
            VigilMethods.ingestEvents, requestType: IngestEventsRequest.self, responseType: IngestEventsResponse.self,
            metadata: bearer(token)
        ) { writer, responses in
            for message in messages { try await writer.write(message) }
            var received: [IngestEventsResponse] = []
            var iterator = responses.makeAsyncIterator()
            // One response per message (ready, then acks); then the server waits for more, so stop reading.
            while received.count < messages.count, let response = try await iterator.next() {
                received.append(response)
            }
            return received
        }
    }
}
