// `vigilbench list`: ListAlerts / ListEvents latency per call against a running vigild. W workers spread over C
// connections call for --duration seconds, closed loop or paced to R calls/s in total (--rate, latency from the
// intended send time). Each call asks for one page of --page-size rows with a filter picked at random from the
// sample traffic's cardinality (1,000 sources, 64 event types, four severities, three alert statuses), or none.
import Foundation
import VigilAPI
import VigilClient

struct ListBenchmark {
    static let usage = """
        usage: vigilbench list --server HOST:PORT --ca FILE --username U --password-env VAR [OPTIONS]
        \(ServerOptions.usage)
          --kind K             alerts, events or both (alternating) (default alerts)
          --page-size N        rows per call (default 50)
          --concurrency W      calls in flight (default 4)
          --connections C      TLS connections (default 1)
          --duration S         seconds to measure (default 5)
          --rate R             calls per second in total, latency from the intended send time (default: closed loop)
          --filters F          random (a filter from the sample cardinality per call) or none (default random);
                               --sources N and --types N give the cardinality (defaults 1000 and 64)
        \(ReportOptions.usage)
        """

    enum Kind: String { case alerts, events, both }

    let server: ServerOptions
    let report: ReportOptions
    let kind: Kind
    let pageSize: Int
    let concurrency: Int
    let connections: Int
    let duration: Double
    let rate: Double?
    let filtered: Bool
    let shape: SampleEvents.Shape

    init(_ options: CommandLineOptions) throws(UsageError) {
        try options.rejectUnknown(
            ServerOptions.names.union(ReportOptions.names).union([
                "kind", "page-size", "concurrency", "connections", "duration", "rate", "filters",
            ]).union(SampleEvents.Shape.names))
        self.server = try ServerOptions(options)
        self.report = try ReportOptions(options)
        guard let kind = Kind(rawValue: options.string("kind") ?? "alerts") else {
            throw UsageError("--kind must be alerts, events or both")
        }
        self.kind = kind
        self.pageSize = try options.int("page-size", default: 50, range: 1...1000)
        self.concurrency = try options.int("concurrency", default: 4, range: 1...10_000)
        self.connections = try options.int("connections", default: 1, range: 1...10_000)
        self.duration = try options.double("duration", default: 5)
        self.rate = options.string("rate") == nil ? nil : try options.double("rate", default: 0)
        switch options.string("filters") ?? "random" {
        case "random": self.filtered = true
        case "none": self.filtered = false
        default: throw UsageError("--filters must be random or none")
        }
        self.shape = try SampleEvents.Shape(options)
    }

    func run() async throws {
        let connector = try self.server.makeConnector()
        let (clients, _) = try await self.server.connect(connector, count: self.connections, createAgent: false)
        let recorder = Recorder(name: "list", warmup: self.report.warmup)
        let end = recorder.measureFrom + .milliseconds(Int(self.duration * 1000))
        let live = recorder.startLiveLine()
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<self.concurrency {
                let client = clients[worker % clients.count]
                group.addTask {
                    await Self.work(
                        client, kind: self.kind, pageSize: self.pageSize, filtered: self.filtered, shape: self.shape,
                        seed: UInt64(worker + 1), rate: self.rate.map { $0 / Double(self.concurrency) },
                        recorder: recorder, end: end)
                }
            }
        }
        live.cancel()
        recorder.stop()
        for client in clients { await client.disconnect() }
        await connector.shutdown()
        let state = recorder.snapshot
        let seconds = recorder.measuredSeconds
        let calls = Double(state.ops) / seconds
        print(
            "list \(self.kind.rawValue): "
                + String(
                    format: "%d worker(s), %d connection(s), pages of %d, %.2f s: %.0f calls/s, %.0f rows/s",
                    self.concurrency, self.connections, self.pageSize, seconds, calls,
                    Double(state.events) / seconds))
        var figures: [String: Any] = [
            "kind": self.kind.rawValue, "page_size": self.pageSize, "concurrency": self.concurrency,
            "connections": self.connections, "duration_s": (seconds * 1000).rounded() / 1000,
            "calls": state.ops, "calls_per_s": (calls * 10).rounded() / 10,
            "rows_per_s": (Double(state.events) / seconds * 10).rounded() / 10,
            "filters": self.filtered ? "random" : "none",
            "warmup_s": self.report.warmup,
        ]
        if let rate = self.rate { figures["target_calls_per_s"] = rate }
        try Report(command: "list", figures: figures, recorder: recorder, throughputKey: "calls_per_s").finish(
            self.report)
    }

    /// One worker: calls until `end`, recording each call's latency (from its intended start with `rate`) and the
    /// rows it returned, or its error by status code.
    static func work(
        _ client: VigilClient, kind: Kind, pageSize: Int, filtered: Bool, shape: SampleEvents.Shape, seed: UInt64,
        rate: Double?,
        recorder: Recorder, end: ContinuousClock.Instant
    ) async {
        var random = SystemRandomNumberGeneratorSeeded(seed: seed &* 0x9E37_79B9)
        let start = ContinuousClock.now
        var calls = 0
        while !Task.isCancelled {
            var intended = ContinuousClock.now
            if let rate {
                intended = start + .nanoseconds(Int64(Double(calls) / rate * 1e9))
                if intended >= end { break }
                if intended > .now { try? await Task.sleep(until: intended, clock: .continuous) }
            }
            if intended >= end { break }
            let alerts = kind == .alerts || (kind == .both && calls % 2 == 0)
            calls += 1
            do {
                let rows: Int
                if alerts {
                    rows = try await client.listAlerts(
                        Self.alertsRequest(pageSize, filtered: filtered, shape: shape, &random)
                    ).alerts
                        .count
                } else {
                    rows = try await client.listEvents(
                        Self.eventsRequest(pageSize, filtered: filtered, shape: shape, &random)
                    ).events
                        .count
                }
                recorder.record(latency: intended.duration(to: .now), events: rows)
            } catch {
                recorder.recordError(error)
                // A server that is down fails at once: do not spin (a paced worker keeps its schedule).
                if rate == nil { try? await Task.sleep(for: .milliseconds(10)) }
            }
        }
    }

    static let severities: [Severity] = [.low, .medium, .high, .critical]
    static func source(_ shape: SampleEvents.Shape, _ random: inout SystemRandomNumberGeneratorSeeded) -> String {
        SampleEvents.sourceName(random.next() % UInt64(shape.sources))
    }

    static func eventType(_ shape: SampleEvents.Shape, _ random: inout SystemRandomNumberGeneratorSeeded) -> String {
        SampleEvents.eventType(random.next() % UInt64(shape.types))
    }

    /// Newest first; a fifth of calls unfiltered, the rest by status, severity, source or type (SampleEvents').
    static func alertsRequest(
        _ pageSize: Int, filtered: Bool, shape: SampleEvents.Shape, _ random: inout SystemRandomNumberGeneratorSeeded
    ) -> ListAlertsRequest {
        var request = ListAlertsRequest()
        request.pageSize = Int32(pageSize)
        guard filtered else { return request }
        var filter = AlertFilter()
        switch random.next() % 5 {
        case 0: return request
        case 1: filter.statuses = [[AlertStatus.open, .acknowledged, .resolved][Int(random.next() % 3)]]
        case 2: filter.severities = [random.next() % 2 == 0 ? .high : .critical]
        case 3: filter.sourceName = Self.source(shape, &random)
        default: filter.eventType = Self.eventType(shape, &random)
        }
        request.filter = filter
        return request
    }

    static func eventsRequest(
        _ pageSize: Int, filtered: Bool, shape: SampleEvents.Shape, _ random: inout SystemRandomNumberGeneratorSeeded
    ) -> ListEventsRequest {
        var request = ListEventsRequest()
        request.pageSize = Int32(pageSize)
        guard filtered else { return request }
        var filter = EventFilter()
        switch random.next() % 4 {
        case 0: return request
        case 1: filter.severities = [Self.severities[Int(random.next() % 4)]]
        case 2: filter.sourceName = Self.source(shape, &random)
        default: filter.eventType = Self.eventType(shape, &random)
        }
        request.filter = filter
        return request
    }
}
