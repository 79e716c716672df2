// The deferred indexes (docs/STORAGE.md): rows inserted are above the watermark (the tail), a slice derives the
// index rows of the oldest of them and advances the watermark, and every read (get, list, page walk, stats, alert
// update, idempotency key, retention) gives the same answers whether a row is indexed yet or not, also when a slice
// commits in the middle of a page walk.
import Foundation
import Synchronization
import Testing
import VigilAPI
import VigilSQLite
import VigilTesting

@testable import VigilService

@Suite("Store indexer") struct StoreIndexerTests {
    @Test("a slice indexes the oldest events and their alerts, and nothing is listed twice or lost")
    func sliceMovesOldest() async throws {
        try await StoreFixture.with { fixture in
            let events = (0..<10).map { index in
                makeEvent(index % 2 == 0 ? .high : .low, occurredAt: 1_000 + Int64(index), key: "k\(index)")
            }
            let outcomes = try await fixture.store.insertEvents(events, submittedBy: agent)
            #expect(try await self.split(fixture) == (indexed: 0, tail: 10))
            let indexed = try await fixture.store.withWriterConnection { database in
                try database.transaction(.immediate) { database in try SQLiteStore.indexSlice(database, rows: 4) }
            }
            #expect(indexed == 4)
            #expect(try await self.split(fixture) == (indexed: 4, tail: 6))
            #expect(try await fixture.store.count("alerts") == 5)
            // Every index table of events holds exactly the indexed rows; alerts were indexed 4 of 5.
            let sizes = try await fixture.store.withWriterConnection { database in
                try ["events_by_time", "events_by_severity", "events_by_source", "events_by_type", "alerts_by_time",
                    "alerts_by_status", "alerts_by_severity", "alerts_by_source", "alerts_by_type"].map { index in
                    try Self.entries(database, index)
                }
            }
            #expect(sizes == [4, 4, 4, 4, 4, 4, 4, 4, 4])
            for outcome in outcomes {
                let eventID = try #require(outcome.eventID)
                let detail = try #require(try await fixture.store.event(id: eventID))
                #expect(detail.event.id == eventID)
                #expect(detail.alertID == outcome.alertID)
                if let alertID = outcome.alertID {
                    #expect(try await fixture.store.alert(id: alertID)?.alert.eventId == eventID)
                }
            }
            // Keys are found whichever table holds their event.
            let again = try await fixture.store.insertEvents([events[0], events[9]], submittedBy: agent)
            #expect(again.allSatisfy { if case .duplicate = $0 { true } else { false } })
            let stats = try await fixture.store.stats()
            #expect(stats.totalEvents == 10 && stats.totalAlerts == 5)
            var query = EventQuery()
            query.pageSize = 1000
            let page = try await fixture.store.listEvents(query)
            #expect(page.items.map(\.id) == outcomes.compactMap(\.eventID).reversed())
        }
    }

    @Test("an alert updated before and after it is indexed lists under its current status; ids never go back")
    func idsAndUpdatesAcrossMoves() async throws {
        try await StoreFixture.with { fixture in
            let first = try await fixture.store.insertEvents([makeEvent(.critical)], submittedBy: agent)
            let alertID = try #require(first[0].alertID)
            let acknowledged = try await fixture.store.updateAlert(
                id: alertID, status: .acknowledged, expectedVersion: 1, by: admin)
            #expect(acknowledged.version == 2)
            try await self.moveAll(fixture)
            let moved = try #require(try await fixture.store.alert(id: alertID))
            #expect(moved.alert.status == .acknowledged && moved.alert.version == 2)
            #expect(moved.history.map(\.toStatus) == [.acknowledged])
            let resolved = try await fixture.store.updateAlert(id: alertID, status: .resolved, expectedVersion: 2, by: admin)
            #expect(resolved.resolvedAt != nil)
            for (status, expected) in [(AlertStatus.open, 0), (.acknowledged, 0), (.resolved, 1)] {
                var query = AlertQuery()
                query.statuses = [status]
                #expect(try await fixture.store.listAlerts(query).items.count == expected, "\(status)")
                query.order = .status
                #expect(try await fixture.store.listAlerts(query).items.count == expected, "\(status) by status")
            }
            // Retention removes the newest (indexed) event; the next id must not reuse its id.
            let removed = try await fixture.store.deleteEvents(occurredBefore: .max)
            #expect(removed == RetentionResult(events: 1, alerts: 1, alertChanges: 2))
            let second = try await fixture.store.insertEvents([makeEvent(.high)], submittedBy: agent)
            #expect(try #require(second[0].eventID) > (try #require(first[0].eventID)))
            #expect(try #require(second[0].alertID) > alertID)
            // Nothing of the deleted rows is left in any index table (the new event is not indexed yet).
            let leftovers = try await fixture.store.withWriterConnection { database in
                try SQLiteStore.indexTables.flatMap(\.indexes).map { index in try Self.entries(database, index.name) }
            }
            #expect(leftovers == Array(repeating: 0, count: 9))
        }
    }

    @Test(
        "a page walk that spans a move sees every row exactly once, in order",
        arguments: [EventQuery.Order.occurredAt, .severity], [false, true])
    func walkAcrossMove(order: EventQuery.Order, ascending: Bool) async throws {
        try await StoreFixture.with { fixture in
            let severities: [Severity] = [.low, .medium, .high, .critical]
            let events = (0..<60).map { index in
                makeEvent(severities[index % 4], source: "h\(index % 3)", occurredAt: 5_000 - Int64(index % 7) * 10)
            }
            _ = try await fixture.store.insertEvents(Array(events[..<30]), submittedBy: agent)
            try await self.moveAll(fixture)
            _ = try await fixture.store.insertEvents(Array(events[30...]), submittedBy: agent)
            var query = EventQuery()
            query.order = order
            query.ascending = ascending
            query.pageSize = 7
            var seen: [Event] = []
            var moved = false
            while true {
                let page = try await fixture.store.listEvents(query)
                seen += page.items
                if !moved {
                    try await self.moveAll(fixture)
                    moved = true
                }
                if page.nextPageToken.isEmpty { break }
                query.pageToken = page.nextPageToken
            }
            #expect(seen.count == 60)
            #expect(Set(seen.map(\.id)).count == 60)
            let keys = seen.map { event in
                [
                    Int64(order == .severity ? event.severity.rawValue : 0), event.occurredAt?.unixNanoseconds ?? 0,
                    event.id,
                ]
            }
            let sorted = keys.sorted { $0.lexicographicallyPrecedes($1) }
            #expect(keys == (ascending ? sorted : sorted.reversed()))
            var alerts = AlertQuery()
            alerts.sourceName = "h1"
            alerts.pageSize = 1000
            let page = try await fixture.store.listAlerts(alerts)
            #expect(page.items.count == events.filter { $0.sourceName == "h1" && $0.severity.rawValue >= 3 }.count)
        }
    }

    @Test("ingest's tail is indexed once the writer is idle")
    func idleWriterDrainsTail() async throws {
        try await StoreFixture.with { fixture in
            let producer = randomProducer()
            let done = AsyncStream.makeStream(of: Result<IngestOutcome, StoreError>.self)
            fixture.store.submitIngest(
                IngestBatch(
                    producerID: producer, sequence: 1, submitter: agent,
                    events: (0..<50).map { _ in makeEvent(.high) })
            ) { result in done.continuation.yield(result) }
            for await result in done.stream {
                guard case .success(.stored(let outcomes)) = result else {
                    Issue.record("unexpected \(result)")
                    return
                }
                #expect(outcomes.count == 50)
                break
            }
            var split = try await self.split(fixture)
            for _ in 0..<200 where split.tail > 0 {
                try await Task.sleep(for: .milliseconds(10))
                split = try await self.split(fixture)
            }
            #expect(split == (indexed: 50, tail: 0))
        }
    }

    @Test("a group commit longer than the pause delay is not a pause: no slice runs while batches wait")
    func longCommitIsNotAPause() async throws {
        let directory = try TemporaryDirectory(prefix: "vigil-indexer")
        let storeBox = Mutex<SQLiteStore?>(nil)
        let slicesAtCommits = Mutex<[Int]>([])
        var configuration = SQLiteStore.Configuration(path: directory.file("vigil.db"))
        configuration.maximumGroupEvents = 10
        configuration.indexIdleDelay = .milliseconds(20)
        configuration.beforeIngestCommit = {
            if let store = storeBox.withLock({ $0 }) {
                let slices = store.ingestCommitter.indexingSlices
                slicesAtCommits.withLock { $0.append(slices) }
            }
            usleep(60_000)  // each group commit takes three pause delays
        }
        let store = try SQLiteStore(configuration: configuration)
        defer { store.close() }
        storeBox.withLock { $0 = store }
        await ingestStored(store, producer: randomProducer(), sequences: 1...8, events: 10, severity: .low)
        // (The store's start-up slice may run before the first commit: compare with the count then.)
        let counts = slicesAtCommits.withLock { $0 }
        #expect(counts.count == 8)
        #expect(counts.allSatisfy { $0 == counts.first })
    }

    @Test("the tail bound is the lower one while lists are being served and the higher one otherwise")
    func tailBoundFollowsLists() {
        var configuration = SQLiteStore.Configuration(path: "unused")
        configuration.maximumTailEvents = 100
        configuration.maximumTailEventsWithoutLists = 300
        configuration.listDemandWindow = .seconds(2)
        #expect(SQLiteStore.tailBound(listedWithin: nil, configuration: configuration) == 300)
        #expect(SQLiteStore.tailBound(listedWithin: .milliseconds(1), configuration: configuration) == 100)
        #expect(SQLiteStore.tailBound(listedWithin: .seconds(2), configuration: configuration) == 100)
        #expect(SQLiteStore.tailBound(listedWithin: .milliseconds(2_001), configuration: configuration) == 300)
    }

    @Test("without lists a burst's tail may grow to the higher bound; after a list, the next group commit indexes")
    func listsLowerTheBound() async throws {
        let directory = try TemporaryDirectory(prefix: "vigil-indexer")
        var configuration = SQLiteStore.Configuration(path: directory.file("vigil.db"))
        configuration.maximumGroupEvents = 50
        configuration.maximumTailEvents = 40
        configuration.maximumTailEventsWithoutLists = 10_000
        configuration.indexIdleDelay = .seconds(600)  // no pause indexes: only the bound does
        let store = try SQLiteStore(configuration: configuration)
        defer { store.close() }
        let producer = randomProducer()
        func ingest(_ sequences: ClosedRange<Int>) async {
            await ingestStored(store, producer: producer, sequences: sequences, events: 50, severity: .high)
        }
        let tail = {
            try await store.withWriterConnection { database in try SQLiteStore.tailEvents(database) }
        }

        await ingest(1...4)
        #expect(try await tail() == 200, "no list yet: 200 events stay under the 10,000 bound")

        #expect(try await store.listEvents(EventQuery()).items.count == 20)
        await ingest(5...5)
        try await eventually("the tail to fall under the lower bound") { try await tail() < 40 }
        // Every event is still listed once, indexed or not.
        var query = AlertQuery()
        query.pageSize = 1_000
        #expect(try await store.listAlerts(query).items.count == 250)
    }

    @Test("a tail left over the bound when ingest stops is indexed in the pause that follows")
    func tailOverBoundDrainsAfterIngest() async throws {
        let directory = try TemporaryDirectory(prefix: "vigil-indexer")
        var configuration = SQLiteStore.Configuration(path: directory.file("vigil.db"))
        // Groups of one 50-event batch, slices of 45 while the tail is over 40: the tail grows 5 per group, and
        // after the last group's slice it is over 0 and under the bound, with the drain that finds the queue empty
        // still queued behind that slice (the case that used to leave the tail unindexed until the next ingest).
        configuration.maximumGroupEvents = 50
        configuration.maximumTailEvents = 40
        configuration.maximumTailEventsWithoutLists = 40  // no lists run here
        configuration.indexSliceEvents = 45
        configuration.indexIdleDelay = .milliseconds(20)
        let store = try SQLiteStore(configuration: configuration)
        defer { store.close() }
        await ingestStored(store, producer: randomProducer(), sequences: 1...7, events: 50, severity: .high)
        let tail = {
            try await store.withWriterConnection { database in try SQLiteStore.tailEvents(database) }
        }
        let end = ContinuousClock.now + .seconds(10)
        var left = try await tail()
        while left > 0 && ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(20))
            left = try await tail()
        }
        #expect(left == 0)
    }

    @Test(
        "a clock stepping back never makes created_at go back, so the tail walked in id order pages in time order",
        arguments: [false, true])
    func clockStepBack(ascending: Bool) async throws {
        try await StoreFixture.with { fixture in
            let start = fixture.clock.peek
            var expectedAlerts = 0
            for round in 0..<6 {
                // Every other round the clock steps an hour back; rounds 0 and 1 end up indexed, the rest in the tail.
                if round % 2 == 1 { fixture.clock.set(start - 3_600_000_000_000 * Int64(round)) }
                let events = (0..<5).map { index in makeEvent(index % 3 == 0 ? .low : .critical, source: "h\(index % 2)") }
                expectedAlerts += events.filter { $0.severity == .critical }.count
                _ = try await fixture.store.insertEvents(events, submittedBy: agent)
                if round == 1 { try await self.moveAll(fixture) }
            }
            var query = AlertQuery()
            query.ascending = ascending
            query.pageSize = 3
            var seen: [Alert] = []
            while true {
                let page = try await fixture.store.listAlerts(query)
                seen += page.items
                if page.nextPageToken.isEmpty { break }
                query.pageToken = page.nextPageToken
            }
            #expect(seen.count == expectedAlerts)
            #expect(Set(seen.map(\.id)).count == expectedAlerts)
            let byID = seen.sorted { $0.id < $1.id }
            let times = byID.map { $0.createdAt?.unixNanoseconds ?? 0 }
            #expect(times == times.sorted(), "created_at never decreases as ids grow")
            #expect(seen.map(\.id) == (ascending ? byID : byID.reversed()).map(\.id))
            // The same with a filter the tail must match row by row.
            query = AlertQuery()
            query.ascending = ascending
            query.sourceName = "h1"
            query.pageSize = 2
            var filtered: [Int64] = []
            while true {
                let page = try await fixture.store.listAlerts(query)
                filtered += page.items.map(\.id)
                if page.nextPageToken.isEmpty { break }
                query.pageToken = page.nextPageToken
            }
            let expected = byID.filter { $0.event?.sourceName == "h1" }.map(\.id)
            #expect(filtered == (ascending ? expected : expected.reversed()))
        }
    }

    @Test("a store made before per-index marks keeps its watermark in every index and lists the same rows")
    func migrationToPerIndexMarks() async throws {
        let directory = try TemporaryDirectory(prefix: "vigil-marks")
        let path = directory.file("vigil.db")
        // The schema as shipped up to 0004, with 30 events of which 20 indexed under the one mark per table.
        do {
            let database = try Database(path: path, options: .init(access: .readWriteCreate))
            _ = try Migrator(Array(StoreSchema.migrator.migrations.prefix(4))).migrate(database)
            for id in 1...30 {
                try database.execute(
                    """
                    INSERT INTO events (id, source_name, event_type, severity, description, occurred_at, received_at,
                        submitted_by_user_id, submitted_by_username) VALUES (?, 'h', 't', 4, 'd', ?, ?, 7, 'agent-7')
                    """, arguments: [Int64(id), Int64(id) * 10, Int64(id) * 10])
                try database.execute(
                    """
                    INSERT INTO alerts (id, event_id, status, created_at, updated_at, version, severity, source_name,
                        event_type) VALUES (?, ?, 1, ?, ?, 1, 4, 'h', 't')
                    """, arguments: [Int64(id), Int64(id), Int64(id) * 10, Int64(id) * 10])
            }
            for (table, indexes) in SQLiteStore.indexTables {
                for index in indexes {
                    try database.execute(
                        "INSERT INTO \(index.name) (\(index.columns)) SELECT \(index.columns) FROM \(table) WHERE id <= 20")
                }
            }
            try database.execute("UPDATE index_marks SET indexed_through = 20")
        }
        var configuration = SQLiteStore.Configuration(path: path)
        configuration.indexIdleDelay = .seconds(3_600)
        let store = try SQLiteStore(configuration: configuration)
        defer { store.close() }
        // Whatever the start-up step has done meanwhile, each index is at 20 or beyond and lists see all 30 once.
        let marks = try await store.withWriterConnection { database in
            try database.query("SELECT name, table_name, indexed_through FROM index_marks ORDER BY name") { row in
                "\(try row.string(at: 0) ?? "")/\(try row.string(at: 1) ?? "")"
            }
        }
        #expect(marks == SQLiteStore.indexTables.flatMap { table, indexes in indexes.map { "\($0.name)/\(table)" } }.sorted())
        var events = EventQuery()
        events.pageSize = 1000
        #expect(try await store.listEvents(events).items.map(\.id) == Array((1...30).reversed()))
        var alerts = AlertQuery()
        alerts.pageSize = 1000
        alerts.sourceName = "h"
        #expect(try await store.listAlerts(alerts).items.map(\.id) == Array((1...30).reversed()))
        let stats = try await store.stats()
        #expect(stats.totalEvents == 30 && stats.totalAlerts == 30)
    }

    @Test("a store made before batch rows converts its events rows in slices; every alert gets its event's copy")
    func migrationToBatchRows() async throws {
        let directory = try TemporaryDirectory(prefix: "vigil-batches")
        let path = directory.file("vigil.db")
        let count = 25_000  // more than one 10,000-event slice of the conversion
        do {
            let database = try Database(path: path, options: .init(access: .readWriteCreate))
            _ = try Migrator(Array(StoreSchema.migrator.migrations.prefix(8))).migrate(database)
            try database.transaction(.immediate) { database in
                for id in 1...Int64(count) {
                    try database.execute(
                        """
                        INSERT INTO events (id, source_name, event_type, severity, description, occurred_at,
                            received_at, submitted_by_user_id, submitted_by_username, idempotency_key)
                        VALUES (?, ?, 't', ?, ?, ?, ?, 7, 'agent-7', ?)
                        """,
                        arguments: [
                            id, "h\(id % 9)", id % 4 == 0 ? 4 : 1, "event \(id)", id * 10, id * 10 + 1,
                            id % 5 == 0 ? "key-\(id)" as any SQLiteBindable : SQLiteValue.null,
                        ])
                    if id % 4 == 0 {
                        try database.execute(
                            """
                            INSERT INTO alerts (id, event_id, status, created_at, updated_at, version, severity,
                                source_name, event_type) VALUES (?, ?, 1, ?, ?, 1, 4, ?, 't')
                            """, arguments: [id / 4, id, id * 10 + 1, id * 10 + 1, "h\(id % 9)"])
                    }
                }
            }
        }
        let store = try SQLiteStore(path: path)
        defer { store.close() }
        for id: Int64 in [1, 4, 9_999, 10_000, 10_001, 20_000, 24_999, Int64(count)] {
            let detail = try #require(try await store.event(id: id))
            #expect(detail.event.description == "event \(id)" && detail.event.sourceName == "h\(id % 9)")
            #expect(detail.event.occurredAt?.unixNanoseconds == id * 10)
            #expect(detail.event.idempotencyKey == (id % 5 == 0 ? "key-\(id)" : ""))
            #expect(detail.alertID == (id % 4 == 0 ? id / 4 : nil))
        }
        let (stored, copies, eventsTable) = try await store.withWriterConnection { database in
            try database.queryFirst(
                """
                SELECT (SELECT sum(count) FROM event_batches), (SELECT count(*) FROM alerts WHERE event IS NOT NULL),
                    (SELECT count(*) FROM sqlite_schema WHERE name = 'events')
                """
            ) { row in (row.int64(at: 0), row.int64(at: 1), row.int64(at: 2)) }
        } ?? (0, 0, -1)
        #expect(stored == Int64(count) && copies == Int64(count / 4) && eventsTable == 0)
        var alerts = AlertQuery()
        alerts.pageSize = 10
        let page = try await store.listAlerts(alerts).items
        #expect(page.map(\.id) == Array((Int64(count / 4 - 9)...Int64(count / 4)).reversed()))
        #expect(page.allSatisfy { $0.event?.id == $0.eventId && $0.event?.description == "event \($0.eventId)" })
    }

    // MARK: Helpers

    /// Entries in one index: rows of an index table, or the entries of a postings index's chunks (which must agree
    /// with their stored counts).
    static func entries(_ database: Database, _ index: String) throws -> Int64 {
        guard SQLiteStore.postingsIndexes[index] != nil else {
            return try database.queryFirst("SELECT count(*) FROM \(index)") { $0.int64(at: 0) } ?? -1
        }
        var total: Int64 = 0
        try database.cachedStatement("SELECT count, entries FROM postings WHERE index_name = ?").forEachRow(
            arguments: [index]
        ) { row in
            let entries = try SQLiteStore.decodeChunk(row, at: 1)
            #expect(Int64(entries.count) == row.int64(at: 0) && !entries.isEmpty)
            total += Int64(entries.count)
        }
        return total
    }

    func split(_ fixture: StoreFixture) async throws -> (indexed: Int64, tail: Int64) {
        try await fixture.store.withWriterConnection { database in
            let indexed = try Self.entries(database, "events_by_time")
            let mark = try database.queryFirst(
                "SELECT indexed_through FROM index_marks WHERE name = 'events_by_time'"
            ) { $0.int64(at: 0) } ?? -1
            var tail: Int64 = 0
            try SQLiteStore.forEachEventBatch(database, after: mark) { batch in
                tail += Int64((0..<batch.count).filter { batch.id(at: $0) > mark }.count)
            }
            return (indexed, tail)
        }
    }

    func moveAll(_ fixture: StoreFixture) async throws {
        try await fixture.store.withWriterConnection { database in
            while try database.transaction(.immediate, { database in try SQLiteStore.indexSlice(database, rows: 1000) })
                > 0
            {}
        }
    }
}

/// Submits one batch of `events` events per sequence, all at once, and returns once every batch is acked as stored.
private func ingestStored(
    _ store: SQLiteStore, producer: [UInt8], sequences: ClosedRange<Int>, events: Int, severity: Severity
) async {
    let (results, sink) = AsyncStream.makeStream(of: Result<IngestOutcome, StoreError>.self)
    for sequence in sequences {
        store.submitIngest(
            IngestBatch(
                producerID: producer, sequence: UInt64(sequence), submitter: agent,
                events: (0..<events).map { _ in makeEvent(severity) })
        ) { sink.yield($0) }
    }
    var acked = 0
    for await result in results {
        if case .success(.stored) = result { acked += 1 }
        if acked == sequences.count { break }
    }
}
