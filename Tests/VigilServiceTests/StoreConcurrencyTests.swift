// Reads and the writer never wait on each other: a list answers from the last committed snapshot while the writer
// sits inside an open transaction, and what the writer has not committed is invisible until it commits.
import Dispatch
import Testing
import VigilAPI
import VigilSQLite

@testable import VigilService

@Suite("Store concurrency")
struct StoreConcurrencyTests {
    @Test("lists answer while the writer holds an open transaction, and see only committed rows")
    func readersDoNotWaitForTheWriter() async throws {
        try await StoreFixture.with { fixture in
            let store = fixture.store
            _ = try await store.insertEvents([makeEvent(.high), makeEvent(.low)], submittedBy: agent)
            let inside = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let writer = Task {
                try await store.withWriterConnection { database in
                    try database.transaction(.immediate) { database in
                        _ = try SQLiteStore.insertBatch(
                            database, [makeEvent(.critical)], submittedBy: agent, receivedAt: 42)
                        inside.signal()
                        release.wait()
                    }
                }
            }
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    inside.wait()
                    continuation.resume()
                }
            }
            // The writer thread is parked inside its transaction; readers still answer, from the old snapshot.
            let during = try await store.listEvents(EventQuery())
            #expect(during.items.count == 2)
            #expect(try await store.stats().totalAlerts == 1)
            release.signal()
            try await writer.value
            #expect(try await store.listEvents(EventQuery()).items.count == 3)
            #expect(try await store.stats().totalAlerts == 2)
        }
    }

    @Test("queries built from API requests carry every filter; unknown enum values are invalid arguments")
    func queriesFromRequests() throws {
        var request = ListEventsRequest()
        var filter = EventFilter()
        filter.severities = [.high]
        filter.sourceName = "web-01"
        var range = TimeRange()
        range.start = Timestamp(seconds: 10)
        filter.occurred = range
        request.filter = filter
        request.orderBy = .severity
        request.ascending = true
        request.pageSize = 7
        let query = try EventQuery(request)
        #expect(query.severities == [.high] && query.sourceName == "web-01" && query.eventType == nil)
        #expect(query.occurredFrom == 10_000_000_000 && query.occurredBefore == nil)
        #expect(query.order == .severity && query.ascending && query.pageSize == 7)
        request.orderBy = .unrecognized(9)
        #expect(throws: StoreError.self) { try EventQuery(request) }

        var alerts = ListAlertsRequest()
        var alertFilter = AlertFilter()
        alertFilter.statuses = [.unspecified]
        alerts.filter = alertFilter
        #expect(throws: StoreError.self) { try AlertQuery(alerts) }
        alerts.filter = AlertFilter()
        alerts.orderBy = .status
        #expect(try AlertQuery(alerts).order == .status)
    }
}
