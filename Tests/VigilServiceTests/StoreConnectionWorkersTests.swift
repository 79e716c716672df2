// The threads behind the store: work runs on the connection's own thread (never the cooperative pool), a full
// queue refuses at once, shutdown fails what waits, and every caller is resumed exactly once.
import Dispatch
import Foundation
import Testing
import VigilRPC
import VigilSQLite
import VigilTesting

@testable import VigilService

@Suite("Store connection workers")
struct StoreConnectionWorkersTests {
    private func makeWorkers(capacity: Int) throws -> (ConnectionWorkers, TemporaryDirectory) {
        let directory = try TemporaryDirectory(prefix: "vigil-workers")
        let database = try Database(path: directory.file("w.db"))
        return (ConnectionWorkers(name: "test-worker", connections: [database], capacity: capacity), directory)
    }

    @Test("jobs run on the worker's own named thread")
    func runsOnOwnThread() async throws {
        let (workers, directory) = try self.makeWorkers(capacity: 4)
        defer { workers.shutdown() }
        let name = try await workers.run { _ in
            Thread.current.threadDictionary[ConnectionWorkers.threadKey] as? String
        }
        #expect(name == "test-worker-0")
        _ = directory
    }

    @Test("a full queue answers overloaded at once; shutdown fails queued jobs with unavailable")
    func boundedQueueAndShutdown() async throws {
        let (workers, directory) = try self.makeWorkers(capacity: 1)
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let blocker = Task {
            try await workers.run { _ in
                started.signal()
                release.wait()
            }
        }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                started.wait()
                continuation.resume()
            }
        }
        let queued = Task { try await workers.run { _ in 1 } }
        // Wait until the second job is queued, then the third must be refused.
        while workers.queueDepth < 1 { await Task.yield() }
        let refused = await #expect(throws: StoreError.self) { try await workers.run { _ in 2 } }
        #expect(refused?.code == .overloaded)
        #expect(refused?.statusCode == .resourceExhausted)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { release.signal() }
        workers.shutdown()
        try await blocker.value
        let dropped = await #expect(throws: StoreError.self) { try await queued.value }
        #expect(dropped?.code == .unavailable)
        let late = await #expect(throws: StoreError.self) { try await workers.run { _ in 3 } }
        #expect(late?.code == .unavailable)
        _ = directory
    }

    @Test(
        "SQLite failures map to the statuses clients act on",
        arguments: [
            (SQLiteError.Code.full, StoreError.Code.unavailable), (.readOnly, .unavailable), (.busy, .unavailable),
            (.corrupt, .internal), (.constraint, .internal),
        ])
    func errorMapping(sqliteCode: SQLiteError.Code, expected: StoreError.Code) {
        let error = StoreError.from(SQLiteError(code: sqliteCode, message: "test"))
        #expect(error.code == expected)
        #expect(StoreError.from(StoreError(.notFound, "x")).code == .notFound)
    }

    @Test("a read-only database file makes writes unavailable")
    func readOnlyDatabase() async throws {
        let directory = try TemporaryDirectory(prefix: "vigil-workers")
        let path = directory.file("ro.db")
        try SQLiteStore(path: path).close()
        let database = try Database(path: path, options: .init(access: .readOnly))
        let workers = ConnectionWorkers(name: "ro", connections: [database], capacity: 4)
        defer { workers.shutdown() }
        let error = await #expect(throws: StoreError.self) {
            try await workers.run { database in
                try database.transaction(.immediate) { database in
                    try database.execute(
                        """
                        INSERT INTO users (username, role, password_hash, created_at, updated_at)
                        VALUES ('x', 1, 'h', 0, 0)
                        """
                    )
                }
            }
        }
        #expect(error?.code == .unavailable)
    }
}
