// `vigilbench mixed`: list latency while the server is busy writing. Ingest runs at a fixed arrival rate in the
// background (its own connection and ingest sessions, as an agent would), W workers measure ListAlerts latency per
// call, and with --logins N, N loops call Authenticate back to back (PBKDF2 on the server's cores) on connections of
// their own. The report is the list latency (`latency_ms`, `calls_per_s`), the ingest rate achieved against the
// target (`ingest`) and the logins' rate and latency (`logins`).
import Foundation
import VigilAPI
import VigilClient

struct MixedBenchmark {
    static let usage = """
        usage: vigilbench mixed --server HOST:PORT --ca FILE --username U --password-env VAR [OPTIONS]
        \(ServerOptions.usage)
          --ingest-rate R      events per second ingested in the background (default 1000)
          --streams S          ingest sessions (default 1), --batch B events per batch (default 100)
          --create-agent       ingest as a fresh agent user created by the (admin) user above
          --page-size N        rows per ListAlerts call (default 50)
          --concurrency W      ListAlerts calls in flight (default 1)
          --list-rate R        ListAlerts calls per second in total, latency from the intended send time (default:
                               closed loop, as many as the server answers; a soak wants an analyst-like pace)
          --logins N           concurrent Authenticate loops (default 0)
          --duration S         seconds to measure (default 10)
          --filters F          random or none (default random), as for `vigilbench list`
          --watch-pid PID      sample that local server's RSS and open descriptors every second (soak runs)
        \(SampleEvents.Shape.usage)
        \(ReportOptions.usage)
        """

    let server: ServerOptions
    let report: ReportOptions
    let ingestRate: Double
    let streams: Int
    let batch: Int
    let createAgent: Bool
    let pageSize: Int
    let concurrency: Int
    let listRate: Double?
    let logins: Int
    let duration: Double
    let filtered: Bool
    let shape: SampleEvents.Shape
    let watchPID: Int32?

    init(_ options: CommandLineOptions) throws(UsageError) {
        try options.rejectUnknown(
            ServerOptions.names.union(ReportOptions.names).union([
                "ingest-rate", "streams", "batch", "create-agent", "page-size", "concurrency", "list-rate", "logins",
                "duration",
                "filters", "watch-pid",
            ]).union(SampleEvents.Shape.names))
        self.server = try ServerOptions(options)
        self.report = try ReportOptions(options)
        self.ingestRate = try options.double("ingest-rate", default: 1000)
        self.streams = try options.int("streams", default: 1, range: 1...1000)
        self.batch = try options.int("batch", default: 100, range: 1...100_000)
        self.createAgent = options.flag("create-agent")
        self.pageSize = try options.int("page-size", default: 50, range: 1...1000)
        self.concurrency = try options.int("concurrency", default: 1, range: 1...10_000)
        self.listRate = options.string("list-rate") == nil ? nil : try options.double("list-rate", default: 0)
        guard self.listRate.map({ $0 > 0 }) ?? true else { throw UsageError("--list-rate must be above 0") }
        self.logins = try options.int("logins", default: 0, range: 0...10_000)
        self.duration = try options.double("duration", default: 10)
        switch options.string("filters") ?? "random" {
        case "random": self.filtered = true
        case "none": self.filtered = false
        default: throw UsageError("--filters must be random or none")
        }
        self.shape = try SampleEvents.Shape(options)
        self.watchPID = try options.string("watch-pid").map { text throws(UsageError) in
            guard let pid = Int32(text), pid > 0 else { throw UsageError("--watch-pid must be a process id") }
            return pid
        }
    }

    func run() async throws {
        let connector = try self.server.makeConnector()
        // Lists as the given user; ingest as it too, or as a fresh agent; logins as the given user.
        let (listClients, credentials) = try await self.server.connect(connector, count: 1, createAgent: false)
        let ingestCredentials = self.createAgent ? try await ServerOptions.createAgent(listClients[0]) : credentials
        let ingestClient = try await connector.connect()
        try await ingestClient.authenticate(username: ingestCredentials.username, password: ingestCredentials.password)
        var loginClients: [VigilClient] = []
        for _ in 0..<min(self.logins, 8) { loginClients.append(try await connector.connect()) }
        let ingest = try IngestBenchmark(
            CommandLineOptions(
                ArraySlice(
                    [
                        "--streams", "\(self.streams)", "--batch", "\(self.batch)", "--duration", "\(self.duration)",
                    ] + self.shape.arguments)))
        let pools = ingest.pools()

        // One window for all three: acks and logins after the list workers stopped do not count.
        let (warmup, duration) = (self.report.warmup, self.duration)
        let list = Recorder(name: "mixed list", warmup: warmup, duration: duration)
        let ingestRecorder = Recorder(name: "mixed ingest", warmup: warmup, start: list.start, duration: duration)
        let loginRecorder = Recorder(name: "mixed logins", warmup: warmup, start: list.start, duration: duration)
        let end = list.measureFrom + .milliseconds(Int(self.duration * 1000))
        let watch = try self.watchPID.map { pid throws(UsageError) in try ServerWatch(pid: pid, start: list.start) }
        let live = list.startLiveLine { [logins = self.logins] in
            let ingest = ingestRecorder.tick()
            let login = loginRecorder.tick()
            return "ingest \(ingest?.events ?? 0) events/s p99 \(ingest?.p99 ?? 0) ms"
                + (logins > 0 ? "  logins \(login?.ops ?? 0)/s p99 \(login?.p99 ?? 0) ms" : "")
        }
        let ingested = await withTaskGroup(of: IngestBenchmark.StreamResult?.self) { group in
            group.addTask {
                await ingest.measure(
                    [ingestClient], pools: pools, recorder: ingestRecorder, rate: self.ingestRate, events: nil,
                    duration: list.start.duration(to: end).seconds)
            }
            for worker in 0..<self.concurrency {
                group.addTask {
                    await ListBenchmark.work(
                        listClients[0], kind: .alerts, pageSize: self.pageSize, filtered: self.filtered,
                        shape: self.shape,
                        seed: UInt64(worker + 1), rate: self.listRate.map { $0 / Double(self.concurrency) },
                        recorder: list, end: end)
                    return nil
                }
            }
            for login in 0..<self.logins {
                let client = loginClients[login % loginClients.count]
                group.addTask {
                    while ContinuousClock.now < end {
                        let start = ContinuousClock.now
                        do {
                            try await client.authenticate(
                                username: credentials.username, password: credentials.password)
                            loginRecorder.record(latency: start.duration(to: .now))
                        } catch {
                            loginRecorder.recordError(error)
                            try? await Task.sleep(for: .milliseconds(10))
                        }
                    }
                    return nil
                }
            }
            var result = IngestBenchmark.StreamResult()
            for await case let partial? in group { result.merge(partial) }
            return result
        }
        live.cancel()
        list.stop()
        ingestRecorder.stop()
        loginRecorder.stop()
        watch?.stop()
        for client in listClients + [ingestClient] + loginClients { await client.disconnect() }
        await connector.shutdown()
        try self.summary(list: list, ingest: ingestRecorder, logins: loginRecorder, ingested: ingested, watch: watch)
            .finish(self.report)
    }

    private func summary(
        list: Recorder, ingest: Recorder, logins: Recorder, ingested: IngestBenchmark.StreamResult, watch: ServerWatch?
    ) -> Report {
        func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
        let listState = list.snapshot
        let ingestState = ingest.snapshot
        let loginState = logins.snapshot
        let calls = Double(listState.ops) / list.measuredSeconds
        let achieved = Double(ingestState.events) / ingest.measuredSeconds
        let loginRate = Double(loginState.ops) / logins.measuredSeconds
        print(
            String(
                format:
                    "mixed: ListAlerts %.0f calls/s p99 %.3f ms, while ingesting %.0f of %.0f events/s target (p99 %.3f ms)",
                calls, listState.histogram.milliseconds(0.99), achieved, self.ingestRate,
                ingestState.histogram.milliseconds(0.99)))
        if self.logins > 0 {
            print(
                String(
                    format: "mixed: %d login loops, %.1f logins/s p99 %.3f ms", self.logins, loginRate,
                    loginState.histogram.milliseconds(0.99)))
        }
        for (name, state) in [("ingest", ingestState), ("logins", loginState)] where !state.errors.isEmpty {
            print(
                "\(name) errors: "
                    + state.errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if let watch { print(watch.summaryLine(after: self.report.warmup)) }
        var figures: [String: Any] = [
            "page_size": self.pageSize, "concurrency": self.concurrency, "duration_s": rounded(list.measuredSeconds),
            "target_calls_per_s": self.listRate ?? 0,
            "calls": listState.ops, "calls_per_s": rounded(calls), "warmup_s": self.report.warmup,
            "ingest": [
                "target_events_per_s": self.ingestRate, "events_per_s": rounded(achieved),
                "acked_events": ingested.acked, "sent_events": ingested.sent, "streams": self.streams,
                "latency_ms": ingestState.histogram.summary, "errors": ingestState.errors,
                "as_agent": self.createAgent,
            ] as [String: Any],
            "logins": [
                "loops": self.logins, "calls": loginState.ops, "calls_per_s": rounded(loginRate),
                "latency_ms": loginState.histogram.summary, "errors": loginState.errors,
            ] as [String: Any],
        ]
        if let watch { figures["server"] = watch.figures(after: self.report.warmup) }
        var report = Report(command: "mixed", figures: figures, recorder: list, throughputKey: "calls_per_s")
        report.extraCharts = Self.charts(ingest: ingestState, logins: self.logins > 0 ? loginState : nil, watch: watch)
        return report
    }

    /// The HTML page's charts beyond the list calls': ingest (and logins) per second, and the server's memory.
    static func charts(ingest: Recorder.State, logins: Recorder.State?, watch: ServerWatch?) -> [String] {
        typealias Series = HTMLReport.Series
        var charts = [
            HTMLReport.chart(
                "Background ingest", x: "seconds", y: "events/s",
                [Series(name: "events/s", colour: "#1f77b4", points: ingest.seconds.map { ($0.t, Double($0.events)) })]),
            HTMLReport.chart(
                "Ingest ack latency", x: "seconds", y: "ms",
                [
                    Series(name: "p50", colour: "#2ca02c", points: ingest.seconds.map { ($0.t, $0.p50) }),
                    Series(name: "p99", colour: "#d62728", points: ingest.seconds.map { ($0.t, $0.p99) }),
                ]),
        ]
        if let logins {
            charts.append(
                HTMLReport.chart(
                    "Logins", x: "seconds", y: "logins/s",
                    [Series(name: "logins/s", colour: "#8c564b", points: logins.seconds.map { ($0.t, Double($0.ops)) })]))
        }
        if let watch {
            let samples = watch.all
            charts.append(
                HTMLReport.chart(
                    "Server resident memory", x: "seconds", y: "MiB",
                    [Series(name: "RSS", colour: "#9467bd", points: samples.map { ($0.t, $0.rssMiB) })]))
            charts.append(
                HTMLReport.chart(
                    "Server open descriptors", x: "seconds", y: "fds",
                    [Series(name: "fds", colour: "#17becf", points: samples.map { ($0.t, Double($0.descriptors)) })]))
        }
        return charts
    }
}
