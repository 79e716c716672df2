// `vigilbench ingest`: durable ingest throughput and ack latency against a running vigild, through VigilClient's
// ingest session only (the same code agents run). S streams spread round robin over C connections, each its own
// session with a fresh producer id, send realistic events (SampleEvents: 1,000 sources, 64 types, a quarter HIGH or
// CRITICAL, ~130 bytes) in batches of B, either a fixed count (--events N in total) or for a time (--duration S),
// optionally paced to R events/s in total (--rate). Events are generated before the clock starts, so the figure is
// the client library, the transport and the server, not the generator.
// Figures: events_per_s (acknowledged events per second of the run, until the last ack), acked_events,
// sent_events, and latency_ms (p50/p99/max per batch, from its first write to its ack: what an agent waits for
// durability).
import Foundation
import Synchronization
import VigilAPI
import VigilClient

struct IngestBenchmark {
    static let usage = """
        usage: vigilbench ingest --server HOST:PORT --ca FILE --username U --password-env VAR [OPTIONS]
        \(ServerOptions.usage)
          --connections C      TLS connections (default 1)
          --streams S          ingest sessions in total, across connections (default 1)
          --batch B            events per batch (default 100)
          --events N           events to send in total (default 200000), or
          --duration S         seconds to send for
          --rate R             events per second in total (default: as fast as acks allow)
          --max-unacked U      batches in flight per stream (default 64)
          --json FILE          also write the figures as JSON
        """

    /// What the acks of one stream said.
    struct StreamResult: Sendable {
        var sent = 0
        var acked = 0
        var accepted = 0
        var duplicates = 0
        var rejected = 0
        var alerts = 0
        var latency = LatencyHistogram()

        mutating func merge(_ other: StreamResult) {
            self.sent += other.sent
            self.acked += other.acked
            self.accepted += other.accepted
            self.duplicates += other.duplicates
            self.rejected += other.rejected
            self.alerts += other.alerts
            self.latency.merge(other.latency)
        }
    }

    /// Per-stream tally the ack callback updates (it runs on the session's task).
    final class Tally: Sendable {
        let result = Mutex(StreamResult())

        func record(_ ack: IngestSessionAck) {
            self.result.withLock { result in
                let events = ack.accepted + ack.duplicates + ack.rejections.count
                result.acked += events
                result.accepted += ack.accepted
                result.duplicates += ack.duplicates
                result.rejected += ack.rejections.count
                result.alerts += ack.alertsCreated
                result.latency.record(ack.latency)
            }
        }
    }

    let server: ServerOptions
    let connections: Int
    let streams: Int
    let batch: Int
    let events: Int?
    let duration: Double?
    let rate: Double?
    let maxUnacked: Int
    let jsonPath: String?

    init(_ options: CommandLineOptions) throws(UsageError) {
        try options.rejectUnknown(ServerOptions.names.union([
            "connections", "streams", "batch", "events", "duration", "rate", "max-unacked", "json",
        ]))
        self.server = try ServerOptions(options)
        self.connections = try options.int("connections", default: 1, range: 1...10_000)
        self.streams = try options.int("streams", default: 1, range: 1...10_000)
        self.batch = try options.int("batch", default: 100, range: 1...100_000)
        if options.string("duration") != nil {
            guard options.string("events") == nil else { throw UsageError("give --events or --duration, not both") }
            self.duration = try options.double("duration", default: 5)
            self.events = nil
        } else {
            self.events = try options.int("events", default: 200_000, range: 1...1_000_000_000)
            self.duration = nil
        }
        self.rate = options.string("rate") == nil ? nil : try options.double("rate", default: 0)
        if let rate, rate <= 0 { throw UsageError("--rate must be positive") }
        self.maxUnacked = try options.int("max-unacked", default: 64, range: 1...100_000)
        self.jsonPath = options.string("json")
    }

    func run() async throws {
        let password = try self.server.password()
        let connector = try self.server.makeConnector()
        let first = try await connector.connect()
        try await first.authenticate(username: self.server.username, password: password)
        var clients = [first]
        for _ in 1..<self.connections { clients.append(try await connector.connect(tokens: first.tokens)) }

        // A pool of distinct events per stream, cycled; occurred_at near now, as live agents send.
        let poolSize = min(self.events.map { max($0 / self.streams, 1) } ?? 20_000, 20_000)
        let pools: [[Event]] = (0..<self.streams).map { stream in
            var generator = SampleEvents(seed: UInt64(stream + 1))
            let now = Date().timeIntervalSince1970
            return (0..<poolSize).map { index in
                var event = generator.next()
                event.occurredAt = Timestamp(unixNanoseconds: Int64((now - 1 + Double(index) / 1e6) * 1e9))
                return event
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        let merged = try await withThrowingTaskGroup(of: StreamResult.self) { group in
            for stream in 0..<self.streams {
                let client = clients[stream % clients.count]
                let quota = self.events.map { $0 / self.streams + (stream < $0 % self.streams ? 1 : 0) }
                group.addTask { try await self.stream(client, pools[stream], quota: quota, start: start) }
            }
            var merged = StreamResult()
            for try await result in group { merged.merge(result) }
            return merged
        }
        let elapsed = start.duration(to: clock.now).seconds
        for client in clients { await client.disconnect() }
        await connector.shutdown()
        guard merged.acked == merged.sent else {
            throw UsageError("\(merged.sent) events sent but \(merged.acked) acknowledged")
        }
        self.report(merged, elapsed: elapsed)
        if let jsonPath {
            try self.json(merged, elapsed: elapsed).write(toFile: jsonPath, atomically: true, encoding: .utf8)
        }
    }

    /// One session: sends its quota (or until the duration ends), paced when --rate is set, then waits for the
    /// last ack.
    private func stream(
        _ client: VigilClient, _ pool: [Event], quota: Int?, start: ContinuousClock.Instant
    ) async throws -> StreamResult {
        let tally = Tally()
        let session = try await client.ingestSession(
            batchSize: self.batch, maxUnackedBatches: self.maxUnacked, onAck: { ack in tally.record(ack) })
        let end = self.duration.map { start + .milliseconds(Int($0 * 1000)) }
        let perStreamRate = self.rate.map { $0 / Double(self.streams) }
        var sent = 0
        var next = 0
        while true {
            if let quota, sent >= quota { break }
            if let end, ContinuousClock.now >= end { break }
            // One batch worth at a time, so the clock is read once per batch, not per event.
            var chunk = self.batch
            if let quota { chunk = min(chunk, quota - sent) }
            if let perStreamRate {
                let due = start + .nanoseconds(Int64(Double(sent) / perStreamRate * 1e9))
                if due > ContinuousClock.now { try await Task.sleep(until: due, clock: .continuous) }
            }
            for _ in 0..<chunk {
                try await session.send(pool[next])
                next = next + 1 == pool.count ? 0 : next + 1
            }
            sent += chunk
        }
        try await session.close()
        var result = tally.result.withLock { $0 }
        result.sent = sent
        return result
    }

    private func report(_ result: StreamResult, elapsed: Double) {
        print(String(
            format: "ingest: %d connection(s), %d stream(s), batches of %d, %.2f s", self.connections, self.streams,
            self.batch, elapsed))
        print(String(
            format:
                "events/s %.0f (%d acked of %d sent: %d accepted, %d duplicates, %d rejected, %d alerts), "
                + "ack latency ms p50 %.3f p99 %.3f max %.3f",
            Double(result.acked) / elapsed, result.acked, result.sent, result.accepted, result.duplicates,
            result.rejected, result.alerts, Self.milliseconds(result.latency.percentile(0.5)),
            Self.milliseconds(result.latency.percentile(0.99)), Self.milliseconds(result.latency.maximum)))
    }

    private func json(_ result: StreamResult, elapsed: Double) -> String {
        func rounded(_ value: Double, _ places: Double = 1000) -> Double { (value * places).rounded() / places }
        return """
            {"connections": \(self.connections), "streams": \(self.streams), "batch": \(self.batch), \
            "duration_s": \(rounded(elapsed)), "events_per_s": \(rounded(Double(result.acked) / elapsed, 1)), \
            "acked_events": \(result.acked), "sent_events": \(result.sent), "accepted": \(result.accepted), \
            "duplicates": \(result.duplicates), "rejected": \(result.rejected), "alerts_created": \(result.alerts), \
            "latency_ms": {"p50": \(rounded(Self.milliseconds(result.latency.percentile(0.5)))), \
            "p90": \(rounded(Self.milliseconds(result.latency.percentile(0.9)))), \
            "p99": \(rounded(Self.milliseconds(result.latency.percentile(0.99)))), \
            "max": \(rounded(Self.milliseconds(result.latency.maximum)))}}

            """
    }

    private static func milliseconds(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1e6 }
}
