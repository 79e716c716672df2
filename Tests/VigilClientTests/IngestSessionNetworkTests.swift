// IngestSession and the re-dialling network transport over real loopback TLS: a connection dropped with a TCP reset
// mid-stream and a server restarted on the same database and port mid-stream must both end with every event stored
// exactly once (no idempotency keys, so a batch stored twice would show in the counts). The resend tests need the
// durable-ingest server (producer high-water marks, commit a3b40f8): without it a reopened stream's `ready` says 0
// and the session rightly reports data loss.
import Synchronization
import Testing
import VigilAPI
import VigilClient
import VigilRPC
import VigilTesting

@Suite struct IngestSessionNetworkTests {
    @Test("after a dropped connection the next call dials a new one")
    func redial() async throws {
        let server = try await LoopbackIngestServer()
        try await server.withClient { client in
            _ = try await client.getStats()
            client.abortConnectionForTesting()
            // The first call may still meet the dying connection (UNAVAILABLE); one soon after must work.
            var succeeded = false
            for _ in 0..<100 where !succeeded {
                do {
                    _ = try await client.getStats()
                    succeeded = true
                } catch let error as RPCError where error.code == .unavailable {
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            #expect(succeeded)
        }
    }

    @Test("a restarted server is reached again through the same client, tokens kept")
    func redialAfterRestart() async throws {
        let server = try await LoopbackIngestServer()
        try await server.withClient { client in
            _ = try await client.getStats()
            try await server.restart()
            var succeeded = false
            for _ in 0..<100 where !succeeded {
                do {
                    _ = try await client.getStats()
                    succeeded = true
                } catch let error as RPCError where error.code == .unavailable {
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            #expect(succeeded)
        }
    }

    /// Sends 600 events on one session; `disrupt` runs once 5 acks arrived while the first 300 may still be in
    /// flight, and the last 300 are sent after it, so the session must reopen at least once. Checks every event is
    /// stored exactly once and every sequence acknowledged once, in order.
    static func ingestThrough(_ client: VigilClient, disrupt: @Sendable () async throws -> Void) async throws {
        let total = 600
        let log = AckLog()
        let session = try await client.ingestSession(batchSize: 20, maxUnackedBatches: 4, onAck: log.append)
        let sender = Task {
            for index in 0..<total / 2 { try await session.send(ingestEvent(index)) }
        }
        try await eventually("5 acks") { log.count >= 5 }
        try await disrupt()
        try await sender.value
        for index in total / 2..<total { try await session.send(ingestEvent(index)) }
        try await session.close()
        #expect(session.reconnectCount >= 1)
        #expect(log.sequences == Array(1...UInt64(total / 20)))
        let summary = session.summary
        #expect(summary.accepted + summary.duplicates == total)
        #expect(log.all.filter(\.duplicateBatch).allSatisfy { $0.accepted == 0 })
        #expect(try await client.getStats().totalEvents == Int64(total))
        #expect(try await storedDescriptions(client).sorted() == (0..<total).map { "event \($0)" }.sorted())
    }

    @Test("a connection reset mid-stream: the session reconnects and resends, nothing lost or doubled")
    func resendAfterReset() async throws {
        let server = try await LoopbackIngestServer()
        try await server.withClient { client in
            try await Self.ingestThrough(client) { client.abortConnectionForTesting() }
        }
    }

    @Test("a server restart mid-stream on the same database and port: nothing lost or doubled")
    func resendAfterRestart() async throws {
        let server = try await LoopbackIngestServer()
        try await server.withClient { client in
            try await Self.ingestThrough(client) { try await server.restart() }
        }
    }
}
