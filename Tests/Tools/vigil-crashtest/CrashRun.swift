// The crash scenario: `streams` IngestSessions (VigilClient's: they reconnect, reopen under the same producer id and
// resend every unacknowledged batch) over `connections` clients stream events while vigild is SIGKILLed `kills`
// times at seeded random intervals and restarted on the same data directory and port. Then vigild stops cleanly
// (SIGTERM, exit 0) and the file must hold every acknowledged event once, and one alert per HIGH/CRITICAL event.
// A vigild that ends by itself at any point (a crash during recovery, say) fails the run.
import Foundation
import Synchronization
import VigilAPI
import VigilClient

struct Outcome {
    var line: String
    var passed: Bool
    var skipped = false
}

final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { self.value.withLock { $0 = true } }
    var isSet: Bool { self.value.withLock { $0 } }
}

struct CrashRun {
    let options: Options

    func run() async throws -> Outcome {
        let started = ContinuousClock.now
        let work = try System.makeTemporaryDirectory("vigil-crashtest")
        let dataDirectory = self.options.dataDirectory ?? work + "/data"
        let vigild = try Vigild(binary: self.options.vigild, dataDirectory: dataDirectory, logDirectory: work)
        defer { vigild.killHard() }
        try vigild.start()
        try await vigild.waitUntilServing()

        var connected: [VigilClient] = []
        for _ in 0..<self.options.connections { connected.append(try await vigild.client()) }
        let clients = connected
        let ledger = Ledger(streams: self.options.streams)
        let stop = Flag()
        let options = self.options
        let sessions = Task { () throws -> [(reconnects: Int, error: String?)] in
            try await withThrowingTaskGroup(of: (Int, Int, String?).self) { group in
                for stream in 0..<options.streams {
                    let client = clients[stream % clients.count]
                    group.addTask {
                        await Self.stream(stream, client: client, ledger: ledger, stop: stop, options: options)
                    }
                }
                var results = Array(repeating: (reconnects: 0, error: String?.none), count: options.streams)
                for try await (stream, reconnects, error) in group { results[stream] = (reconnects, error) }
                return results
            }
        }

        // The killer.
        var random = SeededRandom(seed: self.options.seed)
        var restarts: [Duration] = []
        var findings: [String] = []
        for _ in 0..<self.options.kills {
            let interval = Int.random(in: self.options.minIntervalMs...self.options.maxIntervalMs, using: &random)
            try await Task.sleep(for: .milliseconds(interval))
            guard vigild.killHard() else { break }
            let down = ContinuousClock.now
            try vigild.start()
            do {
                try await vigild.waitUntilServing()
            } catch {
                findings.append("restart \(restarts.count + 1): \(error)")
                break
            }
            restarts.append(ContinuousClock.now - down)
        }
        // Let the streams reconnect after the last restart and send for a while, then end them.
        try await Task.sleep(for: .milliseconds(self.options.maxIntervalMs))
        stop.set()
        let results = try await sessions.value
        findings += results.enumerated().compactMap { stream, result in result.error.map { "stream \(stream): \($0)" } }
        findings += vigild.deaths

        var statsLine = ""
        if vigild.isRunning {
            do {
                let client = try await vigild.client()
                let stats = try await client.getStats()
                await client.close()
                statsLine = "\(stats.totalEvents)/\(stats.totalAlerts)"
            } catch {
                findings.append("GetStats failed: \(error)")
            }
        }
        for client in clients { await client.close() }
        if vigild.isRunning {
            let status = await vigild.stop()
            if status != 0 { findings.append("vigild exited \(status) on SIGTERM: \(vigild.log().suffix(400))") }
        }

        let check = try StoreCheck.run(dataDirectory + "/vigil.db", ledger)
        if !statsLine.isEmpty && statsLine != "\(check.stored)/\(check.alerts)" {
            findings.append(
                "GetStats counted \(statsLine) events/alerts, the file holds \(check.stored)/\(check.alerts)")
        }
        if restarts.count < self.options.kills {
            findings.append("only \(restarts.count) of \(self.options.kills) kills and restarts happened")
        }
        if check.highOrCritical != check.alerts { findings.append("alerts do not match high/critical events") }
        findings += check.examples
        let passed = check.passed && findings.isEmpty
        let reconnects = results.reduce(0) { $0 + $1.reconnects }
        let sortedRestarts = restarts.sorted()
        let median = sortedRestarts.isEmpty ? Duration.zero : sortedRestarts[sortedRestarts.count / 2]
        let elapsed = ContinuousClock.now - started
        let line =
            "crash: \(restarts.count) kills, \(self.options.streams) streams, \(check)"
            + " (seed \(self.options.seed), \(Self.seconds(elapsed)), restart p50 \(Self.seconds(median)),"
            + " \(reconnects) reconnects, \(ledger.duplicateBatches) duplicate batches,"
            + " \(check.storedUnacked) stored unacked): \(passed ? "PASS" : "FAIL")"
            + (passed ? "" : " [\(findings.prefix(6).joined(separator: "; "))]")
        if passed && !self.options.keep { try? FileManager.default.removeItem(atPath: work) }
        if !passed { FileHandle.standardError.write(Data("vigil-crashtest: kept \(work)\n".utf8)) }
        return Outcome(line: line, passed: passed)
    }

    /// One stream: sends its events in order until `stop`, then closes (flushing everything); returns its index,
    /// its reconnect count and the error that ended it early, if one did.
    static func stream(
        _ stream: Int, client: VigilClient, ledger: Ledger, stop: Flag, options: Options
    ) async -> (Int, Int, String?) {
        let batch = options.batchSize
        let session: IngestSession
        do {
            session = try await client.ingestSession(
                batchSize: batch, maxUnackedBatches: options.maxUnacked,
                reconnect: IngestSession.ReconnectPolicy(
                    timeout: .seconds(120), initialBackoff: .milliseconds(20), maximumBackoff: .milliseconds(250)),
                onAck: { ack in
                    // Batch n holds events (n-1)*batch ..< n*batch: batches close only when full, or at close.
                    let through = min(Int(ack.sequence) * batch, ledger.sent(stream))
                    ledger.acked(stream, through: through, duplicateBatch: ack.duplicateBatch)
                })
        } catch {
            return (stream, 0, "opening the session: \(error)")
        }
        var index = 0
        do {
            while !stop.isSet && (options.eventsPerStream == 0 || index < options.eventsPerStream) {
                ledger.sent(stream, through: index + 1)
                try await session.send(Ledger.event(stream: stream, index: index))
                index += 1
            }
            try await session.close()
        } catch {
            return (stream, session.reconnectCount, "after \(index) events: \(error)")
        }
        let summary = session.summary
        if summary.accepted + summary.duplicates != index || ledger.acked(stream) != index {
            return (
                stream, session.reconnectCount,
                "sent \(index), acks say \(summary.accepted) accepted + \(summary.duplicates) duplicates, "
                    + "acked through \(ledger.acked(stream))"
            )
        }
        return (stream, session.reconnectCount, nil)
    }

    static func seconds(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.1f s", seconds)
    }
}
