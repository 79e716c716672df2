// Storing events: automatic alerts in the same transaction, all-or-nothing batches, idempotency keys, GetEvent,
// GetStats, retention, and a file operators can read with the sqlite3 CLI.
import Foundation
import Testing
import VigilAPI
import VigilRPC
import VigilSQLite
import VigilTesting

@testable import VigilService

@Suite("Store events")
struct StoreEventTests {
    @Test("HIGH and CRITICAL events create exactly one OPEN alert each; LOW and MEDIUM none")
    func automaticAlerts() async throws {
        try await StoreFixture.with { fixture in
            let outcomes = try await fixture.store.insertEvents(
                [makeEvent(.low), makeEvent(.medium), makeEvent(.high), makeEvent(.critical)],
                submittedBy: agent
            )
            #expect(outcomes.map { $0.alertID != nil } == [false, false, true, true])
            #expect(try await fixture.store.count("events") == 4)
            #expect(try await fixture.store.count("alerts") == 2)
            for outcome in outcomes {
                let eventID = try #require(outcome.eventID)
                let detail = try #require(try await fixture.store.event(id: eventID))
                #expect(detail.alertID == outcome.alertID)
                #expect(detail.event.submittedByUserId == agent.userID)
                #expect(detail.event.submittedByUsername == agent.username)
                #expect(detail.event.occurredAt == detail.event.receivedAt)
                guard let alertID = outcome.alertID else { continue }
                let alert = try #require(try await fixture.store.alert(id: alertID))
                #expect(alert.alert.status == .open)
                #expect(alert.alert.version == 1)
                #expect(alert.alert.eventId == eventID)
                #expect(alert.alert.event?.id == eventID)
                #expect(alert.alert.resolvedAt == nil)
                #expect(alert.alert.createdAt == detail.event.receivedAt)
                #expect(alert.history.isEmpty)
            }
            #expect(try await fixture.store.event(id: 999) == nil)
        }
    }

    @Test(
        "a batch failing at its events' row or at an alert leaves neither events nor alerts",
        arguments: ["event_batches", "alerts"])
    func failedBatchLeavesNothing(table: String) async throws {
        try await StoreFixture.with { fixture in
            // A trigger stands in for any failure inside the transaction (disk full, constraint): on the batch row
            // of the three events below, or on the poisoned event's alert. `table` comes from the test's own
            // argument list, never from input.
            let condition = table == "alerts" ? "NEW.source_name = 'poison'" : "NEW.count = 3"
            let trigger = """
                CREATE TRIGGER poison BEFORE INSERT ON \(table) WHEN \(condition)
                BEGIN SELECT RAISE(ABORT, 'poisoned'); END
                """
            try await fixture.store.withWriterConnection { database in try database.execute(trigger) }
            let batch = [makeEvent(.critical), makeEvent(.low), makeEvent(.high, source: "poison")]
            await #expect(throws: StoreError.self) {
                try await fixture.store.insertEvents(batch, submittedBy: agent)
            }
            #expect(try await fixture.store.count("events") == 0)
            #expect(try await fixture.store.count("alerts") == 0)
            // The writer is still usable afterwards.
            _ = try await fixture.store.insertEvents([makeEvent(.high)], submittedBy: agent)
            #expect(try await fixture.store.count("alerts") == 1)
        }
    }

    @Test("an idempotency key already stored for the user is a duplicate, within a batch and across batches")
    func idempotencyKeys() async throws {
        try await StoreFixture.with { fixture in
            let first = try await fixture.store.insertEvents(
                [makeEvent(.high, key: "k1"), makeEvent(.high, key: "k1"), makeEvent(.low), makeEvent(.low, key: "")],
                submittedBy: agent
            )
            let stored = try #require(first[0].eventID)
            #expect(first[1] == .duplicate(existingEventID: stored))
            #expect(first[2].eventID != nil && first[3].eventID != nil)
            let again = try await fixture.store.insertEvents(
                [makeEvent(.critical, key: "k1"), makeEvent(.low, key: "k2")],
                submittedBy: agent
            )
            #expect(again[0] == .duplicate(existingEventID: stored))
            #expect(again[1].eventID != nil)
            // The key is per user: another user may use it.
            let other = try await fixture.store.insertEvents(
                [makeEvent(.high, key: "k1")],
                submittedBy: ActingUser(userID: 8, username: "agent-8")
            )
            #expect(other[0].eventID != nil)
            #expect(try await fixture.store.count("events") == 5)
            #expect(try await fixture.store.count("alerts") == 2)
            let detail = try #require(try await fixture.store.event(id: stored))
            #expect(detail.event.idempotencyKey == "k1")
        }
    }

    @Test("an unspecified severity is refused before anything is stored")
    func refusesUnknownSeverity() async throws {
        try await StoreFixture.with { fixture in
            await #expect(throws: StoreError.self) {
                try await fixture.store.insertEvents([makeEvent(.low), makeEvent(.unspecified)], submittedBy: agent)
            }
            let count = try await fixture.store.count("events")
            #expect(count == 0)
        }
    }

    @Test("stats count events by severity and alerts by status and severity, zeros included")
    func stats() async throws {
        try await StoreFixture.with { fixture in
            let outcomes = try await fixture.store.insertEvents(
                [makeEvent(.low), makeEvent(.low), makeEvent(.high), makeEvent(.critical), makeEvent(.critical)],
                submittedBy: agent
            )
            let alertID = try #require(outcomes[2].alertID)
            _ = try await fixture.store.updateAlert(id: alertID, status: .resolved, expectedVersion: 1, by: admin)
            let stats = try await fixture.store.stats()
            #expect(stats.totalEvents == 5)
            #expect(stats.totalAlerts == 3)
            #expect(stats.eventsBySeverity.map(\.severity) == [.low, .medium, .high, .critical])
            #expect(stats.eventsBySeverity.map(\.count) == [2, 0, 1, 2])
            #expect(stats.alertsByStatus.map(\.status) == [.open, .acknowledged, .resolved])
            #expect(stats.alertsByStatus.map(\.count) == [2, 0, 1])
            #expect(stats.alertsBySeverity.map(\.count) == [0, 0, 1, 2])
        }
    }

    @Test("retention deletes old events without an alert or with a RESOLVED one, with that alert and its history")
    func retention() async throws {
        try await StoreFixture.with { fixture in
            let old: Int64 = 1_000_000_000_000
            let outcomes = try await fixture.store.insertEvents(
                [
                    makeEvent(.low, occurredAt: old), makeEvent(.high, occurredAt: old),
                    makeEvent(.critical, occurredAt: old), makeEvent(.low),
                    makeEvent(.high),
                ],
                submittedBy: agent
            )
            let resolvedOld = try #require(outcomes[1].alertID)
            let openOld = try #require(outcomes[2].alertID)
            let resolvedNew = try #require(outcomes[4].alertID)
            _ = try await fixture.store.updateAlert(
                id: resolvedOld, status: .acknowledged, expectedVersion: 1, by: admin)
            _ = try await fixture.store.updateAlert(id: resolvedOld, status: .resolved, expectedVersion: 2, by: admin)
            _ = try await fixture.store.updateAlert(id: resolvedNew, status: .resolved, expectedVersion: 1, by: admin)
            let result = try await fixture.store.deleteEvents(occurredBefore: old + 1)
            #expect(result == RetentionResult(events: 2, alerts: 1, alertChanges: 2))
            let purged = try #require(outcomes[0].eventID)
            #expect(try await fixture.store.event(id: purged) == nil)
            #expect(try await fixture.store.alert(id: resolvedOld) == nil)
            #expect(try await fixture.store.alert(id: openOld) != nil)
            #expect(try await fixture.store.alert(id: resolvedNew) != nil)
            #expect(try await fixture.store.count("events") == 3)
            #expect(try await fixture.store.count("alert_changes") == 1)
        }
    }

    @Test("a large batch is split into rows of at most a third of a page, so no row spills into overflow pages")
    func batchRowsFitPages() async throws {
        try await StoreFixture.with { fixture in
            let events = (0..<300).map { index in
                var event = makeEvent(.low, source: "host-\(index)")
                event.description = String(repeating: "x", count: 100 + index % 50)
                return event
            }
            let outcomes = try await fixture.store.insertEvents(events, submittedBy: agent)
            let (rows, largest, pageSize, stored) = try await fixture.store.withWriterConnection { database in
                try database.queryFirst(
                    """
                    SELECT count(*), max(length(events)), (SELECT page_size FROM pragma_page_size()), sum(count)
                    FROM event_batches
                    """
                ) { row in (row.int64(at: 0), row.int64(at: 1), row.int64(at: 2), row.int64(at: 3)) }
            } ?? (0, 0, 0, 0)
            #expect(stored == 300 && rows > 1, "\(rows) rows")
            #expect(largest <= pageSize / 3, "\(largest) bytes in a row, pages of \(pageSize)")
            for outcome in outcomes {
                let id = try #require(outcome.eventID)
                #expect(try await fixture.store.event(id: id)?.event.sourceName == "host-\(id - 1)")
            }
        }
    }

    @Test("a damaged batch row fails the reads of its events with INTERNAL; other events and alerts are served")
    func damagedBatchRow() async throws {
        try await StoreFixture.with { fixture in
            let events = (0..<300).map { index in makeEvent(index % 4 == 0 ? .high : .low, source: "h\(index)") }
            let outcomes = try await fixture.store.insertEvents(events, submittedBy: agent)
            try await fixture.store.withWriterConnection { database in
                try database.execute(
                    "UPDATE event_batches SET events = x'0102' WHERE first_id = (SELECT min(first_id) FROM event_batches)")
            }
            let first = try #require(outcomes.first?.eventID)
            let last = try #require(outcomes.last?.eventID)
            let get = await #expect(throws: StoreError.self) { _ = try await fixture.store.event(id: first) }
            #expect(get?.code == .internal)
            let list = await #expect(throws: StoreError.self) { _ = try await fixture.store.listEvents(EventQuery()) }
            #expect(list?.code == .internal)
            #expect(try await fixture.store.event(id: last)?.event.sourceName == "h299")
            var alerts = AlertQuery()
            alerts.pageSize = 1000
            #expect(try await fixture.store.listAlerts(alerts).items.count == 75, "alerts carry their events' copies")
        }
    }

    @Test("operators can read the file with the sqlite3 CLI: a row per stored batch with its count, one per alert")
    func inspectableWithSQLite3() async throws {
        guard let sqlite3 = Subprocess.which("sqlite3") else { return }
        try await StoreFixture.with { fixture in
            _ = try await fixture.store.insertEvents(
                [makeEvent(.low), makeEvent(.high), makeEvent(.critical)],
                submittedBy: agent
            )
            let events = try Subprocess.run(
                sqlite3, [fixture.path, "SELECT count(*), sum(count), min(first_id), max(last_id) FROM event_batches"])
            #expect(events.status == 0)
            #expect(events.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "1|3|1|3")
            let alerts = try Subprocess.run(
                sqlite3, [fixture.path, "SELECT count(*) FROM alerts WHERE event_id IN (2, 3) AND length(event) > 0"])
            #expect(alerts.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "2")
            let mode = try Subprocess.run(sqlite3, [fixture.path, "PRAGMA journal_mode"])
            #expect(mode.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "wal")
        }
    }

    @Test("a backup taken during writes opens as a store and holds every row committed before it began")
    func backup() async throws {
        try await StoreFixture.with { fixture in
            let store = fixture.store
            _ = try await store.insertEvents((0..<500).map { _ in makeEvent(.high) }, submittedBy: agent)
            let writer = Task {
                for _ in 0..<20 { _ = try await store.insertEvents([makeEvent(.critical)], submittedBy: agent) }
            }
            let copyPath = fixture.directory.file("backup.db")
            try await store.backup(to: copyPath)
            try await writer.value
            let copy = try SQLiteStore(path: copyPath)
            defer { copy.close() }
            let events = try await copy.count("events")
            #expect(events >= 500 && events <= 520)
            #expect(try await copy.count("alerts") == events)
        }
    }

    @Test("the schema is migrated once, by name, and reopening keeps every row")
    func migrationsAndReopen() async throws {
        let directory = try TemporaryDirectory(prefix: "vigil-store")
        let path = directory.file("vigil.db")
        do {
            let store = try SQLiteStore(path: path)
            _ = try await store.insertEvents([makeEvent(.high)], submittedBy: agent)
            store.close()
        }
        let store = try SQLiteStore(path: path)
        defer { store.close() }
        #expect(try await store.count("alerts") == 1)
        let names = try await store.withWriterConnection { database in
            try StoreSchema.migrator.appliedMigrations(in: database)
        }
        #expect(
            names == [
                "0001_users_and_refresh_tokens", "0002_events_and_alerts", "0003_producers",
                "0004_deferred_indexes", "0005_index_marks_per_index", "0006_event_postings", "0007_time_postings",
                "0008_alert_postings", "0009_event_batches", "0010_postings_by_segment",
            ])
        let synchronous = try await store.withWriterConnection { database in try database.synchronous() }
        #expect(synchronous == .full)
    }
}
