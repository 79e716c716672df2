// IngestSession against the real service on a real SQLite file, in process: acks in order with session-wide
// rejection indexes, flush, backpressure, the reconnect rules (which failures reopen and resend, which end the
// session, when to give up, when the server's `ready` betrays lost data), takeover by a second session and a
// persisted producer id continuing its sequence. The network side (a dropped connection, a restarted server) is in
// IngestSessionNetworkTests.swift. Faults are injected by `IngestInterceptor`, between the client and the real
// handler, so no test depends on timing beyond "eventually".
import Synchronization
import Testing
import VigilAPI
import VigilClient
import VigilRPC
import VigilTesting

@Suite struct IngestSessionTests {
    @Test("acks arrive in order with their counts, and rejections carry the event's index in the whole session")
    func acksInOrder() async throws {
        try await withIngestClient { client in
            let log = AckLog()
            let session = try await client.ingestSession(batchSize: 10, onAck: log.append)
            var events = (0..<95).map { ingestEvent($0, severity: $0 % 10 == 0 ? .critical : .low) }
            events[3].description = "  "
            events[27].severity = .unspecified
            events[94].description = ""
            try await session.send(contentsOf: Array(events[..<50]))
            try await session.flush()
            for event in events[50...] { try await session.send(event) }
            try await session.close()

            #expect(log.sequences == Array(1...10))
            #expect(log.all.map(\.accepted) == [9, 10, 9, 10, 10, 10, 10, 10, 10, 4])
            #expect(log.all.flatMap(\.rejections).map(\.eventIndex) == [3, 27, 94])
            #expect(log.all.flatMap(\.rejections).allSatisfy { $0.code == .invalidArgument && !$0.reason.isEmpty })
            #expect(log.all.allSatisfy { !$0.duplicateBatch && $0.latency >= .zero })
            let summary = session.summary
            #expect(summary.batches == 10)
            #expect(summary.accepted == 92)
            #expect(summary.alertsCreated == 10)
            #expect(summary.rejections.map(\.eventIndex) == [3, 27, 94])
            #expect(session.nextSequence == 11)
            #expect(session.producerID.count == 16)
            #expect(try await client.getStats().totalEvents == 92)
        }
    }

    @Test("flush closes a partial batch and waits for its ack; a flush with nothing open sends nothing")
    func flush() async throws {
        try await withIngestClient { client in
            let session = try await client.ingestSession(batchSize: 100)
            try await session.flush()
            #expect(session.nextSequence == 1)
            try await session.send(contentsOf: (0..<7).map { ingestEvent($0) })
            try await session.flush()
            #expect(session.summary.accepted == 7)
            #expect(session.unackedBatchCount == 0)
            #expect(session.nextSequence == 2)
            try await session.send(contentsOf: (7..<10).map { ingestEvent($0) })
            try await session.flush()
            try await session.flush()
            #expect(session.summary.batches == 2)
            #expect(session.nextSequence == 3)
            #expect(try await client.getStats().totalEvents == 10)
            try await session.close()
            try await session.close()
            let error = await #expect(throws: RPCError.self) { try await session.send(ingestEvent(99)) }
            #expect(error?.code == .failedPrecondition)
        }
    }

    @Test("send waits while maxUnackedBatches are unacknowledged and resumes as acks arrive")
    func backpressure() async throws {
        let interceptor = IngestInterceptor()
        try await withIngestClient(interceptor: interceptor) { client in
            let log = AckLog()
            let session = try await client.ingestSession(batchSize: 1, maxUnackedBatches: 2, onAck: log.append)
            interceptor.holdAcks()
            let sent = Mutex(0)
            let sender = Task {
                for index in 0..<20 {
                    try await session.send(ingestEvent(index))
                    sent.withLock { $0 += 1 }
                }
            }
            // Batches 1 and 2 fill the window; the third send would close batch 3, so it waits for ack 1.
            try await eventually("the first ack to be held") { interceptor.heldAckCount == 1 }
            try await Task.sleep(for: .milliseconds(100))
            #expect(sent.withLock { $0 } == 2)
            #expect(session.unackedBatchCount == 2)
            #expect(log.count == 0)
            interceptor.releaseAcks()
            try await sender.value
            try await session.close()
            #expect(log.sequences == Array(1...20))
            #expect(try await client.getStats().totalEvents == 20)
        }
    }

    @Test("a stream failing UNAVAILABLE is reopened and every unacknowledged batch resent: nothing lost or doubled")
    func reopenAfterUnavailable() async throws {
        // The first stream fails on its first batch, before anything is stored.
        let interceptor = IngestInterceptor { stream, request in
            guard stream == 0, case .batch = request.kind else { return nil }
            return RPCError(code: .unavailable, message: "server draining")
        }
        try await withIngestClient(interceptor: interceptor) { client in
            let log = AckLog()
            let session = try await client.ingestSession(batchSize: 10, onAck: log.append)
            try await session.send(contentsOf: (0..<50).map { ingestEvent($0) })
            try await session.close()
            #expect(interceptor.streams == 2)
            #expect(session.reconnectCount == 1)
            #expect(log.sequences == Array(1...5))
            #expect(session.summary.accepted == 50)
            #expect(try await storedDescriptions(client).sorted() == (0..<50).map { "event \($0)" }.sorted())
        }
    }

    @Test("UNAUTHENTICATED refreshes the access token before the stream is reopened")
    func reopenAfterUnauthenticated() async throws {
        let interceptor = IngestInterceptor { stream, request in
            guard stream == 0, case .batch = request.kind else { return nil }
            return RPCError(code: .unauthenticated, message: "token expired")
        }
        try await withIngestClient(interceptor: interceptor) { client in
            let session = try await client.ingestSession(batchSize: 5)
            try await session.send(contentsOf: (0..<10).map { ingestEvent($0) })
            try await session.close()
            let tokens = interceptor.authorizations
            #expect(tokens.count == 2)
            #expect(tokens.allSatisfy { $0.hasPrefix("Bearer ") })
            #expect(tokens.first != tokens.last)
            #expect(try await client.getStats().totalEvents == 10)
        }
    }

    @Test(
        "statuses a reopen cannot fix end the session and are thrown from the next call",
        arguments: [Status.Code.aborted, .permissionDenied, .failedPrecondition, .invalidArgument])
    func terminal(code: Status.Code) async throws {
        let interceptor = IngestInterceptor { stream, request in
            guard case .batch(let batch) = request.kind, batch.sequence == 2 else { return nil }
            return RPCError(code: code, message: "refused")
        }
        try await withIngestClient(interceptor: interceptor) { client in
            let session = try await client.ingestSession(batchSize: 5)
            try await session.send(contentsOf: (0..<5).map { ingestEvent($0) })
            try await session.flush()
            try await session.send(contentsOf: (5..<10).map { ingestEvent($0) })
            let flushed = await #expect(throws: RPCError.self) { try await session.flush() }
            #expect(flushed?.code == code)
            let sent = await #expect(throws: RPCError.self) { try await session.send(ingestEvent(10)) }
            #expect(sent?.code == code)
            let closed = await #expect(throws: RPCError.self) { try await session.close() }
            #expect(closed?.code == code)
            #expect(interceptor.streams == 1)
            #expect(session.reconnectCount == 0)
            #expect(session.summary.accepted == 5)
        }
    }

    @Test("the session gives up after maxAttempts failed reopens")
    func givesUp() async throws {
        let interceptor = IngestInterceptor { stream, request in
            switch request.kind {
            case .batch where stream == 0, .open where stream > 0:
                RPCError(code: .unavailable, message: "down")
            default: nil
            }
        }
        try await withIngestClient(interceptor: interceptor) { client in
            let policy = IngestSession.ReconnectPolicy(
                maxAttempts: 3, initialBackoff: .milliseconds(1), maximumBackoff: .milliseconds(4))
            let session = try await client.ingestSession(batchSize: 2, reconnect: policy)
            try await session.send(contentsOf: (0..<2).map { ingestEvent($0) })
            let error = await #expect(throws: RPCError.self) { try await session.flush() }
            #expect(error?.code == .unavailable)
            #expect(error?.message.contains("gave up") == true)
            #expect(interceptor.streams == 4)
        }
    }

    @Test("a reopen whose ready is below what was already acknowledged is reported as data loss, not resent")
    func dataLossOnReopen() async throws {
        let interceptor = IngestInterceptor { stream, request in
            guard stream == 0, case .batch(let batch) = request.kind, batch.sequence == 3 else { return nil }
            return RPCError(code: .unavailable, message: "connection lost")
        }
        interceptor.overrideReady(onStream: 1, lastCommitted: 1)
        try await withIngestClient(interceptor: interceptor) { client in
            let session = try await client.ingestSession(batchSize: 1, maxUnackedBatches: 1)
            try await session.send(ingestEvent(0))
            try await session.send(ingestEvent(1))
            try await session.flush()
            try await session.send(ingestEvent(2))
            let error = await #expect(throws: RPCError.self) { try await session.flush() }
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message.contains("data loss") == true)
            #expect(interceptor.streams == 2)
        }
    }

    @Test("a producer id that is not 16 bytes fails the open at once")
    func badProducerID() async throws {
        try await withIngestClient { client in
            let error = await #expect(throws: RPCError.self) {
                _ = try await client.ingestSession(producerID: [1, 2, 3])
            }
            #expect(error?.code == .invalidArgument)
        }
    }

    @Test("an open the server never answers fails after the client's default timeout")
    func openTimeout() async throws {
        let interceptor = IngestInterceptor()
        interceptor.holdReady()
        try await withIngestClient(interceptor: interceptor) { client in
            // The same session and transport, with a short default timeout (logging in took the usual one).
            let impatient = VigilClient(
                transport: client.transport, tokens: client.tokens, defaultTimeout: .milliseconds(200))
            let error = await #expect(throws: RPCError.self) { _ = try await impatient.ingestSession() }
            #expect(error?.code == .deadlineExceeded)
            interceptor.releaseAcks()
        }
    }

    @Test("an event too large for any batch is refused by send, and the session goes on")
    func oversizedEvent() async throws {
        try await withIngestClient { client in
            let session = try await client.ingestSession(batchSize: 10)
            var huge = ingestEvent(0)
            huge.description = String(repeating: "x", count: VigilClient.maximumBatchBytes)
            let error = await #expect(throws: RPCError.self) { try await session.send(huge) }
            #expect(error?.code == .invalidArgument)
            try await session.send(ingestEvent(1))
            try await session.close()
            #expect(session.summary.accepted == 1)
            #expect(session.summary.rejections.isEmpty)
        }
    }

    // MARK: Needs the durable-ingest server (producer high-water marks, takeover)

    @Test("a second session with the same producer id ends the first with ABORTED and continues its sequence")
    func takeover() async throws {
        try await withIngestClient { client in
            let producer = VigilClient.newProducerID()
            let first = try await client.ingestSession(producerID: producer, batchSize: 5)
            try await first.send(contentsOf: (0..<10).map { ingestEvent($0) })
            try await first.flush()
            let second = try await client.ingestSession(producerID: producer, batchSize: 5)
            #expect(second.nextSequence == 3)
            try await second.send(contentsOf: (10..<15).map { ingestEvent($0) })
            try await second.close()
            let error = await #expect(throws: RPCError.self) {
                try await first.send(contentsOf: (15..<20).map { ingestEvent($0) })
                try await first.flush()
            }
            #expect(error?.code == .aborted)
            #expect(try await client.getStats().totalEvents == 15)
        }
    }

    @Test("a persisted producer id continues its sequence in a new session")
    func persistedProducer() async throws {
        try await withIngestClient { client in
            let producer = VigilClient.newProducerID()
            let first = try await client.ingestSession(producerID: producer, batchSize: 4)
            try await first.send(contentsOf: (0..<12).map { ingestEvent($0) })
            try await first.close()
            #expect(first.nextSequence == 4)

            let log = AckLog()
            let second = try await client.ingestSession(producerID: producer, batchSize: 4, onAck: log.append)
            #expect(second.nextSequence == 4)
            try await second.send(contentsOf: (12..<20).map { ingestEvent($0) })
            try await second.close()
            #expect(log.sequences == [4, 5])
            #expect(second.summary.accepted == 8)
            #expect(try await client.getStats().totalEvents == 20)
        }
    }
}
