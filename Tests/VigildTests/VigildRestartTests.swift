// Restart persistence and retention through the real binary: a first vigild takes a user, events and alerts and
// issues tokens; SIGTERM; a second vigild on the same data directory, started with `--retention-days 1`, must still
// know the user, honour the tokens the first one issued (the token secret is persisted, not regenerated), hold every
// event and alert, except the old ones retention may delete: an event older than a day without an alert or with a
// RESOLVED one goes with that alert, an old event whose alert is still open stays.
import Foundation
import Testing
import VigilAPI
import VigilClient
import VigilPOSIX
import VigilRPC
import VigilTesting

@Suite(.serialized) struct VigildRestartTests {
    static let password = "correct horse battery staple"

    static func event(_ source: String, _ severity: Severity, daysAgo: Int64 = 0) -> Event {
        var event = Event()
        event.sourceName = source
        event.eventType = "ssh.login_failed"
        event.severity = severity
        event.description = "restart test"
        if daysAgo > 0 { event.occurredAt = Timestamp(seconds: Int64(Date().timeIntervalSince1970) - daysAgo * 86_400) }
        return event
    }

    static func bearer(_ token: String) -> Metadata {
        var metadata = Metadata()
        metadata.append("authorization", "Bearer \(token)")
        return metadata
    }

    @Test("users, events, alerts and tokens survive a restart; --retention-days deletes old unalerted or resolved events")
    func restart() async throws {
        let directory = try TemporaryDirectory(prefix: "vigild-restart")
        let ca = directory.file("data/tls/cert.pem")

        // First life: a user, five events (three alerts, one resolved), a login.
        let (first, firstPort, firstStderr) = try await VigildServeTests.start(in: directory)
        defer { if first.isRunning { first.terminate() } }
        let client = try await VigildServeTests.connect(port: firstPort, ca: ca)
        try await client.authenticate(username: "admin", password: Self.password)
        var newUser = CreateUserRequest()
        newUser.username = "ana"
        newUser.password = "another long password"
        newUser.role = .analyst
        _ = try await client.createUser(newUser)
        let summary = try await client.ingest([
            Self.event("recent-high", .high), Self.event("recent-low", .low),
            Self.event("old-low", .low, daysAgo: 3), Self.event("old-resolved", .high, daysAgo: 3),
            Self.event("old-open", .critical, daysAgo: 3),
        ])
        #expect(summary.accepted == 5 && summary.alertsCreated == 3)
        var byOldResolved = ListAlertsRequest()
        var filter = AlertFilter()
        filter.sourceName = "old-resolved"
        byOldResolved.filter = filter
        let toResolve = try #require(try await client.listAlerts(byOldResolved).alerts.first)
        _ = try await client.updateAlert(id: toResolve.id, status: .resolved, expectedVersion: toResolve.version)
        let tokens = try #require(client.tokens)
        await client.close()
        let firstLog = try await VigildServeTests.stop(first, firstStderr)
        #expect(firstLog.first("retention on") == nil, "retention is off by default")

        // Second life, same data directory, retention on.
        let (second, secondPort, secondStderr) = try await VigildServeTests.start(
            in: directory, extraArguments: ["--retention-days", "1"])
        defer { if second.isRunning { second.terminate() } }
        let raw = try await VigildServeTests.connect(port: secondPort, ca: ca)
        // The old access token works as is: no login, no refresh behind our back (raw transport calls).
        let whoami = try await raw.transport.unary(
            VigilMethods.whoAmI, request: WhoAmIRequest(), responseType: WhoAmIResponse.self,
            metadata: Self.bearer(tokens.accessToken), deadline: .now + .seconds(10))
        #expect(whoami.user?.username == "admin")
        // The old refresh token refreshes.
        var refresh = RefreshTokenRequest()
        refresh.refreshToken = tokens.refreshToken
        let refreshed = try await raw.transport.unary(
            VigilMethods.refreshToken, request: refresh, responseType: RefreshTokenResponse.self,
            deadline: .now + .seconds(10))
        #expect(refreshed.tokens?.accessToken.isEmpty == false)
        // The user made in the first life logs in.
        try await raw.authenticate(username: "ana", password: "another long password")
        #expect(try await raw.whoAmI().user?.role == .analyst)

        // Retention ran at start (in the background): wait, bounded, for the two deletable events to go.
        let end = ContinuousClock.now + .seconds(15)
        var events: [Event] = []
        repeat {
            events = try await raw.listEvents(ListEventsRequest()).events
            if events.count <= 3 { break }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < end
        #expect(Set(events.map(\.sourceName)) == ["recent-high", "recent-low", "old-open"])
        let alerts = try await raw.listAlerts(ListAlertsRequest()).alerts
        let alerted = Set(events.filter { ["recent-high", "old-open"].contains($0.sourceName) }.map(\.id))
        #expect(Set(alerts.map(\.eventId)) == alerted)
        #expect(alerts.allSatisfy { $0.status == .open })
        let stats = try await raw.getStats()
        #expect(stats.totalEvents == 3 && stats.totalAlerts == 2)
        await raw.close()

        let secondLog = try await VigildServeTests.stop(second, secondStderr)
        #expect(secondLog.all("created file").isEmpty, "a restart creates nothing: \(secondLog.text)")
        #expect(secondLog.first("retention on")?["days"] == "1")
        let pass = try #require(secondLog.first("retention pass"), "\(secondLog.text)")
        #expect(pass["events_deleted"] == "2")
        #expect(pass["alerts_deleted"] == "1")
        #expect(!secondLog.text.contains(tokens.accessToken) && !secondLog.text.contains(tokens.refreshToken))
    }
}
