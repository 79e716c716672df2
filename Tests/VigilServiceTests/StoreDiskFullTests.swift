// A database that cannot take writes: full (simulated with `PRAGMA max_page_count` on the writer connection, which
// makes SQLite answer SQLITE_FULL exactly as a full disk does) or read-only (`PRAGMA query_only`, SQLITE_READONLY;
// CI runs as root, so file modes cannot make the file read-only). The store must refuse ingest with UNAVAILABLE
// (nothing stored, so safe to resend), report the failure, keep its committer and indexer alive without spinning,
// and work again, indexer included, once writes are possible again.
import Foundation
import Synchronization
import Testing
import VigilAPI
import VigilRPC
import VigilSQLite
import VigilTesting

@testable import VigilService

@Suite("Store disk full and read-only") struct StoreDiskFullTests {
    /// Every report the store made, in order.
    final class Reports: Sendable {
        private let reports = Mutex<[StoreReport]>([])
        func append(_ report: StoreReport) { self.reports.withLock { $0.append(report) } }
        var all: [StoreReport] { self.reports.withLock { $0 } }
        var indexingFailures: [Int] {
            self.all.compactMap { if case .indexingFailed(_, let failures, _) = $0 { failures } else { nil } }
        }
        var commitFailures: [(StoreError, Int)] {
            self.all.compactMap {
                if case .ingestCommitFailed(let error, let failures) = $0 { (error, failures) } else { nil }
            }
        }
        var indexingRecovered: Bool {
            self.all.contains { if case .indexingRecovered = $0 { true } else { false } }
        }
        var commitRecovered: Bool {
            self.all.contains { if case .ingestCommitRecovered = $0 { true } else { false } }
        }
    }

    static func store(
        _ directory: TemporaryDirectory, _ reports: Reports, idleDelay: Duration = .milliseconds(20)
    ) throws -> SQLiteStore {
        var configuration = SQLiteStore.Configuration(path: directory.file("vigil.db"))
        configuration.writerCacheKiB = 2_048
        configuration.readerCacheKiB = 1_024
        configuration.indexIdleDelay = idleDelay
        configuration.indexRetryInitialDelay = .milliseconds(20)
        configuration.indexRetryMaximumDelay = .milliseconds(160)
        configuration.report = reports.append
        return try SQLiteStore(configuration: configuration)
    }

    /// Submits one batch and waits for its completion.
    static func ingest(
        _ store: SQLiteStore, _ producer: [UInt8], _ sequence: UInt64, events: Int, size: Int = 200
    ) async -> Result<IngestOutcome, StoreError> {
        let padding = String(repeating: "x", count: size)
        let batch = IngestBatch(
            producerID: producer, sequence: sequence, submitter: agent,
            events: (0..<events).map { index in
                var event = makeEvent(index % 4 == 0 ? .critical : .low)
                event.description = "b\(sequence)-e\(index) \(padding)"
                return event
            })
        return await withCheckedContinuation { continuation in
            store.submitIngest(batch) { continuation.resume(returning: $0) }
        }
    }

    /// Caps the file at its current size: the next write that needs a new page fails with SQLITE_FULL.
    static func fill(_ store: SQLiteStore) async throws {
        try await store.withWriterConnection { database in
            let pages = try database.queryFirst("PRAGMA page_count") { $0.int64(at: 0) } ?? 0
            try database.execute("PRAGMA max_page_count = \(pages)")
        }
    }

    static func makeRoom(_ store: SQLiteStore) async throws {
        try await store.withWriterConnection { database in try database.execute("PRAGMA max_page_count = 1073741823") }
    }

    static func setReadOnly(_ store: SQLiteStore, _ readOnly: Bool) async throws {
        try await Self.onWriter(store) { database in
            try database.execute("PRAGMA query_only = \(readOnly ? 1 : 0)")
        }
    }

    static func tail(_ store: SQLiteStore) async throws -> Int64 {
        try await Self.onWriter(store) { database in try SQLiteStore.tailEvents(database) }
    }

    /// Polls the tail until the indexer has emptied it or `timeout` (from now: a loaded machine may have used up a
    /// test's earlier deadlines) has passed; returns the last tail seen.
    static func tailOnceIndexed(_ store: SQLiteStore, timeout: Duration = .seconds(30)) async throws -> Int64 {
        let end = ContinuousClock.now + timeout
        var tail = try await Self.tail(store)
        while tail > 0 && ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(10))
            tail = try await Self.tail(store)
        }
        return tail
    }

    /// Runs `body` on the writer, waiting for room when a test's one-job writer queue is taken (by indexing steps).
    static func onWriter<T: Sendable>(
        _ store: SQLiteStore, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        while true {
            let result: Result<T, StoreError>
            do {
                result = .success(try await store.withWriterConnection(body))
            } catch {
                result = .failure(error)
            }
            if case .failure(let error) = result, error.code == .overloaded {
                try await Task.sleep(for: .milliseconds(5))
                continue
            }
            return try result.get()
        }
    }

    @Test("a full database fails the group commit UNAVAILABLE, stores nothing, reports it, and the resend commits")
    func fullDatabaseRefusesThenRecovers() async throws {
        let directory = try TemporaryDirectory(prefix: "vigil-full")
        let reports = Reports()
        let store = try Self.store(directory, reports)
        defer { store.close() }
        let producer = randomProducer()
        guard case .success(.stored) = await Self.ingest(store, producer, 1, events: 10) else {
            Issue.record("the first batch must commit")
            return
        }
        try await Self.fill(store)
        for _ in 0..<3 {
            let refused = await Self.ingest(store, producer, 2, events: 2_000)
            guard case .failure(let error) = refused else {
                Issue.record("a full database stored a batch: \(refused)")
                return
            }
            #expect(error.code == .unavailable && error.statusCode == .unavailable, "\(error)")
            #expect((error.cause as? SQLiteError)?.code == .full, "\(error)")
        }
        #expect(try await store.count("events") == 10)
        #expect(try await store.count("alerts") == 3)
        #expect(try await store.producer(id: producer)?.lastSequence == 1)
        // Reported on the 1st and 2nd failure in a row, not the 3rd.
        #expect(reports.commitFailures.map(\.1) == [1, 2])

        try await Self.makeRoom(store)
        guard case .success(.stored(let outcomes)) = await Self.ingest(store, producer, 2, events: 2_000) else {
            Issue.record("the resent batch must commit once there is room")
            return
        }
        #expect(outcomes.count == 2_000)
        #expect(try await store.count("events") == 2_010)
        #expect(try await store.producer(id: producer)?.lastSequence == 2)
        #expect(reports.commitRecovered)
    }

    @Test("a read-only database fails ingest UNAVAILABLE and takes writes again once writable")
    func readOnlyRefusesThenRecovers() async throws {
        let directory = try TemporaryDirectory(prefix: "vigil-readonly")
        let reports = Reports()
        let store = try Self.store(directory, reports)
        defer { store.close() }
        let producer = randomProducer()
        try await Self.setReadOnly(store, true)
        let refused = await Self.ingest(store, producer, 1, events: 5)
        guard case .failure(let error) = refused else {
            Issue.record("a read-only database stored a batch: \(refused)")
            return
        }
        #expect(error.statusCode == .unavailable, "\(error)")
        #expect((error.cause as? SQLiteError)?.code == .readOnly, "\(error)")
        #expect(try await store.count("events") == 0)
        try await Self.setReadOnly(store, false)
        guard case .success(.stored) = await Self.ingest(store, producer, 1, events: 5) else {
            Issue.record("the batch must commit once the database is writable")
            return
        }
        #expect(try await store.count("events") == 5)
    }

    @Test("a failing indexer reports, backs off without spinning, and catches up on its own once writes work")
    func indexerRetriesAndCatchesUp() async throws {
        let directory = try TemporaryDirectory(prefix: "vigil-indexer-full")
        let reports = Reports()
        // No pause ever comes (an hour): the test blocks writes, then starts the first slice itself.
        let store = try Self.store(directory, reports, idleDelay: .seconds(3_600))
        defer { store.close() }
        guard case .success(.stored) = await Self.ingest(store, randomProducer(), 1, events: 500) else {
            Issue.record("the batch must commit")
            return
        }
        try await Self.setReadOnly(store, true)
        store.scheduleIndexing()
        // The slice fails; it is retried 20, 40, 80, 160, 160... ms later, by its timer alone.
        let end = ContinuousClock.now + .seconds(10)
        while reports.indexingFailures.count < 3 && ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(20))
        }
        let tailWhileFailing = try await Self.tail(store)
        #expect(tailWhileFailing == 500, "reports: \(reports.all)")
        let failuresBefore = store.ingestCommitter.indexingFailures
        let slept = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(500))
        let failuresAfter = store.ingestCommitter.indexingFailures
        // Backoff: about one retry per 160 ms (the cap) for as long as the sleep really lasted, which a loaded
        // machine stretches; a spinning indexer would fail thousands of times.
        let allowed = Int((ContinuousClock.now - slept) / .milliseconds(160)) + 3
        #expect(
            failuresBefore >= 3 && failuresAfter - failuresBefore <= allowed,
            "\(failuresBefore) -> \(failuresAfter), at most \(allowed) more")
        // Reported on the 1st, 2nd, 4th... failure only.
        #expect(reports.indexingFailures.allSatisfy { $0 & ($0 - 1) == 0 }, "\(reports.indexingFailures)")

        // Writable again, and no ingest at all: the retry timer alone must index the tail.
        try await Self.setReadOnly(store, false)
        #expect(try await Self.tailOnceIndexed(store) == 0)
        #expect(reports.indexingRecovered)
        #expect(store.ingestCommitter.indexingFailures == 0)
        let stats = try await store.stats()
        #expect(stats.totalEvents == 500 && stats.totalAlerts == 125)
    }

    @Test("the first group commit that succeeds after a failure streak retries a backing-off indexer at once")
    func recoveredIngestRetriesIndexer() async throws {
        let directory = try TemporaryDirectory(prefix: "vigil-indexer-nudge")
        let reports = Reports()
        var configuration = SQLiteStore.Configuration(path: directory.file("vigil.db"))
        configuration.indexIdleDelay = .seconds(3_600)
        configuration.indexRetryInitialDelay = .seconds(3_600)
        configuration.indexRetryMaximumDelay = .seconds(3_600)
        configuration.report = reports.append
        let store = try SQLiteStore(configuration: configuration)
        defer { store.close() }
        let producer = randomProducer()
        guard case .success(.stored) = await Self.ingest(store, producer, 1, events: 100) else {
            Issue.record("the batch must commit")
            return
        }
        try await Self.setReadOnly(store, true)
        store.scheduleIndexing()
        let end = ContinuousClock.now + .seconds(10)
        while reports.indexingFailures.isEmpty && ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(10))
        }
        guard case .failure = await Self.ingest(store, producer, 2, events: 100) else {
            Issue.record("a read-only store committed")
            return
        }
        try await Self.setReadOnly(store, false)
        guard case .success(.stored) = await Self.ingest(store, producer, 2, events: 100) else {
            Issue.record("the resent batch must commit")
            return
        }
        // The next retry is an hour away and no pause comes: only the recovered commit can start the slice.
        #expect(try await Self.tailOnceIndexed(store) == 0)
        #expect(reports.indexingRecovered && reports.commitRecovered)
    }

    @Test("an indexing retry refused by a full writer queue is retried again, not dropped")
    func retryRefusedByFullQueueIsRearmed() async throws {
        let directory = try TemporaryDirectory(prefix: "vigil-indexer-queue")
        let reports = Reports()
        var configuration = SQLiteStore.Configuration(path: directory.file("vigil.db"))
        configuration.writerQueueCapacity = 1
        configuration.indexIdleDelay = .seconds(3_600)
        configuration.indexRetryInitialDelay = .milliseconds(100)
        configuration.indexRetryMaximumDelay = .milliseconds(100)
        configuration.report = reports.append
        let store = try SQLiteStore(configuration: configuration)
        defer { store.close() }
        // (The store's start-up slice may hold the one queue slot for a moment.)
        var initial = await Self.ingest(store, randomProducer(), 1, events: 300)
        while case .failure(let error) = initial, error.code == .overloaded {
            try await Task.sleep(for: .milliseconds(5))
            initial = await Self.ingest(store, randomProducer(), 1, events: 300)
        }
        guard case .success(.stored) = initial else {
            Issue.record("the batch must commit")
            return
        }
        try await Self.setReadOnly(store, true)
        store.scheduleIndexing()
        let end = ContinuousClock.now + .seconds(10)
        while reports.indexingFailures.isEmpty && ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(5))
        }
        // Keep the writer busy and its one queue slot taken for ~1.2 s: retries every 100 ms meet a full queue.
        let blocker = { @Sendable () async throws in
            while true {
                do {
                    return try await store.withWriterConnection { _ in _ = usleep(600_000) }
                } catch let error as StoreError where error.code == .overloaded {
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
        }
        async let first: Void = blocker()
        try await Task.sleep(for: .milliseconds(20))
        async let second: Void = blocker()
        _ = try await (first, second)
        try await Self.setReadOnly(store, false)
        #expect(try await Self.tailOnceIndexed(store) == 0)
    }

    @Test("failure streaks are reported on their 1st, 2nd, 4th, 8th... failure; retries back off to a cap")
    func reportingAndBackoff() throws {
        #expect((1...20).filter(SQLiteStore.isReportable) == [1, 2, 4, 8, 16])
        let directory = try TemporaryDirectory(prefix: "vigil-backoff")
        let store = try Self.store(directory, Reports())
        defer { store.close() }
        #expect(
            (1...6).map(store.indexRetryDelay(afterFailures:)) == [20, 40, 80, 160, 160, 160].map { .milliseconds($0) })
    }
}
