// The durable ingest stream's rules, through the RPC: the producer's high-water mark survives streams (ready says
// it, resends below it are duplicate batches, a gap is FAILED_PRECONDITION and stores nothing), a second stream
// takes the producer over (the first ends ABORTED), a producer belongs to one user, an idle stream is ended when
// its user is disabled, many streams at once store each event exactly once, and a slow writer holds the queue in
// front of it to the streams' bounds instead of buffering without limit.
import Foundation
import Synchronization
import Testing
import VigilAPI
import VigilRPC
import VigilSQLite

@testable import VigilService

@Suite struct IngestStreamTests {
    @Test("ready carries the producer's mark across streams; resends are duplicate batches; a gap stores nothing")
    func sequences() async throws {
        try await ServiceFixture.with { fixture in
            let agent = try await fixture.userWithToken("probe", .agent).token
            let producer = randomProducer()
            let first = try await self.stream(
                fixture, agent, producer,
                [.batch(1, [makeAPIEvent(.high)]), .batch(2, [makeAPIEvent(.low), makeAPIEvent(.low)])])
            #expect(first.ready == 0)
            #expect(first.acks.map(\.sequence) == [1, 2])
            #expect(first.acks.map(\.accepted) == [1, 2])
            #expect(first.acks[0].alertsCreated == 1)

            let second = try await self.stream(
                fixture, agent, producer,
                [
                    .batch(1, [makeAPIEvent(.high)]), .batch(2, [makeAPIEvent(.low), makeAPIEvent(.low)]),
                    .batch(3, [makeAPIEvent(.medium)]),
                ])
            #expect(second.ready == 2)
            #expect(second.acks.map(\.duplicateBatch) == [true, true, false])
            #expect(second.acks.map(\.duplicates) == [1, 2, 0])
            #expect(second.acks.map(\.accepted) == [0, 0, 1])
            #expect(try await fixture.store.count("events") == 4)

            let gap = await rpcError {
                _ = try await self.stream(fixture, agent, producer, [.batch(5, [makeAPIEvent(.low)])])
            }
            #expect(gap?.code == .failedPrecondition)
            #expect(gap?.message.contains("last committed batch is 3") == true)
            #expect(try await fixture.store.count("events") == 4)
            let state = try await fixture.store.producer(id: producer)
            #expect(state?.lastSequence == 3)
        }
    }

    @Test("a full database ends the stream with UNAVAILABLE, acks nothing unstored, and the resend commits later")
    func fullDatabaseIsUnavailable() async throws {
        try await ServiceFixture.with { fixture in
            let agent = try await fixture.userWithToken("probe", .agent).token
            let producer = randomProducer()
            let big = (0..<500).map { index in
                var event = makeAPIEvent(.high)
                event.description = "full-\(index) " + String(repeating: "y", count: 300)
                return event
            }
            _ = try await self.stream(fixture, agent, producer, [.batch(1, [makeAPIEvent(.low)])])
            try await fixture.store.withWriterConnection { database in
                let pages = try database.queryFirst("PRAGMA page_count") { $0.int64(at: 0) } ?? 0
                try database.execute("PRAGMA max_page_count = \(pages)")
            }
            let refused = await rpcError {
                _ = try await self.stream(fixture, agent, producer, [.batch(2, big), .batch(3, big)])
            }
            #expect(refused?.code == .unavailable, "\(String(describing: refused))")
            #expect(try await fixture.store.count("events") == 1)
            #expect(try await fixture.store.producer(id: producer)?.lastSequence == 1)
            try await fixture.store.withWriterConnection { database in
                try database.execute("PRAGMA max_page_count = 1073741823")
            }
            let resent = try await self.stream(fixture, agent, producer, [.batch(2, big), .batch(3, big)])
            #expect(resent.ready == 1)
            #expect(resent.acks.map(\.accepted) == [500, 500])
            #expect(try await fixture.store.count("events") == 1_001)
        }
    }

    @Test("a batch whose events are all refused still advances the sequence")
    func refusedEventsAdvance() async throws {
        try await ServiceFixture.with { fixture in
            let agent = try await fixture.userWithToken("probe", .agent).token
            let producer = randomProducer()
            let run = try await self.stream(
                fixture, agent, producer, [.batch(1, [makeAPIEvent(.low, source: "")]), .batch(2, [])])
            #expect(run.acks.map(\.accepted) == [0, 0])
            #expect(run.acks[0].rejections.map(\.index) == [0])
            #expect(try await fixture.store.producer(id: producer)?.lastSequence == 2)
        }
    }

    @Test("a second stream for a producer takes it over: the first ends with ABORTED")
    func takeover() async throws {
        try await ServiceFixture.with { fixture in
            let agent = try await fixture.userWithToken("probe", .agent).token
            let producer = randomProducer()
            let (acked, ackedSignal) = AsyncStream.makeStream(of: Void.self)
            let older = Task {
                await rpcError {
                    try await fixture.client.bidiStream(
                        VigilMethods.ingestEvents, requestType: IngestEventsRequest.self,
                        responseType: IngestEventsResponse.self, metadata: bearer(agent)
                    ) { writer, responses in
                        var iterator = responses.makeAsyncIterator()
                        try await writer.write(.open(producer: producer))
                        try await writer.write(.batch(1, [makeAPIEvent(.low)]))
                        _ = try await iterator.next()  // ready
                        _ = try await iterator.next()  // ack
                        ackedSignal.yield()
                        while try await iterator.next() != nil {}
                    }
                }
            }
            for await _ in acked { break }
            let newer = try await self.stream(fixture, agent, producer, [.batch(2, [makeAPIEvent(.low)])])
            #expect(newer.ready == 1)
            #expect(newer.acks.map(\.accepted) == [1])
            let error = await older.value
            #expect(error?.code == .aborted)
            #expect(try await fixture.store.count("events") == 2)
        }
    }

    @Test("a producer id belongs to the user who first committed with it")
    func foreignProducer() async throws {
        try await ServiceFixture.with { fixture in
            let first = try await fixture.userWithToken("probe-1", .agent).token
            let second = try await fixture.userWithToken("probe-2", .agent).token
            let producer = randomProducer()
            _ = try await self.stream(fixture, first, producer, [.batch(1, [makeAPIEvent(.low)])])
            let code = await statusCode {
                _ = try await self.stream(fixture, second, producer, [.batch(2, [makeAPIEvent(.low)])])
            }
            #expect(code == .permissionDenied)
            #expect(try await fixture.store.count("events") == 1)
        }
    }

    @Test("an idle stream ends with UNAUTHENTICATED once its user is disabled")
    func idleRecheck() async throws {
        let configure: (inout VigilServer.Configuration) -> Void = { $0.tokenRecheckInterval = .milliseconds(50) }
        try await ServiceFixture.with(configure: configure) { fixture in
            let agent = try await fixture.userWithToken("probe", .agent)
            let code = await statusCode {
                try await fixture.client.bidiStream(
                    VigilMethods.ingestEvents, requestType: IngestEventsRequest.self,
                    responseType: IngestEventsResponse.self, metadata: bearer(agent.token)
                ) { writer, responses in
                    var iterator = responses.makeAsyncIterator()
                    try await writer.write(.open(producer: randomProducer()))
                    _ = try await iterator.next()
                    _ = try await fixture.store.updateUser(id: agent.user.id, UserChanges(disabled: true))
                    while try await iterator.next() != nil {}
                }
            }
            #expect(code == .unauthenticated)
        }
    }

    @Test("8 concurrent streams with resends and repeated keys store each event once, one alert per HIGH/CRITICAL")
    func concurrentStreams() async throws {
        try await ServiceFixture.with { fixture in
            let agent = try await fixture.userWithToken("probe", .agent).token
            let admin = try await fixture.userWithToken("root", .admin).token
            let streams = 8
            let batches = 25
            let perBatch = 20
            let totals = try await withThrowingTaskGroup(of: (accepted: Int, duplicates: Int, alerts: Int).self) {
                group in
                for stream in 0..<streams {
                    group.addTask {
                        let producer = randomProducer()
                        var messages: [IngestEventsRequest] = []
                        for sequence in 1...batches {
                            let events = (0..<perBatch).map { index in
                                let severity: Severity = [.low, .medium, .high, .critical][(index + sequence) % 4]
                                // Every 5th event repeats a key shared by all streams: stored once in all.
                                let key = index % 5 == 0 ? "shared-\(sequence)-\(index)" : ""
                                return makeAPIEvent(severity, source: "host-\(stream)", key: key)
                            }
                            messages.append(.batch(UInt64(sequence), events))
                        }
                        let run = try await self.stream(fixture, agent, producer, messages)
                        // Then resend the last 5 batches on a new stream: all duplicates.
                        let resent = try await self.stream(fixture, agent, producer, Array(messages.suffix(5)))
                        #expect(resent.ready == UInt64(batches))
                        #expect(resent.acks.allSatisfy { $0.duplicateBatch && $0.duplicates == UInt32(perBatch) })
                        return (
                            run.acks.reduce(0) { $0 + Int($1.accepted) },
                            run.acks.reduce(0) { $0 + Int($1.duplicates) },
                            run.acks.reduce(0) { $0 + Int($1.alertsCreated) }
                        )
                    }
                }
                var totals = (accepted: 0, duplicates: 0, alerts: 0)
                for try await result in group {
                    totals.accepted += result.accepted
                    totals.duplicates += result.duplicates
                    totals.alerts += result.alerts
                }
                return totals
            }
            let sent = streams * batches * perBatch
            let sharedKeys = batches * (perBatch / 5)
            #expect(totals.accepted + totals.duplicates == sent)
            #expect(totals.duplicates == sharedKeys * (streams - 1))
            let stats = try await fixture.call(
                VigilMethods.getStats, GetStatsRequest(), token: admin, as: GetStatsResponse.self)
            #expect(stats.totalEvents == Int64(totals.accepted))
            #expect(stats.totalAlerts == Int64(totals.alerts))
            let highAndCritical = stats.eventsBySeverity.filter { $0.severity == .high || $0.severity == .critical }
            #expect(highAndCritical.reduce(0) { $0 + $1.count } == stats.totalAlerts)
        }
    }

    @Test("a slow writer bounds the queue in front of it to the streams' unacked limits")
    func backpressure() async throws {
        let maxQueued = Mutex(0)
        let storeBox = Mutex<SQLiteStore?>(nil)
        let unacked = 4
        let streams = 8
        let configure: (inout VigilServer.Configuration) -> Void = { $0.ingestMaxUnackedBatches = unacked }
        let configureStore: (inout SQLiteStore.Configuration) -> Void = {
            $0.maximumGroupEvents = 10
            // Sampled before and after the slow commit's pause: on a loaded machine the streams' tasks can run one
            // at a time, and then batches arrive only while the writer sleeps (CI once saw 0 before the pause).
            $0.beforeIngestCommit = {
                let sample = {
                    if let queued = storeBox.withLock({ $0 })?.ingestCommitter.queuedBatches {
                        maxQueued.withLock { $0 = max($0, queued) }
                    }
                }
                sample()
                usleep(5_000)
                sample()
            }
        }
        try await ServiceFixture.with(configure: configure, configureStore: configureStore) { fixture in
            storeBox.withLock { $0 = fixture.store }
            let agent = try await fixture.userWithToken("probe", .agent).token
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<streams {
                    group.addTask {
                        let messages = (1...30).map { IngestEventsRequest.batch(UInt64($0), [makeAPIEvent(.low)]) }
                        let run = try await self.stream(fixture, agent, randomProducer(), messages)
                        #expect(run.acks.count == 30)
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await fixture.store.count("events") == Int64(streams * 30))
        }
        let observed = maxQueued.withLock { $0 }
        #expect(observed > 0)
        #expect(observed <= streams * unacked)
    }

    // MARK: Helpers

    struct Run {
        var ready: UInt64
        var acks: [IngestAck]
    }

    /// Opens a stream for `producer`, sends every message without waiting, and reads `ready` and one ack each.
    func stream(
        _ fixture: ServiceFixture, _ token: String, _ producer: [UInt8], _ batches: [IngestEventsRequest]
    ) async throws -> Run {
        try await fixture.client.bidiStream(
            VigilMethods.ingestEvents, requestType: IngestEventsRequest.self, responseType: IngestEventsResponse.self,
            metadata: bearer(token)
        ) { writer, responses in
            var iterator = responses.makeAsyncIterator()
            try await writer.write(.open(producer: producer))
            guard case .ready(let ready)? = try await iterator.next()?.kind else {
                throw RPCError(code: .internal, message: "no ready")
            }
            let sender = Task {
                for batch in batches { try await writer.write(batch) }
            }
            var acks: [IngestAck] = []
            while acks.count < batches.count {
                guard let response = try await iterator.next() else {
                    throw RPCError(code: .internal, message: "the stream ended after \(acks.count) acks")
                }
                guard case .ack(let ack) = response.kind else {
                    throw RPCError(code: .internal, message: "expected an ack")
                }
                acks.append(ack)
            }
            try await sender.value
            return Run(ready: ready.lastCommittedSequence, acks: acks)
        }
    }
}
