// vigild's JSON log lines and its retention task, without starting the binary: the line format (escaping, RFC 3339
// times) and that `--retention-days` becomes the cutoff handed to the store's deletion, once at start and then
// every interval until drain cancels the task. VigildRestartTests checks the same wiring end to end.
import Foundation
import Synchronization
import Testing
import VigilTesting

@testable import VigilService
@testable import vigild

@Suite struct LogAndRetentionTests {
    @Test("a log line is one JSON object: time, level, msg first, fields after, everything escaped")
    func logLine() throws {
        let line = Log.line(
            .warning, "say \"hi\"\n", ["path": "C:\\dir\t\u{01}", "count": 5], time: "2026-01-02T03:04:05.006Z")
        let expected =
            #"{"time":"2026-01-02T03:04:05.006Z","level":"warning","msg":"say \"hi\"\n","#
            + #""path":"C:\\dir\t\u0001","count":5}"#
        #expect(line == expected)
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["msg"] as? String == "say \"hi\"\n")
        #expect(object["path"] as? String == "C:\\dir\t\u{01}")
    }

    @Test("times are RFC 3339 UTC with milliseconds")
    func rfc3339() {
        #expect(Log.rfc3339(seconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Log.rfc3339(seconds: 1_700_000_000, milliseconds: 7) == "2023-11-14T22:13:20.007Z")
        #expect(Log.now().hasSuffix("Z") && Log.now().count == 24)
    }

    @Test("--retention-days N (flag or VIGIL_RETENTION_DAYS) becomes a cutoff N days before now", arguments: [
        (["--retention-days", "30"], [String: String](), 30),
        ([], ["VIGIL_RETENTION_DAYS": "7"], 7),
    ])
    func cutoffFromFlag(flags: [String], environment: [String: String], days: Int) async throws {
        let configuration = try Configuration.parse(flags: flags, environment: environment)
        #expect(configuration.retentionDays == days)
        let now: Int64 = 1_800_000_000 * 1_000_000_000
        let seen = Mutex<[Int64]>([])
        let retention = Retention(
            days: configuration.retentionDays, interval: .seconds(3600),
            deleteEvents: { cutoff in
                seen.withLock { $0.append(cutoff) }
                return RetentionResult(events: 4, alerts: 1, alertChanges: 3)
            },
            now: { now })
        let result = await retention.pass()
        #expect(result == RetentionResult(events: 4, alerts: 1, alertChanges: 3))
        #expect(seen.withLock { $0 } == [now - Int64(days) * 86_400 * 1_000_000_000])
    }

    @Test("retention is off at 0 days, and a huge span never overflows")
    func offAndBounds() throws {
        let directory = try TemporaryDirectory(prefix: "vigild-retention")
        let store = try SQLiteStore(configuration: SQLiteStore.Configuration(path: directory.file("vigil.db")))
        defer { store.close() }
        #expect(Retention.start(days: 0, store: store) == nil)
        #expect(Retention.cutoff(days: 36_500, now: 0) == -36_500 * Retention.nanosecondsPerDay)
        #expect(Retention.cutoff(days: Int.max, now: 0) == Int64.min)
    }

    @Test("the task passes at once, then every interval, keeps going after a failure, and stops when cancelled")
    func runsUntilCancelled() async throws {
        let calls = Mutex(0)
        let retention = Retention(
            days: 1, interval: .milliseconds(20),
            deleteEvents: { _ in
                let call = calls.withLock { count in
                    count += 1
                    return count
                }
                if call == 2 { throw StoreError(.unavailable, "disk on fire") }
                return RetentionResult(events: 0, alerts: 0, alertChanges: 0)
            },
            now: { Retention.unixNanoseconds() })
        let task = Task.detached { await retention.run() }
        // Generous: on two cores other suites (protoc runs, PBKDF2) can hold both cooperative threads for seconds.
        let end = ContinuousClock.now + .seconds(60)
        while calls.withLock({ $0 }) < 3 && ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(10)) }
        task.cancel()
        await task.value
        #expect(calls.withLock { $0 } >= 3)
    }
}
