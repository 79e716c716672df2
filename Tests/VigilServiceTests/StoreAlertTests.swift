// UpdateAlert: the status lifecycle, resolved_at, optimistic concurrency and the append-only history.
import Testing
import VigilAPI
import VigilRPC

@testable import VigilService

@Suite("Store alerts")
struct StoreAlertTests {
    private func makeAlert(_ fixture: StoreFixture) async throws -> Int64 {
        let outcomes = try await fixture.store.insertEvents([makeEvent(.critical)], submittedBy: agent)
        return try #require(outcomes.first?.alertID)
    }

    @Test("RESOLVED sets resolved_at, RESOLVED again keeps it, leaving RESOLVED clears it; history records each")
    func lifecycle() async throws {
        try await StoreFixture.with { fixture in
            let id = try await self.makeAlert(fixture)
            let acknowledged = try await fixture.store.updateAlert(
                id: id, status: .acknowledged, expectedVersion: 1, by: admin)
            #expect(acknowledged.status == .acknowledged)
            #expect(acknowledged.version == 2)
            #expect(acknowledged.resolvedAt == nil)
            #expect(acknowledged.event?.severity == .critical)

            let resolved = try await fixture.store.updateAlert(id: id, status: .resolved, expectedVersion: 2, by: admin)
            let resolvedAt = try #require(resolved.resolvedAt)
            #expect(resolved.updatedAt == resolvedAt)

            let again = try await fixture.store.updateAlert(id: id, status: .resolved, expectedVersion: 3, by: admin)
            #expect(again.resolvedAt == resolvedAt)
            #expect(again.version == 4)
            #expect(try #require(again.updatedAt).unixNanoseconds > resolvedAt.unixNanoseconds)

            let reopened = try await fixture.store.updateAlert(id: id, status: .open, expectedVersion: 4, by: admin)
            #expect(reopened.resolvedAt == nil)
            #expect(reopened.eventId == resolved.eventId)

            let detail = try #require(try await fixture.store.alert(id: id))
            #expect(detail.alert == reopened)
            #expect(detail.history.map(\.fromStatus) == [.open, .acknowledged, .resolved, .resolved])
            #expect(detail.history.map(\.toStatus) == [.acknowledged, .resolved, .resolved, .open])
            #expect(detail.history.map(\.version) == [2, 3, 4, 5])
            #expect(detail.history.allSatisfy { $0.changedByUserId == admin.userID && $0.changedByUsername == "admin" })
            #expect(detail.history.allSatisfy { $0.alertId == id })
            let times = detail.history.compactMap { $0.changedAt?.unixNanoseconds }
            #expect(times == times.sorted() && times.count == 4)
        }
    }

    @Test("a stale expected version is a conflict (ABORTED) and changes nothing")
    func staleVersion() async throws {
        try await StoreFixture.with { fixture in
            let id = try await self.makeAlert(fixture)
            _ = try await fixture.store.updateAlert(id: id, status: .acknowledged, expectedVersion: 1, by: admin)
            let error = await #expect(throws: StoreError.self) {
                try await fixture.store.updateAlert(id: id, status: .resolved, expectedVersion: 1, by: admin)
            }
            #expect(error?.code == .conflict)
            #expect(error?.statusCode == .aborted)
            let detail = try #require(try await fixture.store.alert(id: id))
            #expect(detail.alert.status == .acknowledged)
            #expect(detail.history.count == 1)
        }
    }

    @Test("two concurrent updates from the same version: exactly one wins")
    func concurrentUpdates() async throws {
        try await StoreFixture.with { fixture in
            let id = try await self.makeAlert(fixture)
            let store = fixture.store
            let results = await withTaskGroup(of: Bool.self) { group in
                for status in [AlertStatus.acknowledged, .resolved, .acknowledged, .resolved] {
                    group.addTask {
                        (try? await store.updateAlert(id: id, status: status, expectedVersion: 1, by: admin)) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1)
            #expect(try await fixture.store.alert(id: id)?.history.count == 1)
        }
    }

    @Test("unknown alert is notFound; unspecified status and version 0 are invalid arguments")
    func invalidUpdates() async throws {
        try await StoreFixture.with { fixture in
            let id = try await self.makeAlert(fixture)
            let missing = await #expect(throws: StoreError.self) {
                try await fixture.store.updateAlert(id: id + 100, status: .resolved, expectedVersion: 1, by: admin)
            }
            #expect(missing?.code == .notFound)
            #expect(missing?.statusCode == .notFound)
            let unspecified = await #expect(throws: StoreError.self) {
                try await fixture.store.updateAlert(id: id, status: .unspecified, expectedVersion: 1, by: admin)
            }
            #expect(unspecified?.statusCode == .invalidArgument)
            let noVersion = await #expect(throws: StoreError.self) {
                try await fixture.store.updateAlert(id: id, status: .resolved, expectedVersion: 0, by: admin)
            }
            #expect(noVersion?.statusCode == .invalidArgument)
            #expect(try await fixture.store.alert(id: id + 100) == nil)
        }
    }
}
