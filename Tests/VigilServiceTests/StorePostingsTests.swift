// The postings indexes in a real SQLite file: events spread over many small slices with overlapping times, some
// left in the tail, are listed page by page by every filter a postings index drives, in both orders, exactly as a
// filter-and-sort of the events says; retention takes deleted events out of the chunks; stats count them.
import Dispatch
import Foundation
import Synchronization
import Testing
import VigilAPI
import VigilSQLite

@testable import VigilService

@Suite("Store postings") struct StorePostingsTests {
    static let severities: [Severity] = [.low, .medium, .high, .critical]

    /// 300 events over 5 sources, 3 types and every severity, with times that overlap across slices.
    static func newEvents() -> [NewEvent] {
        (0..<300).map { index in
            makeEvent(
                Self.severities[(index * 7) % 4], source: "h\(index % 5)", type: "t\(index % 3)",
                occurredAt: 10_000 + Int64((index * 37) % 101) * 10)
        }
    }

    /// 300 events in slices of 23 (so runs and chunks are small and many), times overlapping across slices, the
    /// last 40 in the tail.
    static func load(_ fixture: StoreFixture) async throws -> [Event] {
        let events = Self.newEvents()
        let indexed = try await fixture.store.insertEvents(Array(events[..<260]), submittedBy: agent)
        try await fixture.store.withWriterConnection { database in
            while try database.transaction(.immediate, { database in try SQLiteStore.indexSlice(database, rows: 23) })
                > 0
            {}
        }
        let tail = try await fixture.store.insertEvents(Array(events[260...]), submittedBy: agent)
        // Read back one by one (by primary key), not through a list: the reference must not come from the code
        // under test.
        var stored: [Event] = []
        for outcome in indexed + tail {
            let id = try #require(outcome.eventID)
            stored.append(try #require(try await fixture.store.event(id: id)).event)
        }
        return stored
    }

    static func queries() -> [(String, EventQuery)] {
        var queries: [(String, EventQuery)] = []
        for ascending in [false, true] {
            var bySource = EventQuery()
            bySource.sourceName = "h2"
            var byType = EventQuery()
            byType.eventType = "t1"
            byType.occurredFrom = 10_200
            byType.occurredBefore = 10_800
            var bySeverity = EventQuery()
            bySeverity.severities = [.high]
            var severityOrder = EventQuery()
            severityOrder.order = .severity
            var someSeverities = EventQuery()
            someSeverities.order = .severity
            someSeverities.severities = [.critical, .low]
            someSeverities.sourceName = "h1"
            var sourceAndType = EventQuery()
            sourceAndType.sourceName = "h3"
            sourceAndType.eventType = "t0"
            var timeRange = EventQuery()
            timeRange.occurredFrom = 10_150
            timeRange.occurredBefore = 10_650
            var twoSeverities = EventQuery()
            twoSeverities.severities = [.low, .high]
            for (name, var query) in [
                ("every event", EventQuery()), ("a time range", timeRange), ("two severities by time", twoSeverities),
                ("source", bySource), ("type in a time range", byType), ("one severity", bySeverity),
                ("severity order", severityOrder), ("two severities by severity from one source", someSeverities),
                ("source and type", sourceAndType),
            ] {
                query.ascending = ascending
                queries.append(("\(name) asc=\(ascending)", query))
            }
        }
        return queries
    }

    /// The ids `query` lists, walking every page of `pageSize` (at most 400, against a token that never ends).
    static func listAll(_ store: SQLiteStore, _ query: EventQuery, pageSize: Int32) async throws -> [Int64] {
        var query = query
        query.pageSize = pageSize
        var listed: [Int64] = []
        while true {
            let page = try await store.listEvents(query)
            #expect(page.items.count <= Int(pageSize))
            listed += page.items.map(\.id)
            if page.nextPageToken.isEmpty || listed.count > 400 { return listed }
            query.pageToken = page.nextPageToken
        }
    }

    /// What `query` must list: the events that match it, in its order.
    static func expected(_ events: [Event], _ query: EventQuery) -> [Int64] {
        let matching = events.filter { event in
            let occurred = event.occurredAt?.unixNanoseconds ?? 0
            return (query.severities.isEmpty || query.severities.contains(event.severity))
                && (query.sourceName.map { $0 == event.sourceName } ?? true)
                && (query.eventType.map { $0 == event.eventType } ?? true)
                && (query.occurredFrom.map { occurred >= $0 } ?? true)
                && (query.occurredBefore.map { occurred < $0 } ?? true)
        }
        return matching.sorted { SQLiteStore.precedes($0, $1, query) }.map(\.id)
    }

    @Test("every filter a postings index drives lists its events page by page, in order, each once")
    func pagesMatchReference() async throws {
        try await StoreFixture.with { fixture in
            let events = try await Self.load(fixture)
            #expect(events.count == 300)
            for (name, query) in Self.queries() {
                let expected = Self.expected(events, query)
                #expect(expected.count > 3, "\(name)")
                for pageSize: Int32 in [1, 4, 1000] {
                    let listed = try await Self.listAll(fixture.store, query, pageSize: pageSize)
                    #expect(listed == expected, "\(name), pages of \(pageSize)")
                }
            }
        }
    }

    @Test("a tail far longer than a page lists every filter in order, page by page, each event once")
    func longTailMatchesReference() async throws {
        // Nothing indexed: all 300 events are the tail, several times what its scan keeps per page, so the scan
        // trims what it keeps and skips what cannot make the page, in both directions and both orders.
        let fixture = try StoreFixture { configuration in configuration.indexIdleDelay = .seconds(3_600) }
        defer { fixture.store.close() }
        let events = Self.newEvents()
        var stored: [Event] = []
        for outcome in try await fixture.store.insertEvents(events, submittedBy: agent) {
            let id = try #require(outcome.eventID)
            stored.append(try #require(try await fixture.store.event(id: id)).event)
        }
        let tail = try await fixture.store.withWriterConnection { database in try SQLiteStore.tailEvents(database) }
        #expect(tail == 300, "nothing indexed")
        for (name, query) in Self.queries() {
            let expected = Self.expected(stored, query)
            for pageSize: Int32 in [1, 4] {
                let listed = try await Self.listAll(fixture.store, query, pageSize: pageSize)
                #expect(listed == expected, "\(name), pages of \(pageSize)")
            }
        }
    }

    @Test("retention takes deleted events out of the postings; stats and lists agree with what is left")
    func retentionRewritesChunks() async throws {
        try await StoreFixture.with { fixture in
            let events = try await Self.load(fixture)
            // Resolve nothing: only events without an alert (LOW and MEDIUM) older than the cutoff go.
            let cutoff: Int64 = 10_400
            let removed = try await fixture.store.deleteEvents(occurredBefore: cutoff)
            let gone = Set(
                events.filter { ($0.occurredAt?.unixNanoseconds ?? 0) < cutoff && $0.severity.rawValue < 3 }.map(\.id))
            #expect(removed.events == gone.count && !gone.isEmpty)
            let left = events.filter { !gone.contains($0.id) }
            let entries = try await fixture.store.withWriterConnection { database in
                try ["events_by_time", "events_by_severity", "events_by_source", "events_by_type"].map { index in
                    try StoreIndexerTests.entries(database, index)
                }
            }
            #expect(entries == Array(repeating: Int64(left.count), count: 4))
            for (name, var query) in Self.queries() {
                query.pageSize = 1000
                let listed = try await fixture.store.listEvents(query).items.map(\.id)
                #expect(listed == Self.expected(left, query), "\(name)")
            }
            let stats = try await fixture.store.stats()
            #expect(stats.totalEvents == Int64(left.count))
            for count in stats.eventsBySeverity {
                #expect(count.count == Int64(left.filter { $0.severity == count.severity }.count))
            }
        }
    }

    @Test("a slice's chunk rows are neighbours in the table, in key order: a step fills pages, not a page per key")
    func sliceRowsAreContiguous() async throws {
        try await StoreFixture.with { fixture in
            _ = try await Self.load(fixture)
            // A WITHOUT ROWID table scans in primary-key order, the order rows sit in its pages (`count` is in no
            // index, so the scan cannot take a covering one).
            let rows = try await fixture.store.withWriterConnection { database in
                try database.query("SELECT index_name, segment, key, count FROM postings") { row in
                    (try row.string(at: 0) ?? "", row.int64(at: 1), try row.string(at: 2) ?? "")
                }
            }
            #expect(Set(rows.map(\.1)).count > 5, "several slices")
            for (previous, next) in zip(rows, rows.dropFirst()) where previous.0 == next.0 {
                #expect(previous.1 < next.1 || (previous.1 == next.1 && previous.2 <= next.2), "\(previous) \(next)")
            }
        }
    }

    @Test("a damaged postings chunk fails the list with INTERNAL; the store keeps serving other lists")
    func damagedChunk() async throws {
        try await StoreFixture.with { fixture in
            _ = try await Self.load(fixture)
            try await fixture.store.withWriterConnection { database in
                try database.execute(
                    "UPDATE postings SET entries = x'0102' WHERE index_name = 'events_by_source' AND key = 'h2'")
            }
            var bySource = EventQuery()
            bySource.sourceName = "h2"
            let error = await #expect(throws: StoreError.self) { _ = try await fixture.store.listEvents(bySource) }
            #expect(error?.code == .internal)
            bySource.sourceName = "h1"
            #expect(try await fixture.store.listEvents(bySource).items.count == 20)
        }
    }

    @Test(
        "a slice prepared off the writer is dropped once retention moved marks or deleted events; lists go on meanwhile"
    )
    func stalePreparedSliceIsDropped() async throws {
        let prepared = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let first = Atomic<Bool>(true)
        let preparedOn = Mutex<String?>(nil)
        // One list reader: a slice held on it would hold every list.
        let fixture = try StoreFixture(readers: 1) { configuration in
            configuration.afterPostingsPrepared = {
                guard first.exchange(false, ordering: .relaxed) else { return }
                preparedOn.withLock { $0 = Thread.current.threadDictionary[ConnectionWorkers.threadKey] as? String }
                prepared.signal()
                release.wait()
            }
        }
        defer { fixture.store.close() }
        let events = (0..<200).map { index in
            makeEvent(Self.severities[index % 2], source: "h\(index % 4)", occurredAt: 10_000 + Int64(index))
        }
        _ = try await fixture.store.insertEvents(events, submittedBy: agent)
        // The indexer reads the whole tail on a reader and stops there; retention then indexes the tail itself and
        // deletes the oldest events, before the writer gets the prepared slice.
        fixture.store.scheduleIndexing()
        await Task.detached { prepared.wait() }.value
        #expect(preparedOn.withLock { $0 } == "vigil-indexer-0", "slices are built on the indexer's own connection")
        // A list is answered while the slice is held (on the indexer's thread, not the one list reader).
        let listDone = Atomic<Bool>(false)
        let list = Task {
            _ = try await fixture.store.listEvents(EventQuery())
            listDone.store(true, ordering: .sequentiallyConsistent)
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while !listDone.load(ordering: .sequentiallyConsistent) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let listedWhileHeld = listDone.load(ordering: .sequentiallyConsistent)
        #expect(listedWhileHeld, "a list waited behind a held slice")
        let removed = try await fixture.store.deleteEvents(occurredBefore: 10_050)
        #expect(removed.events == 50)
        release.signal()
        try await list.value
        // The step has run once the writer serves a job queued after it.
        while fixture.store.ingestCommitter.indexingSlices == 0 { try await Task.sleep(for: .milliseconds(5)) }
        _ = try await fixture.store.withWriterConnection { _ in 0 }
        #expect(fixture.store.ingestCommitter.indexingFailures == 0)
        let entries = try await fixture.store.withWriterConnection { database in
            try ["events_by_time", "events_by_severity", "events_by_source", "events_by_type"].map { index in
                try StoreIndexerTests.entries(database, index)
            }
        }
        #expect(entries == [150, 150, 150, 150])
        var all = EventQuery()
        all.pageSize = 1000
        all.ascending = true
        let listed = try await fixture.store.listEvents(all).items.map { $0.occurredAt?.unixNanoseconds ?? 0 }
        #expect(listed == Array(10_050..<10_200))
    }
}
