// Helpers shared by the Store tests: a store on a real SQLite file in a temporary directory, a nanosecond clock the
// test moves by hand (every write reads it once, so tests decide created_at and received_at), and event builders.
import Synchronization
import VigilAPI
import VigilSQLite
import VigilTesting

@testable import VigilService

/// A nanosecond clock that advances by `step` each time it is read, so rows written one after another get
/// distinct, increasing times unless the test pins them.
final class StoreClock: Sendable {
    private let state: Mutex<(now: Int64, step: Int64)>

    init(start: Int64 = 1_700_000_000_000_000_000, step: Int64 = 1_000) {
        self.state = Mutex((start, step))
    }

    func read() -> Int64 {
        self.state.withLock { state in
            defer { state.now += state.step }
            return state.now
        }
    }

    var peek: Int64 { self.state.withLock { $0.now } }

    func set(_ now: Int64) {
        self.state.withLock { $0.now = now }
    }
}

/// A store and everything that must live as long as it: its directory and its clock.
struct StoreFixture: Sendable {
    let directory: TemporaryDirectory
    let store: SQLiteStore
    let clock: StoreClock
    var path: String { self.store.configuration.path }

    init(readers: Int = 2, configure: (inout SQLiteStore.Configuration) -> Void = { _ in }) throws {
        self.directory = try TemporaryDirectory(prefix: "vigil-store")
        let clock = StoreClock()
        self.clock = clock
        var configuration = SQLiteStore.Configuration(path: self.directory.file("vigil.db"))
        configuration.readerCount = readers
        configuration.clock = { clock.read() }
        configuration.writerCacheKiB = 8_192
        configuration.readerCacheKiB = 2_048
        configure(&configuration)
        self.store = try SQLiteStore(configuration: configuration)
    }

    /// Runs `body` with a fixture and closes the store afterwards, also when the body throws.
    static func with<T>(readers: Int = 2, _ body: (StoreFixture) async throws -> T) async throws -> T {
        let fixture = try StoreFixture(readers: readers)
        defer { fixture.store.close() }
        return try await body(fixture)
    }
}

let agent = ActingUser(userID: 7, username: "agent-7")
let admin = ActingUser(userID: 1, username: "admin")

func makeEvent(
    _ severity: Severity,
    source: String = "web-01",
    type: String = "ssh.login_failed",
    occurredAt: Int64? = nil,
    key: String? = nil
) -> NewEvent {
    NewEvent(
        sourceName: source,
        eventType: type,
        severity: severity,
        description: "\(severity.protoName) from \(source)",
        occurredAt: occurredAt,
        idempotencyKey: key
    )
}

extension InsertOutcome {
    var eventID: Int64? {
        if case .stored(let eventID, _) = self { return eventID }
        return nil
    }

    var alertID: Int64? {
        if case .stored(_, let alertID) = self { return alertID }
        return nil
    }
}

extension SQLiteStore {
    /// `SELECT count(*)` of a table, read on the writer connection (sees every commit); for "events", the sum of
    /// the batch rows' counts.
    func count(_ table: String) async throws -> Int64 {
        precondition(["events", "alerts", "alert_changes", "users", "refresh_tokens"].contains(table))
        let sql =
            table == "events" ? "SELECT coalesce(sum(count), 0) FROM event_batches" : "SELECT count(*) FROM \(table)"
        return try await self.withWriterConnection { database in
            try database.queryFirst(sql) { $0.int64(at: 0) } ?? -1
        }
    }
}
