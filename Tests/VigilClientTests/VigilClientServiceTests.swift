// VigilClient against the real service (VigilServer on a real SQLite file) over the in-process transport: login,
// ingest with batching and per-event rejections mapped back to the caller's indexes, alerts created, lists and
// updates through the typed methods, and the server's statuses arriving as RPCError.
import Foundation
import Synchronization
import Testing
import VigilAPI
import VigilClient
import VigilRPC
import VigilService
import VigilTLS
import VigilTesting

@Suite struct VigilClientServiceTests {
    static let password = "correct horse battery staple"

    /// A client logged in as a fresh admin of a fresh service; the service is closed after `body`.
    static func withClient<T>(_ body: (VigilClient) async throws -> T) async throws -> T {
        let directory = try TemporaryDirectory(prefix: "vigil-client")
        let store = try SQLiteStore(path: directory.file("vigil.db"))
        let pool = HashingPool(hasher: PasswordHasher(iterations: 200))
        defer {
            store.close()
            pool.shutdown()
        }
        let server = try VigilServer(
            store: store, hashingPool: pool, throttle: LoginThrottle(),
            configuration: VigilServer.Configuration(tokenSecret: SecureRandom.bytes(32)))
        _ = try await server.bootstrapFirstAdmin(username: "admin", password: Self.password)
        let client = VigilClient(transport: InProcessTransport(router: server.makeRouter()))
        try await client.authenticate(username: "admin", password: Self.password)
        return try await body(client)
    }

    static func event(_ index: Int, severity: Severity) -> Event {
        var event = Event()
        event.sourceName = "host-\(index % 7)"
        event.eventType = "auth.login_failed"
        event.severity = severity
        event.description = "failed login \(index)"
        return event
    }

    @Test("ingest batches events, maps rejections to the caller's indexes, and creates alerts for HIGH and CRITICAL")
    func ingest() async throws {
        try await Self.withClient { client in
            var events = (0..<1_234).map { Self.event($0, severity: [.low, .medium, .high, .critical][$0 % 4]) }
            events[17].description = "   "  // blank: refused by validation
            events[600].severity = .unspecified  // refused
            let progress = ProgressCounter()
            let summary = try await client.ingest(events, batchSize: 100, maxInFlight: 4) { _ in progress.increment() }
            #expect(summary.batches == 13)
            #expect(progress.count == 13)
            #expect(summary.accepted == 1_232)
            #expect(summary.rejections.map(\.eventIndex) == [17, 600])
            #expect(summary.rejections.allSatisfy { $0.code == .invalidArgument })
            let highOrCritical = events.enumerated().filter { $0.offset != 600 && [.high, .critical].contains($0.element.severity) }
            #expect(summary.alertsCreated == highOrCritical.count)

            let stats = try await client.getStats()
            #expect(stats.totalEvents == 1_232)
            #expect(stats.totalAlerts == Int64(summary.alertsCreated))
            #expect(stats.eventsBySeverity.first { $0.severity == .critical }?.count == Int64(1_234 / 4))
            var list = ListEventsRequest()
            list.pageSize = 1000
            #expect(try await client.listEvents(list).events.count == 1000)
        }
    }

    @Test("an alert is listed, fetched and moved through its lifecycle with optimistic versions")
    func alerts() async throws {
        try await Self.withClient { client in
            _ = try await client.ingest([Self.event(1, severity: .critical)])
            let alert = try #require(try await client.listAlerts(ListAlertsRequest()).alerts.first)
            #expect(alert.status == .open)
            let updated = try await client.updateAlert(id: alert.id, status: .resolved, expectedVersion: alert.version)
            #expect(updated.alert?.status == .resolved)
            #expect(updated.alert?.resolvedAt != nil)
            let stale = await #expect(throws: RPCError.self) {
                try await client.updateAlert(id: alert.id, status: .open, expectedVersion: alert.version)
            }
            #expect(stale?.code == .aborted)
            let fetched = try await client.getAlert(id: alert.id)
            #expect(fetched.history.count >= 1)
            let missing = await #expect(throws: RPCError.self) { try await client.getEvent(id: 999_999) }
            #expect(missing?.code == .notFound)
        }
    }

    @Test("batches close at the event count or at 1 MiB, whichever comes first")
    func batching() {
        var big = Self.event(0, severity: .low)
        big.description = String(repeating: "x", count: 300_000)
        let events = Array(repeating: big, count: 7) + (0..<250).map { Self.event($0, severity: .low) }
        let batches = VigilClient.batches(events, batchSize: 100)
        #expect(batches.allSatisfy { batch in
            batch.range.count <= 100 && batch.range.map { events[$0].serializedSize() + 4 }.reduce(0, +) < VigilClient.maximumBatchBytes
        })
        #expect(batches.map(\.range.count).reduce(0, +) == events.count)
        #expect(batches.first?.range == 0..<3)
    }
}

/// Counts acknowledgements from the `onAck` callback, which runs on the ingest task.
final class ProgressCounter: Sendable {
    private let value = Mutex(0)
    func increment() { self.value.withLock { $0 += 1 } }
    var count: Int { self.value.withLock { $0 } }
}
