// The verdict, read from the database file with the sqlite3 CLI after vigild stopped (rows are the truth: each
// stored batch of events in a row of `event_batches`, one row per alert in `alerts`): every acknowledged event
// stored, none stored twice, none stored that was never sent, and every HIGH/CRITICAL event with exactly one alert
// (and no alert on anything else). The batch blobs are parsed here by code of the checker's own (`StoredEventBatches`),
// not the server's, so a fault in the server's reader cannot hide one in its writer. The API's GetStats, read
// before the stop, must count the same (it reads the index tables plus the tail).
import Foundation
import VigilAPI
import VigilTesting

struct StoreCheck: CustomStringConvertible {
    var acked = 0
    var stored = 0
    var missing = 0
    var duplicates = 0
    /// Stored events never handed to the server: impossible unless descriptions are corrupted.
    var phantoms = 0
    /// Stored events sent but never acknowledged (a session that gave up): allowed, reported.
    var storedUnacked = 0
    var highOrCritical = 0
    var alerts = 0
    /// HIGH/CRITICAL events without exactly one alert, and alerts on LOW/MEDIUM or missing events.
    var wrongAlerts = 0
    var examples: [String] = []

    var passed: Bool { self.missing == 0 && self.duplicates == 0 && self.phantoms == 0 && self.wrongAlerts == 0 }

    var description: String {
        "\(self.acked) events acked, \(self.stored) stored, \(self.missing) missing, \(self.duplicates) duplicates, "
            + "\(self.alerts) alerts for \(self.highOrCritical) high/critical"
            + (self.wrongAlerts > 0 ? " (\(self.wrongAlerts) wrong)" : "")
            + (self.phantoms > 0 ? ", \(self.phantoms) never sent" : "")
    }

    static func sqlite3() -> String? {
        for candidate in ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3", "/bin/sqlite3"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }

    /// Lines printed by sqlite3 for `sql` on `database`.
    static func query(_ database: String, _ sql: String) throws -> [Substring] {
        guard let sqlite3 = Self.sqlite3() else {
            throw System.Failure(description: "the sqlite3 CLI is not installed")
        }
        let result = try System.run(sqlite3, ["-batch", "-noheader", database, sql])
        guard result.status == 0 else {
            throw System.Failure(description: "sqlite3 \(sql): status \(result.status): \(result.output.prefix(500))")
        }
        return result.output.split(separator: "\n", omittingEmptySubsequences: true)
    }

    /// Rows above the most behind index's watermark, events plus alerts (0 once the indexer caught up); readable
    /// while vigild runs (WAL).
    static func tail(_ database: String) throws -> Int {
        let sql = """
            SELECT max(0, coalesce((SELECT max(last_id) FROM event_batches), 0)
                    - (SELECT min(indexed_through) FROM index_marks WHERE table_name = 'events'))
                + max(0, coalesce((SELECT max(id) FROM alerts), 0)
                    - (SELECT min(indexed_through) FROM index_marks WHERE table_name = 'alerts'));
            """
        return Int(try Self.query(database, sql).first ?? "") ?? -1
    }

    static func run(_ database: String, _ ledger: Ledger) throws -> StoreCheck {
        var check = StoreCheck()
        let streams = ledger.count
        var seen = (0..<streams).map { Array(repeating: UInt8(0), count: ledger.sent($0) + 1) }
        let events = try StoredEventBatches.parse(
            rows: try Self.query(database, StoredEventBatches.query).map { String($0) })
        for event in events {
            let line = Substring(event.description)
            check.stored += 1
            guard let (stream, index) = Ledger.parse(line), stream >= 0, stream < streams,
                index < ledger.sent(stream)
            else {
                check.phantoms += 1
                if check.examples.count < 5 { check.examples.append("never sent: \(line)") }
                continue
            }
            if seen[stream][index] > 0 {
                check.duplicates += 1
                if check.examples.count < 5 { check.examples.append("twice: \(line)") }
            }
            seen[stream][index] &+= 1
            if index >= ledger.acked(stream) { check.storedUnacked += 1 }
        }
        for stream in 0..<streams {
            let acked = ledger.acked(stream)
            check.acked += acked
            for index in 0..<acked where seen[stream][index] == 0 {
                check.missing += 1
                if check.examples.count < 5 {
                    check.examples.append("acked, not stored: \(Ledger.description(stream: stream, index: index))")
                }
            }
        }
        // Severity as the enum's number: HIGH 3, CRITICAL 4.
        let severityByID = Dictionary(events.map { ($0.id, $0.severity.rawValue) }, uniquingKeysWith: { first, _ in first })
        var alertsByEvent: [Int64: Int] = [:]
        for line in try Self.query(database, "SELECT event_id FROM alerts;") {
            check.alerts += 1
            alertsByEvent[Int64(line) ?? -1, default: 0] += 1
        }
        for (id, severity) in severityByID where severity >= 3 {
            check.highOrCritical += 1
            if alertsByEvent[id] != 1 { check.wrongAlerts += 1 }
        }
        for (eventID, _) in alertsByEvent where (severityByID[eventID] ?? 0) < 3 { check.wrongAlerts += 1 }
        return check
    }
}

