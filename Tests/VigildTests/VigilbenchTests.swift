// The real vigilbench against the real vigild over loopback TLS, briefly: echo (unary, sink, batched sink) for a
// second each, 50 idle connections and 3,000 events ingested, checking that the JSON each writes holds sane positive
// figures. Not a speed test (the debug build on shared cores says nothing about speed); it proves the tool works end
// to end so the release figures in README can be trusted to come from it.
import Foundation
import Testing
import VigilAPI
import VigilClient
import VigilTesting

@Suite(.serialized) struct VigilbenchTests {
    static var binary: String {
        URL(fileURLWithPath: VigildBinaryTests.binary).deletingLastPathComponent().appendingPathComponent("vigilbench")
            .path
    }

    static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func number(_ object: [String: Any], _ key: String) -> Double {
        (object[key] as? NSNumber)?.doubleValue ?? -1
    }

    @Test("echo (unary, sink, batched sink, 500 connections) and connections report positive figures from vigild")
    func echoAndConnections() async throws {
        let directory = try TemporaryDirectory(prefix: "vigilbench")
        let (process, port, _) = try await VigildServeTests.start(in: directory)
        defer { if process.isRunning { process.terminate() } }
        let ca = directory.file("data/tls/cert.pem")
        let probe = try await VigildServeTests.connect(port: port, ca: ca)
        await probe.close()

        let common = ["--server", "127.0.0.1:\(port)", "--ca", ca]
        let login = ["--username", "admin", "--password-env", "VIGILBENCH_TEST_PASSWORD"]
        func vigilbench(_ arguments: [String]) async throws -> ProcessResult {
            try await Subprocess.runOnThread(
                "/usr/bin/env", ["VIGILBENCH_TEST_PASSWORD=correct horse battery staple", Self.binary] + arguments)
        }

        // vigilbench fails unless the server's Sink count equals the messages it sent, batched or not.
        let runs = [
            ("unary", "unary", ["--connections", "2", "--concurrency", "8"]), ("sink", "sink", []),
            ("sink-batched", "sink", ["--send-batch", "32"]),
            // Workers on Swift's pool instead of their connection's loop (the default) measure the same calls.
            ("unary-pool", "unary", ["--connections", "2", "--concurrency", "8", "--executor", "pool"]),
            ("sink-pool", "sink", ["--executor", "pool"]),
        ]
        for (label, mode, extra) in runs {
            let output = directory.file("\(label).json")
            let result = try await vigilbench(
                ["echo", "--mode", mode, "--duration", "1", "--warmup", "0.2", "--message-size", "100"]
                    + ["--json", output] + common + login + extra)
            #expect(result.status == 0, "\(label): \(result.stderrText)")
            let figures = try Self.json(output)
            #expect(figures["mode"] as? String == mode)
            for key in ["calls_per_s", "messages_per_s", "mb_per_s"] {
                #expect(Self.number(figures, key) > 0, "\(label) \(key): \(figures)")
            }
            let latency = try #require(figures["latency_ms"] as? [String: Any])
            let p50 = Self.number(latency, "p50")
            let p99 = Self.number(latency, "p99")
            #expect(p50 > 0 && p99 >= p50 && p99 < 10_000, "\(label) latency: \(latency)")
            // MB/s is the message rate times the payload size.
            let expected = Self.number(figures, "messages_per_s") * 100 / 1e6
            #expect(abs(Self.number(figures, "mb_per_s") - expected) <= max(0.01, expected * 0.01))
        }

        let output = directory.file("connections.json")
        let result = try await vigilbench(
            ["connections", "--count", "50", "--hold", "0.2", "--pid", "\(process.processIdentifier)", "--json", output]
                + common)
        #expect(result.status == 0, "connections: \(result.stderrText)")
        let figures = try Self.json(output)
        #expect(Self.number(figures, "connections") == 50)
        #expect(Self.number(figures, "connections_per_s") > 0)
        #expect(Self.number(figures, "server_rss_after_bytes") > 0)
        #expect(Self.number(figures, "server_rss_before_bytes") > 0)

        // Ingest: 2 streams over 2 connections, a fixed count; every event acked, and the server stored them all.
        let ingestOutput = directory.file("ingest.json")
        let ingest = try await vigilbench(
            ["ingest", "--connections", "2", "--streams", "2", "--batch", "50", "--events", "3000", "--json"]
                + [ingestOutput] + common + login)
        #expect(ingest.status == 0, "ingest: \(ingest.stderrText)")
        let ingested = try Self.json(ingestOutput)
        #expect(Self.number(ingested, "sent_events") == 3000)
        #expect(Self.number(ingested, "acked_events") == 3000)
        #expect(Self.number(ingested, "accepted") == 3000)
        #expect(Self.number(ingested, "events_per_s") > 0)
        let ingestLatency = try #require(ingested["latency_ms"] as? [String: Any])
        #expect(Self.number(ingestLatency, "p50") > 0 && Self.number(ingestLatency, "max") >= Self.number(ingestLatency, "p99"))
        let client = try await VigildServeTests.connect(port: port, ca: ca)
        try await client.authenticate(username: "admin", password: "correct horse battery staple")
        let stats = try await client.getStats()
        await client.close()
        #expect(stats.totalEvents == 3000)
        #expect(stats.totalAlerts == Int64(Self.number(ingested, "alerts_created")))

        // 500 concurrent connections, each with a call in flight at once: every call answers (a failed call ends
        // vigilbench with an error status), and the server is still there for the next client. 3 s: with the rest
        // of the suite loading both cores, 1.5 s once counted 471 calls.
        let wideOutput = directory.file("wide.json")
        let wide = try await vigilbench(
            ["echo", "--mode", "unary", "--connections", "500", "--concurrency", "500", "--duration", "3"]
                + ["--message-size", "64", "--json", wideOutput] + common + login)
        #expect(wide.status == 0, "500 connections: \(wide.stderrText)")
        let wideFigures = try Self.json(wideOutput)
        #expect(Self.number(wideFigures, "connections") == 500)
        #expect(Self.number(wideFigures, "calls") >= 500, "\(wideFigures)")
        let after = try await VigildServeTests.connect(port: port, ca: ca)
        #expect(try await after.healthCheck() == .serving)
        await after.close()

        // A missing password is a usage error, not a crash or a hang.
        let missing = try await Subprocess.runOnThread(Self.binary, ["echo", "--password-env", "VIGILBENCH_UNSET_VARIABLE"] + common)
        #expect(missing.status == 2)
        #expect(missing.stderrText.contains("VIGILBENCH_UNSET_VARIABLE"))
        let badExecutor = try await vigilbench(["echo", "--executor", "elsewhere"] + common + login)
        #expect(badExecutor.status == 2)
        #expect(badExecutor.stderrText.contains("--executor must be loop or pool"))
    }
}
