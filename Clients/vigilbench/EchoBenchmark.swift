// `vigilbench echo`: RPC transport throughput and latency against a running vigild, through VigilClient only.
// C connections (one login, its tokens shared by all), N workers in total spread over them round robin, each keeping
// one call in flight for the duration:
//   unary   Echo calls, one after another per worker (N calls in flight)
//   stream  one EchoStream per worker, ping-pong: send a message, wait for its echo
//   sink    one Sink stream per worker, messages sent back to back (one-way throughput, flow control permitting)
// Workers run on their connection's I/O loop by default (`--executor loop`): a call then costs no thread hop on the
// client, and the loops (one per connection, up to one per core) carry the work in parallel. `--executor pool` runs
// them on Swift's cooperative pool beside the loops, which suits one stream sending small messages one at a time
// (its sender overlaps with the loop's I/O).
// Figures: calls_per_s (unary calls, stream round trips, sink messages), messages_per_s (request messages),
// mb_per_s (request payload bytes, 10^6), latency_ms p50/p99 per call (per send for sink, or per batch of
// --send-batch messages: how long flow control and the transport held the sender).
import Foundation
import VigilAPI
import VigilClient

struct EchoBenchmark {
    static let usage = """
        usage: vigilbench echo --server HOST:PORT --ca FILE --username U --password-env VAR [OPTIONS]
        \(ServerOptions.usage)
          --connections C      TLS connections (default 1)
          --concurrency N      calls in flight in total, across connections (default 1)
          --duration S         seconds to measure (default 5)
          --warmup S           seconds to run before measuring (default 0.5)
          --message-size B     payload bytes per message (default 128)
          --mode M             unary | stream | sink (default unary)
          --total-bytes B      sink: stop once B payload bytes were sent in all (or at the end of the duration)
          --send-batch K       sink: hand K messages at a time to the client library, each still its own message
                               on the stream (default 1: one at a time)
          --executor E         where workers run: loop (their connection's I/O thread) or pool (Swift's
                               cooperative pool) (default loop)
          --json FILE          also write the figures as JSON
        """

    enum Mode: String { case unary, stream, sink }

    /// Where the workers' tasks run.
    enum Executor: String { case loop, pool }

    /// What one worker did in the measured window.
    struct WorkerResult: Sendable {
        var calls = 0
        var messages = 0
        var payloadBytes = 0
        /// Sink messages sent, warm-up included: what the server's count is checked against.
        var sentMessages = 0
        var latency = LatencyHistogram()
    }

    let server: ServerOptions
    let connections: Int
    let concurrency: Int
    let duration: Double
    let warmup: Double
    let messageSize: Int
    let mode: Mode
    let totalBytes: Int?
    let sendBatch: Int
    let executor: Executor
    let jsonPath: String?

    init(_ options: CommandLineOptions) throws(UsageError) {
        try options.rejectUnknown(ServerOptions.names.union([
            "connections", "concurrency", "duration", "warmup", "message-size", "mode", "json", "total-bytes",
            "send-batch", "executor",
        ]))
        self.connections = try options.int("connections", default: 1, range: 1...10_000)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        self.server = try ServerOptions(options, defaultLoops: max(1, min(self.connections, cores)))
        self.concurrency = try options.int("concurrency", default: 1, range: 1...100_000)
        self.duration = try options.double("duration", default: 5)
        self.warmup = options.string("warmup") == "0" ? 0 : try options.double("warmup", default: 0.5)
        self.messageSize = try options.int("message-size", default: 128, range: 0...(4 << 20))
        guard let mode = Mode(rawValue: options.string("mode") ?? "unary") else {
            throw UsageError("--mode must be unary, stream or sink")
        }
        self.mode = mode
        self.totalBytes = try options.string("total-bytes").map { _ throws(UsageError) in
            try options.int("total-bytes", default: 0, range: 1...Int(Int64.max))
        }
        guard self.totalBytes == nil || mode == .sink else { throw UsageError("--total-bytes is for --mode sink") }
        self.sendBatch = try options.int("send-batch", default: 1, range: 1...65_536)
        guard self.sendBatch == 1 || mode == .sink else { throw UsageError("--send-batch is for --mode sink") }
        guard let executor = Executor(rawValue: options.string("executor") ?? "loop") else {
            throw UsageError("--executor must be loop or pool")
        }
        self.executor = executor
        self.jsonPath = options.string("json")
    }

    func run() async throws {
        let password = try self.server.password()
        let connector = try self.server.makeConnector()
        let first = try await connector.connect()
        try await first.authenticate(username: self.server.username, password: password)
        var clients = [first]
        for _ in 1..<self.connections { clients.append(try await connector.connect(tokens: first.tokens)) }

        let clock = ContinuousClock()
        let start = clock.now
        let measureFrom = start + .milliseconds(Int(self.warmup * 1000))
        let end = measureFrom + .milliseconds(Int(self.duration * 1000))
        let message = DiagnosticsMessage(payload: [UInt8](repeating: 0x5A, count: self.messageSize))
        let merged = try await withThrowingTaskGroup(of: WorkerResult.self) { group in
            for worker in 0..<self.concurrency {
                let client = clients[worker % clients.count]
                let executor = self.executor == .loop ? client.connectionExecutor : nil
                group.addTask(executorPreference: executor) {
                    try await self.work(client, message, measureFrom: measureFrom, end: end)
                }
            }
            var merged = WorkerResult()
            for try await result in group {
                merged.calls += result.calls
                merged.messages += result.messages
                merged.payloadBytes += result.payloadBytes
                merged.sentMessages += result.sentMessages
                merged.latency.merge(result.latency)
            }
            return merged
        }
        // Workers stop at the first call ending after `end`; the window is measured to when the last stopped.
        let elapsed = measureFrom.duration(to: max(clock.now, end)).seconds
        for client in clients { await client.disconnect() }
        await connector.shutdown()
        self.report(merged, elapsed: elapsed)
        if let jsonPath {
            try self.json(merged, elapsed: elapsed).write(toFile: jsonPath, atomically: true, encoding: .utf8)
        }
    }

    /// One stream lasts the whole run, so it gets the run's length and a minute to spare, not the client's
    /// per-call default (30 s), which a long run or a loaded machine would exceed.
    private var streamTimeout: Duration {
        .milliseconds(Int64((self.warmup + self.duration) * 1000)) + .seconds(60)
    }

    private func work(
        _ client: VigilClient, _ message: DiagnosticsMessage, measureFrom: ContinuousClock.Instant,
        end: ContinuousClock.Instant
    ) async throws -> WorkerResult {
        let size = self.messageSize
        switch self.mode {
        case .unary:
            let payload = [UInt8](repeating: 0x5A, count: size)
            var result = WorkerResult()
            var now = ContinuousClock.now
            while now < end {
                let sent = now
                let echoed = try await client.echo(payload)
                now = ContinuousClock.now
                guard echoed.count == size else { throw UsageError("echo returned \(echoed.count) bytes, not \(size)") }
                if sent >= measureFrom { result.count(payload: size, latency: sent.duration(to: now)) }
            }
            return result
        case .stream:
            return try await client.echoStream(timeout: self.streamTimeout) { sender, receiver in
                var result = WorkerResult()
                var now = ContinuousClock.now
                while now < end {
                    let sent = now
                    try await sender.send(message)
                    guard let echoed = try await receiver.next(), echoed.count == size else {
                        throw UsageError("EchoStream ended or returned the wrong payload")
                    }
                    now = ContinuousClock.now
                    if sent >= measureFrom { result.count(payload: size, latency: sent.duration(to: now)) }
                }
                try await sender.finish()
                while try await receiver.next() != nil {}
                return result
            }
        case .sink:
            // Each worker's share of --total-bytes, in whole messages.
            let quota = self.totalBytes.map { ($0 / self.concurrency + max(size, 1) - 1) / max(size, 1) } ?? Int.max
            // Distinct messages, as an agent's are: one buffer shared by the whole batch would have every send
            // retain and release the same object.
            let batch = (0..<self.sendBatch).map { _ in
                DiagnosticsMessage(payload: [UInt8](repeating: 0x5A, count: self.messageSize))
            }
            let (outcome, response) = try await client.sink(timeout: self.streamTimeout) { sender in
                var result = WorkerResult()
                var sentTotal = 0
                var now = ContinuousClock.now
                while now < end && sentTotal < quota {
                    let sent = now
                    let count = min(batch.count, quota - sentTotal)
                    if count == 1 {
                        try await sender.send(message)
                    } else {
                        try await sender.send(contentsOf: count == batch.count ? batch : Array(batch.prefix(count)))
                    }
                    now = ContinuousClock.now
                    sentTotal += count
                    if sent >= measureFrom {
                        result.count(payload: size, messages: count, latency: sent.duration(to: now))
                    }
                }
                return (result, sentTotal)
            }
            // The server's count proves every message arrived (warm-up ones included).
            guard response.messages == UInt64(outcome.1) else {
                throw UsageError("Sink counted \(response.messages) messages, \(outcome.1) were sent")
            }
            var result = outcome.0
            result.sentMessages = outcome.1
            return result
        }
    }

    private func report(_ result: WorkerResult, elapsed: Double) {
        print(String(
            format: "echo %@: %d connection(s), %d in flight, %d-byte payloads, %.2f s",
            self.mode.rawValue, self.connections, self.concurrency, self.messageSize, elapsed))
        print(String(
            format: "calls/s %.0f, messages/s %.0f, MB/s %.1f, latency ms p50 %.3f p99 %.3f max %.3f (%d calls)",
            Double(result.calls) / elapsed, Double(result.messages) / elapsed,
            Double(result.payloadBytes) / elapsed / 1e6, Self.milliseconds(result.latency.percentile(0.5)),
            Self.milliseconds(result.latency.percentile(0.99)), Self.milliseconds(result.latency.maximum),
            result.calls))
    }

    private func json(_ result: WorkerResult, elapsed: Double) -> String {
        func rounded(_ value: Double, _ places: Double = 1000) -> Double { (value * places).rounded() / places }
        return """
            {"mode": "\(self.mode.rawValue)", "connections": \(self.connections), "concurrency": \(self.concurrency), \
            "message_size": \(self.messageSize), "sent_bytes": \(result.sentMessages * self.messageSize), "duration_s": \(rounded(elapsed)), "calls": \(result.calls), \
            "messages": \(result.messages), "calls_per_s": \(rounded(Double(result.calls) / elapsed, 1)), \
            "messages_per_s": \(rounded(Double(result.messages) / elapsed, 1)), \
            "mb_per_s": \(rounded(Double(result.payloadBytes) / elapsed / 1e6)), \
            "latency_ms": {"p50": \(rounded(Self.milliseconds(result.latency.percentile(0.5)))), \
            "p90": \(rounded(Self.milliseconds(result.latency.percentile(0.9)))), \
            "p99": \(rounded(Self.milliseconds(result.latency.percentile(0.99)))), \
            "max": \(rounded(Self.milliseconds(result.latency.maximum)))}}

            """
    }

    private static func milliseconds(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1e6 }
}

extension EchoBenchmark.WorkerResult {
    /// `messages` of `payload` bytes each, sent (or echoed) in one go that took `latency`.
    mutating func count(payload: Int, messages: Int = 1, latency: Duration) {
        self.calls += messages
        self.messages += messages
        self.payloadBytes += payload * messages
        self.latency.record(latency)
    }
}
