// Messages handed over in batches: a sender's `send(contentsOf:)`, and a reader that takes every queued message at
// once (what `RPCMessageStream`'s iterator does). Both must keep the one-message-at-a-time guarantees: order, every
// message its own, and flow control bounding what either side holds.

import Testing
import VigilRPC
import VigilTesting
import VigilWire

@Suite("Batched messages")
struct BatchedMessageTests {
    static let sum = MethodDescriptor(service: "vigil.test.Batch", method: "Sum", kind: .clientStreaming)
    static let takeOne = MethodDescriptor(service: "vigil.test.Batch", method: "TakeOne", kind: .clientStreaming)
    static let firstThenRest = MethodDescriptor(
        service: "vigil.test.Batch", method: "FirstThenRest", kind: .clientStreaming)

    /// TakeOne's handler reads once the test moves this to 1 (every request queued at the server) and returns
    /// at 2 (the test saw the read take them all).
    let stage = Shared(0)

    func router() -> Router {
        var router = Router()
        router.registerClientStreaming(Self.sum) {
            (requests: RPCMessageStream<TestMessage>, _: ServerContext) -> TestMessage in
            var expected: UInt64 = 1
            for try await request in requests {
                guard request.number == expected else { throw RPCError(code: .dataLoss, message: "out of order") }
                expected += 1
            }
            return TestMessage(expected - 1)
        }
        let stage = self.stage
        router.registerClientStreaming(Self.takeOne) {
            (requests: RPCMessageStream<TestMessage>, _: ServerContext) -> TestMessage in
            // Reads once, after every request arrived, so the read takes them all, and returns with the rest unread.
            guard await stage.wait(until: { $0 >= 1 }) else { throw RPCError(code: .internal, message: "stage 1") }
            var iterator = requests.makeAsyncIterator()
            let first = try await iterator.next()
            guard await stage.wait(until: { $0 >= 2 }) else { throw RPCError(code: .internal, message: "stage 2") }
            return TestMessage(first?.number ?? 0)
        }
        router.registerClientStreaming(Self.firstThenRest) {
            (requests: RPCMessageStream<TestMessage>, _: ServerContext) -> TestMessage in
            // The first message with one iterator, after every request arrived (so its read takes them all), the rest
            // with another: IngestEvents reads its open message and then its batches this way.
            guard await stage.wait(until: { $0 >= 1 }) else { throw RPCError(code: .internal, message: "stage 1") }
            var first = requests.makeAsyncIterator()
            guard try await first.next()?.number == 1 else { throw RPCError(code: .dataLoss, message: "first") }
            var expected: UInt64 = 2
            for try await request in requests {
                guard request.number == expected else { throw RPCError(code: .dataLoss, message: "out of order") }
                expected += 1
            }
            return TestMessage(expected - 1)
        }
        return router
    }

    static func encoded(_ numbers: ClosedRange<Int>, payloadBytes: Int) -> [[UInt8]] {
        let payload = [UInt8](repeating: 7, count: payloadBytes)
        return numbers.map { TestMessage(UInt64($0), payload: payload).serializedBytes() }
    }

    /// Sends `messages` in batches of `batchSize`, half-closes and returns the Sum handler's answer: the last number it
    /// saw in order.
    static func summed(_ messages: [[UInt8]], batchesOf batchSize: Int, on call: any ClientCall) async throws
        -> UInt64
    {
        for start in stride(from: 0, to: messages.count, by: batchSize) {
            try await call.send(contentsOf: Array(messages[start..<min(start + batchSize, messages.count)]))
        }
        try await call.closeSend()
        let response = try #require(try await call.receive())
        return try TestMessage(serializedBytes: response).number
    }

    /// Sends `messages` in one batch, half-closes, and waits until the server has queued them all, unread: the
    /// handler's next read then takes every one.
    static func sendAll(_ messages: [[UInt8]], on call: any ClientCall, queuedAt transport: InProcessTransport)
        async throws
    {
        try await call.send(contentsOf: messages)
        try await call.closeSend()
        let queued = messages.reduce(0) { $0 + $1.count }
        try await eventually("every request queued at the server") { transport.serverBufferedRequestBytes >= queued }
    }

    @Test("messages sent in batches arrive in order, each its own message, past the stream window")
    func batchedSendInOrder() async throws {
        var settings = ConnectionSettings()
        settings.initialStreamWindow = 16_384
        let transport = InProcessTransport(router: self.router(), serverSettings: settings)
        let call = try await transport.makeCall(Self.sum, metadata: Metadata(), deadline: .now + .seconds(60))
        defer { call.finish() }
        // 400 messages of ~1 KB in batches of 64: each batch is four windows' worth, so sends wait mid-batch.
        #expect(try await Self.summed(Self.encoded(1...400, payloadBytes: 1_000), batchesOf: 64, on: call) == 400)
    }

    @Test("a batch mixing small messages, empty ones and ones larger than a frame or the window arrives in order")
    func mixedSizesInOrder() async throws {
        var settings = ConnectionSettings()
        settings.maxFrameSize = 16_384
        let transport = InProcessTransport(router: self.router(), serverSettings: settings)
        let call = try await transport.makeCall(Self.sum, metadata: Metadata(), deadline: .now + .seconds(60))
        defer { call.finish() }
        // Small ones share PACKED frames. Every seventh is larger than a frame (and than half the window, where
        // credit is returned in batches), and goes alone after the pack before it; a few are larger than the
        // stream window (64 KiB), and go as credit arrives.
        var generator = SplitMix64(seed: 7)
        let messages = (1...300).map { number in
            let large = number % 50 == 25 ? 70_000 : 20_000 + Int(generator.next() % 20_000)
            let size = number % 7 == 0 || number % 50 == 25 ? large : Int(generator.next() % 600)
            return TestMessage(UInt64(number), payload: [UInt8](repeating: UInt8(number % 251), count: size))
                .serializedBytes()
        }
        #expect(try await Self.summed(messages, batchesOf: 50, on: call) == 300)
    }

    @Test("a batch of none sends nothing and the call goes on")
    func emptyBatch() async throws {
        let transport = InProcessTransport(router: self.router())
        let call = try await transport.makeCall(Self.sum, metadata: Metadata(), deadline: .now + .seconds(60))
        defer { call.finish() }
        try await call.send(contentsOf: [])
        #expect(try await Self.summed(Self.encoded(1...3, payloadBytes: 10), batchesOf: 3, on: call) == 3)
    }

    @Test("a handler that ends with a taken batch unread gives its credit back to the connection")
    func heldBatchCreditReturns() async throws {
        var settings = ConnectionSettings()
        settings.initialStreamWindow = 16_384
        settings.initialConnectionWindow = 65_536
        let transport = InProcessTransport(router: self.router(), serverSettings: settings)
        // Each call leaves ~15 KB taken and unread; 12 calls are 180 KB, almost three connection windows, so a
        // connection that lost that credit would stall the later calls until their deadline.
        for round in 1...12 {
            self.stage.update { $0 = 0 }
            let call = try await transport.makeCall(Self.takeOne, metadata: Metadata(), deadline: .now + .seconds(20))
            defer { call.finish() }
            try await Self.sendAll(Self.encoded(1...15, payloadBytes: 1_000), on: call, queuedAt: transport)
            self.stage.update { $0 = 1 }
            try await eventually("round \(round): the handler's one read took every request") {
                transport.serverBufferedRequestBytes == 0
            }
            self.stage.update { $0 = 2 }
            let response = try #require(try await call.receive(), "round \(round)")
            #expect(try TestMessage(serializedBytes: response).number == 1)
        }
    }

    @Test("a second iterator over a request stream goes on where the first stopped, with nothing lost")
    func secondIteratorSeesTheRest() async throws {
        self.stage.update { $0 = 0 }
        let transport = InProcessTransport(router: self.router())
        let call = try await transport.makeCall(Self.firstThenRest, metadata: Metadata(), deadline: .now + .seconds(20))
        defer { call.finish() }
        try await Self.sendAll(Self.encoded(1...20, payloadBytes: 100), on: call, queuedAt: transport)
        self.stage.update { $0 = 1 }
        let response = try #require(try await call.receive())
        #expect(try TestMessage(serializedBytes: response).number == 20)
    }
}
