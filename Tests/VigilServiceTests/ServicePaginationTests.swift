// The pagination proof through the ListAlerts RPC rather than the store: walking every page of 10,000
// alerts while new alerts arrive returns each pre-existing alert exactly once, newest first, and the page token
// survives the transport untouched. Symlinked into VigildTests, so it also runs over loopback TLS.
import Testing
import VigilAPI
import VigilRPC

@testable import VigilService

@Suite struct ServicePaginationTests {
    @Test("walking 10,000 alerts page by page while new ones arrive lists each pre-existing alert exactly once")
    func walkWhileInserting() async throws {
        try await ServiceFixture.with { fixture in
            let token = try await fixture.userWithToken("ana", .analyst).token
            let probe = try await fixture.createUser("probe", .agent)
            let agent = ActingUser(userID: probe.id, username: "probe")
            let store = fixture.store
            var existing: [Int64] = []
            for _ in 0..<10 {
                let batch = (0..<1_000).map { index in NewEvent(makeAPIEvent(index % 2 == 0 ? .high : .critical)) }
                existing += try await store.insertEvents(batch, submittedBy: agent).compactMap(\.alertID)
            }
            #expect(existing.count == 10_000)
            let walking = Locked(true)
            let inserted = Locked(0)
            let listed: [Int64] = try await withThrowingTaskGroup(of: [Int64].self) { group in
                group.addTask {
                    while walking.value {
                        let batch = (0..<25).map { _ in NewEvent(makeAPIEvent(.critical, source: "late")) }
                        let alerts = try await store.insertEvents(batch, submittedBy: agent).compactMap(\.alertID)
                        inserted.update { $0 += alerts.count }
                        await Task.yield()
                    }
                    return []
                }
                group.addTask {
                    defer { walking.update { $0 = false } }
                    var request = ListAlertsRequest()
                    request.pageSize = 500
                    var ids: [Int64] = []
                    for _ in 0..<1_000 {  // bounded: a token that never ends the walk fails instead of hanging
                        let page = try await fixture.call(
                            VigilMethods.listAlerts, request, token: token, as: ListAlertsResponse.self)
                        ids += page.alerts.map(\.id)
                        request.pageToken = page.nextPageToken
                        if request.pageToken.isEmpty { break }
                    }
                    #expect(request.pageToken.isEmpty, "the walk ended")
                    return ids
                }
                var all: [Int64] = []
                for try await ids in group { all += ids }
                return all
            }
            #expect(inserted.value > 0, "alerts arrived during the walk")
            let preexisting = Set(existing)
            // created_at grows with each batch and ids within it, so newest first is descending id order.
            #expect(listed.filter { preexisting.contains($0) } == existing.reversed())
            #expect(Set(listed).count == listed.count, "no alert listed twice")
        }
    }
}
