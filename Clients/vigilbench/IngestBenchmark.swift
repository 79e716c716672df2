// `vigilbench ingest`: durable ingest throughput and ack latency against a running vigild, through VigilClient's
// ingest session only (the same code agents run). S streams spread round robin over C connections, each its own
// session with a fresh producer id, send realistic events (SampleEvents: 1,000 sources, 64 types, a quarter HIGH or
// CRITICAL, ~130 bytes) in batches of B, either a fixed count (--events N in total) or for a time (--duration S),
// closed loop or paced to R events/s in total (--rate). Events are generated before the clock starts, so the figure
// is the client library, the transport and the server, not the generator.
// Latency per batch: closed loop, from its first write to its ack (what an agent waits for durability); with
// --rate, from the batch's intended send time on the fixed schedule to its ack, so a stall delays the measured
// batches behind it too (no coordinated omission). Rejected events and failed streams are counted by status code.
import Foundation
import Synchronization
import VigilAPI
import VigilClient
import VigilWire

struct IngestBenchmark {
    static let usage = """
        usage: vigilbench ingest --server HOST:PORT --ca FILE --username U --password-env VAR [OPTIONS]
        \(ServerOptions.usage)
          --create-agent       as the (admin) user above, create a fresh agent user and send as it
        \(SampleEvents.Shape.usage)
          --connections C      TLS connections (default 1)
          --streams S          ingest sessions in total, across connections (default 1)
          --batch B            events per batch (default 100)
          --events N           events to send in total (default 200000), or
          --duration S         seconds to send for
          --rate R             events per second in total, latency from the intended send time (default: closed loop)
          --max-unacked U      batches in flight per stream (default 64)
          --find-max           ramp --rate until p99 passes --slo-p99 and report the highest rate within it
          --slo-p99 MS         the p99 SLO for --find-max, milliseconds (default 50)
          --start-rate R       --find-max's first rate (default 1000 events/s), raised by --step (default 1.5)
          --stage S            seconds per --find-max rate (default 3); --max-rate R stops the ramp at R
        \(ReportOptions.usage)
        """
    static let booleanFlags: Set<String> = ["create-agent", "find-max"]

    /// What the acks of one stream said.
    struct StreamResult: Sendable {
        var sent = 0
        var acked = 0
        var accepted = 0
        var duplicates = 0
        var rejected = 0
        var alerts = 0

        mutating func merge(_ other: StreamResult) {
            self.sent += other.sent
            self.acked += other.acked
            self.accepted += other.accepted
            self.duplicates += other.duplicates
            self.rejected += other.rejected
            self.alerts += other.alerts
        }
    }

    /// Per-stream tally the ack callback updates (it runs on the session's task). With a schedule, it holds each
    /// open batch's intended send time by sequence number until its ack.
    final class Tally: Sendable {
        let result = Mutex(StreamResult())
        let intended = Mutex([UInt64: ContinuousClock.Instant]())
        let recorder: Recorder
        let scheduled: Bool

        init(recorder: Recorder, scheduled: Bool) {
            self.recorder = recorder
            self.scheduled = scheduled
        }

        func record(_ ack: IngestSessionAck) {
            let now = ContinuousClock.now
            let events = ack.accepted + ack.duplicates + ack.rejections.count
            let latency =
                self.scheduled
                ? self.intended.withLock { $0.removeValue(forKey: ack.sequence) }.map { $0.duration(to: now) }
                    ?? ack.latency
                : ack.latency
            self.recorder.record(latency: latency, events: events, at: now)
            for rejection in ack.rejections { self.recorder.recordError(String(describing: rejection.code)) }
            self.result.withLock { result in
                result.acked += events
                result.accepted += ack.accepted
                result.duplicates += ack.duplicates
                result.rejected += ack.rejections.count
                result.alerts += ack.alertsCreated
            }
        }
    }

    let server: ServerOptions
    let report: ReportOptions
    let createAgent: Bool
    let connections: Int
    let streams: Int
    let batch: Int
    let events: Int?
    let duration: Double?
    let rate: Double?
    let maxUnacked: Int
    let findMax: FindMax?
    let shape: SampleEvents.Shape

    init(_ options: CommandLineOptions) throws(UsageError) {
        try options.rejectUnknown(
            ServerOptions.names.union(ReportOptions.names).union(Self.booleanFlags).union(SampleEvents.Shape.names)
                .union([
                    "connections", "streams", "batch", "events", "duration", "rate", "max-unacked", "slo-p99",
                    "start-rate",
                    "step", "stage", "max-rate",
                ]))
        self.server = try ServerOptions(options)
        self.report = try ReportOptions(options)
        self.createAgent = options.flag("create-agent")
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
        self.maxUnacked = try options.int("max-unacked", default: 64, range: 1...100_000)
        self.findMax = options.flag("find-max") ? try FindMax(options) : nil
        self.shape = try SampleEvents.Shape(options)
    }

    func run() async throws {
        let connector = try self.server.makeConnector()
        let (clients, _) = try await self.server.connect(
            connector, count: self.connections, createAgent: self.createAgent)
        let pools = self.pools()
        let report: Report
        if let findMax {
            report = try await findMax.run(self, clients: clients, pools: pools)
        } else {
            let recorder = Recorder(name: "ingest", warmup: self.report.warmup)
            let live = recorder.startLiveLine(unit: "events")
            let result = await self.measure(
                clients, pools: pools, recorder: recorder, rate: self.rate, events: self.events,
                duration: self.duration)
            live.cancel()
            recorder.stop()
            report = self.summary(result, recorder: recorder, pools: pools)
            if result.acked != result.sent {
                Recorder.stderr("vigilbench: \(result.sent) events sent but \(result.acked) acknowledged")
            }
        }
        for client in clients { await client.disconnect() }
        await connector.shutdown()
        try report.finish(self.report)
    }

    /// A pool of distinct events per stream, cycled. Their occurred_at (up to `--occurred-spread` before the pool
    /// was made) is moved forward by the time elapsed when each is sent (`LiveClock`), so a long run sends live
    /// timestamps: replaying the pool's own would make every index insert land next to an old row of the same
    /// timestamp, scattered over the whole index, which no live agent does (it cost vigild 16 KB of disk writes per
    /// event in the 2026-11-29 soak, growing with the database).
    func pools() -> [[Event]] {
        let poolSize = min(self.events.map { max($0 / self.streams, 1) } ?? 20_000, 20_000)
        return (0..<self.streams).map { stream in
            var generator = SampleEvents(seed: UInt64(stream + 1), shape: self.shape)
            return (0..<poolSize).map { _ in generator.next() }
        }
    }

    /// Runs every stream once (its quota of `events`, or for `duration` seconds) and merges what their acks said.
    func measure(
        _ clients: [VigilClient], pools: [[Event]], recorder: Recorder, rate: Double?, events: Int?,
        duration: Double?
    ) async -> StreamResult {
        await withTaskGroup(of: StreamResult.self) { group in
            for stream in 0..<self.streams {
                let client = clients[stream % clients.count]
                let quota = events.map { $0 / self.streams + (stream < $0 % self.streams ? 1 : 0) }
                group.addTask {
                    await self.stream(
                        client, pools[stream], quota: quota, rate: rate.map { $0 / Double(self.streams) },
                        duration: duration, recorder: recorder)
                }
            }
            var merged = StreamResult()
            for await result in group { merged.merge(result) }
            return merged
        }
    }

    /// One session: sends its quota (or until the duration ends), on a fixed schedule when `rate` is set, then
    /// waits for the last ack. A failure ends this stream, counted by its status code; the others go on.
    private func stream(
        _ client: VigilClient, _ pool: [Event], quota: Int?, rate: Double?, duration: Double?, recorder: Recorder
    ) async -> StreamResult {
        let tally = Tally(recorder: recorder, scheduled: rate != nil)
        let start = ContinuousClock.now
        let end = duration.map { start + .milliseconds(Int($0 * 1000)) }
        var sent = 0
        var next = 0
        let live = LiveClock()
        do {
            let session = try await client.ingestSession(
                batchSize: self.batch, maxUnackedBatches: self.maxUnacked, onAck: { ack in tally.record(ack) })
            do {
                while true {
                    if let quota, sent >= quota { break }
                    if let end, ContinuousClock.now >= end { break }
                    // One batch at a time: each chunk fills exactly one batch, so its sequence is known up front.
                    var chunk = self.batch
                    if let quota { chunk = min(chunk, quota - sent) }
                    if let rate {
                        let due = start + .nanoseconds(Int64(Double(sent) / rate * 1e9))
                        let sequence = session.nextSequence
                        tally.intended.withLock { $0[sequence] = due }
                        if due > ContinuousClock.now { try await Task.sleep(until: due, clock: .continuous) }
                    }
                    let shift = live.shift()
                    for _ in 0..<chunk {
                        var event = pool[next]
                        event.occurredAt = Timestamp(unixNanoseconds: (event.occurredAt?.unixNanoseconds ?? 0) + shift)
                        try await session.send(event)
                        next = next + 1 == pool.count ? 0 : next + 1
                    }
                    sent += chunk
                }
                try await session.close()
            } catch {
                recorder.recordError(error)
                await session.cancel()
            }
        } catch {
            recorder.recordError(error)
        }
        var result = tally.result.withLock { $0 }
        result.sent = sent
        return result
    }

    func summary(_ result: StreamResult, recorder: Recorder, pools: [[Event]]) -> Report {
        let seconds = recorder.measuredSeconds
        let measured = recorder.snapshot.events
        let sample = pools.first?.prefix(100) ?? []
        let eventBytes =
            sample.isEmpty ? 0 : Double(sample.map { $0.serializedBytes().count }.reduce(0, +)) / Double(sample.count)
        let eventsPerSecond = Double(measured) / seconds
        print(
            String(
                format: "ingest: %d connection(s), %d stream(s), batches of %d, %.2f s measured", self.connections,
                self.streams, self.batch, seconds))
        print(
            String(
                format:
                    "events/s %.0f (%.2f MB/s; %d acked of %d sent: %d accepted, %d duplicates, %d rejected, %d alerts)",
                eventsPerSecond, eventsPerSecond * eventBytes / 1e6, result.acked, result.sent, result.accepted,
                result.duplicates, result.rejected, result.alerts))
        func rounded(_ value: Double, _ places: Double = 1000) -> Double { (value * places).rounded() / places }
        var figures: [String: Any] = [
            "connections": self.connections, "streams": self.streams, "batch": self.batch,
            "duration_s": rounded(seconds), "events_per_s": rounded(eventsPerSecond, 1),
            "mb_per_s": rounded(eventsPerSecond * eventBytes / 1e6), "acked_events": result.acked,
            "sent_events": result.sent, "accepted": result.accepted, "duplicates": result.duplicates,
            "rejected": result.rejected, "alerts_created": result.alerts, "warmup_s": self.report.warmup,
        ]
        if let rate = self.rate { figures["target_events_per_s"] = rate }
        return Report(command: "ingest", figures: figures, recorder: recorder, throughputKey: "events_per_s")
    }
}

/// How far the wall clock has moved since the stream's pool of events was sent first: added to each pooled event's
/// occurred_at, so events keep their spread behind "now" however long the run lasts.
struct LiveClock {
    private let start = Date()

    /// Nanoseconds since this clock was made.
    func shift() -> Int64 {
        Int64(Date().timeIntervalSince(self.start) * 1e9)
    }
}
