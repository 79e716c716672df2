// Every call shape and every way a call can end, over the in-process transport: real frames through the real
// state machines, so these behaviours are the ones the network transport will have.

import Synchronization
import Testing
import VigilRPC
import VigilTesting
import VigilWire

enum TestMethods {
    static let echo = MethodDescriptor(service: "vigil.test.Test", method: "Echo", kind: .unary)
    static let count = MethodDescriptor(
        service: "vigil.test.Test", method: "Count", kind: .serverStreaming)
    static let sum = MethodDescriptor(
        service: "vigil.test.Test", method: "Sum", kind: .clientStreaming)
    static let pingPong = MethodDescriptor(
        service: "vigil.test.Test", method: "PingPong", kind: .bidirectionalStreaming)
    static let sleep = MethodDescriptor(service: "vigil.test.Test", method: "Sleep", kind: .unary)
    static let forever = MethodDescriptor(
        service: "vigil.test.Test", method: "Forever", kind: .serverStreaming)
    static let giveUp = MethodDescriptor(
        service: "vigil.test.Test", method: "GiveUp", kind: .serverStreaming)
    static let slowSum = MethodDescriptor(
        service: "vigil.test.Test", method: "SlowSum", kind: .clientStreaming)
    static let missing = MethodDescriptor(service: "vigil.test.Test", method: "Missing", kind: .unary)
}

@Suite("In-process transport")
struct InProcessTransportTests {
    /// The 100k messages each way, in every build (a few seconds in debug).
    static let streamCount = 100_000

    /// Why each handler stopped, by method, for the server-side halves of the cancellation tests.
    let seen = Shared<[String: Status.Code]>([:])
    /// Client-streaming progress for the back-pressure test: (sent, read, worst outstanding).
    let progress = Shared<(sent: Int, read: Int, worst: Int)>((0, 0, 0))

    func router() -> Router {
        var router = Router()
        let seen = self.seen
        let progress = self.progress
        router.registerUnary(TestMethods.echo) {
            (request: TestMessage, context: ServerContext) -> TestMessage in
            if let tag = context.metadata["x-tag"] { context.trailingMetadata.append("x-tag", tag) }
            return request
        }
        router.registerServerStreaming(TestMethods.count) {
            (request: TestMessage, writer: RPCMessageWriter<TestMessage>, _: ServerContext) in
            for number in 1...request.number { try await writer.write(TestMessage(number)) }
        }
        router.registerClientStreaming(TestMethods.sum) {
            (requests: RPCMessageStream<TestMessage>, _: ServerContext) -> TestMessage in
            var total: UInt64 = 0
            var expected: UInt64 = 1
            for try await request in requests {
                guard request.number == expected else {
                    throw RPCError(code: .dataLoss, message: "out of order")
                }
                total += request.number
                expected += 1
            }
            return TestMessage(total)
        }
        router.registerBidirectional(TestMethods.pingPong) {
            (
                requests: RPCMessageStream<TestMessage>, writer: RPCMessageWriter<TestMessage>,
                _: ServerContext
            ) in
            for try await request in requests { try await writer.write(TestMessage(request.number + 1)) }
        }
        router.registerUnary(TestMethods.sleep) {
            (request: TestMessage, context: ServerContext) -> TestMessage in
            do {
                try await Task.sleep(for: .seconds(600))
            } catch {
                seen.update { $0["sleep"] = context.cancellationCode }
                throw error
            }
            return request
        }
        router.registerServerStreaming(TestMethods.forever) {
            (_: TestMessage, writer: RPCMessageWriter<TestMessage>, context: ServerContext) in
            var number: UInt64 = 1
            do {
                while true {
                    try await writer.write(TestMessage(number))
                    number += 1
                }
            } catch {
                seen.update { $0["forever"] = context.cancellationCode }
                throw error
            }
        }
        router.registerServerStreaming(TestMethods.giveUp) {
            (request: TestMessage, writer: RPCMessageWriter<TestMessage>, _: ServerContext) in
            for number in 1...request.number { try await writer.write(TestMessage(number)) }
            throw CancellationError()
        }
        router.registerClientStreaming(TestMethods.slowSum) {
            (requests: RPCMessageStream<TestMessage>, _: ServerContext) -> TestMessage in
            var count: UInt64 = 0
            for try await _ in requests {
                count += 1
                progress.update { state in
                    state.read += 1
                    state.worst = max(state.worst, state.sent - state.read)
                }
                if count % 8 == 0 { try await Task.sleep(for: .milliseconds(1)) }
            }
            return TestMessage(count)
        }
        return router
    }

    func transport(server: ConnectionSettings = .defaults) -> InProcessTransport {
        InProcessTransport(router: self.router(), serverSettings: server)
    }

    static func code(_ body: () async throws -> Void) async -> Status.Code? {
        do {
            try await body()
            return .ok
        } catch let error as RPCError {
            return error.code
        } catch {
            return nil
        }
    }

    @Test("a unary call echoes its request and carries metadata both ways")
    func unary() async throws {
        let transport = self.transport()
        let response = try await transport.unary(
            TestMethods.echo, request: TestMessage(42, payload: [1, 2, 3]),
            responseType: TestMessage.self,
            metadata: Metadata(["x-tag": "t1"]))
        #expect(response == TestMessage(42, payload: [1, 2, 3]))
    }

    @Test("a server stream delivers every message in order")
    func serverStream() async throws {
        let transport = self.transport()
        let count = try await transport.serverStream(
            TestMethods.count, request: TestMessage(UInt64(Self.streamCount)),
            responseType: TestMessage.self
        ) { responses in
            var expected: UInt64 = 1
            for try await response in responses {
                guard response.number == expected else {
                    throw RPCError(code: .dataLoss, message: "out of order")
                }
                expected += 1
            }
            return expected - 1
        }
        #expect(count == UInt64(Self.streamCount))
    }

    @Test("a client stream delivers every message in order")
    func clientStream() async throws {
        let transport = self.transport()
        let n = UInt64(Self.streamCount)
        let response = try await transport.clientStream(
            TestMethods.sum, requestType: TestMessage.self, responseType: TestMessage.self
        ) { writer in
            for number in 1...n { try await writer.write(TestMessage(number)) }
        }
        #expect(response.number == n * (n + 1) / 2)
    }

    @Test("bidirectional ping-pong alternates requests and responses")
    func bidiPingPong() async throws {
        let transport = self.transport()
        let last = try await transport.bidiStream(
            TestMethods.pingPong, requestType: TestMessage.self, responseType: TestMessage.self
        ) { writer, responses in
            var iterator = responses.makeAsyncIterator()
            var value: UInt64 = 0
            for _ in 0..<500 {
                try await writer.write(TestMessage(value))
                guard let reply = try await iterator.next() else {
                    throw RPCError(code: .dataLoss, message: "ended")
                }
                #expect(reply.number == value + 1)
                value = reply.number + 1
            }
            return value
        }
        #expect(last == 1000)
    }

    @Test(
        "200 concurrent calls all succeed (more than max concurrent streams: the client waits for slots)"
    )
    func concurrentCalls() async throws {
        let transport = self.transport()
        let results = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for index in 1...200 {
                group.addTask {
                    try await transport.unary(
                        TestMethods.echo, request: TestMessage(UInt64(index)),
                        responseType: TestMessage.self
                    ).number
                }
            }
            return try await group.reduce(into: Set<UInt64>()) { $0.insert($1) }
        }
        #expect(results == Set(1...200))
    }

    @Test("each call's deadline timer is set when it opens and stopped when it ends, whichever way it ends")
    func deadlineTimersAreStopped() async throws {
        let timers = RecordingTimers()
        let transport = InProcessTransport(router: self.router(), clientTimers: timers)
        let far = ContinuousClock.now + .seconds(600)
        for index in 1...20 {
            let response = try await transport.unary(
                TestMethods.echo, request: TestMessage(UInt64(index)), responseType: TestMessage.self, deadline: far)
            #expect(response.number == UInt64(index))
        }
        #expect(await Self.code {
            _ = try await transport.unary(
                TestMethods.missing, request: TestMessage(1), responseType: TestMessage.self, deadline: far)
        } == .unimplemented)
        _ = try await transport.unary(TestMethods.echo, request: TestMessage(1), responseType: TestMessage.self)
        // 21 calls had a deadline (the last one none): each got one timer, and none is left running.
        #expect(timers.scheduled == 21)
        #expect(timers.cancelled == 21)
    }

    @Test("an expired deadline ends the call DEADLINE_EXCEEDED on both sides and cancels the handler")
    func deadline() async throws {
        let transport = self.transport()
        let started = ContinuousClock.now
        let code = await Self.code {
            _ = try await transport.unary(
                TestMethods.sleep, request: TestMessage(1), responseType: TestMessage.self,
                deadline: .now + .milliseconds(50))
        }
        #expect(code == .deadlineExceeded)
        // Well under the handler's 600 s sleep, so the deadline ended it; generous, because parallel suites on two
        // cores (the fuzz harnesses compiling) have kept this task from running for over 20 s.
        #expect(ContinuousClock.now - started < .seconds(120))
        #expect(await self.seen.wait { $0["sleep"] == .deadlineExceeded })
    }

    @Test("cancelling the client's task mid-stream resets the call and cancels the handler")
    func clientCancellation() async throws {
        let transport = self.transport()
        let received = Shared(0)
        let task = Task {
            await Self.code {
                try await transport.serverStream(
                    TestMethods.forever, request: TestMessage(1), responseType: TestMessage.self
                ) { responses in
                    for try await _ in responses { received.update { $0 += 1 } }
                }
            }
        }
        #expect(await received.wait { $0 >= 10 })
        task.cancel()
        #expect(await task.value == .cancelled)
        #expect(await self.seen.wait { $0["forever"] == .cancelled })
    }

    @Test(
        "a handler that cancels itself mid-stream is seen by the client as CANCELLED after its messages"
    )
    func handlerCancellation() async throws {
        let transport = self.transport()
        let received = Shared(0)
        let code = await Self.code {
            try await transport.serverStream(
                TestMethods.giveUp, request: TestMessage(5), responseType: TestMessage.self
            ) { responses in
                for try await _ in responses { received.update { $0 += 1 } }
            }
        }
        #expect(code == .cancelled)
        #expect(received.get() == 5)
    }

    @Test("an unknown method ends UNIMPLEMENTED")
    func unknownMethod() async {
        let transport = self.transport()
        let code = await Self.code {
            _ = try await transport.unary(
                TestMethods.missing, request: TestMessage(1), responseType: TestMessage.self)
        }
        #expect(code == .unimplemented)
    }

    @Test("a request that does not decode ends INVALID_ARGUMENT")
    func undecodableRequest() async throws {
        let transport = self.transport()
        let call = try await transport.makeCall(TestMethods.echo, metadata: Metadata(), deadline: nil)
        defer { call.finish() }
        try await call.send([0xFF], endStream: true)
        let code = await Self.code { _ = try await call.receive() }
        #expect(code == .invalidArgument)
    }

    @Test("a message over the server's limit ends RESOURCE_EXHAUSTED and the transport goes on")
    func oversizedMessage() async throws {
        var settings = ConnectionSettings()
        settings.maxMessageBytes = 1_000
        let transport = self.transport(server: settings)
        // The client learns the limit from the server's SETTINGS and refuses a larger request before sending it.
        let probe = try await transport.makeCall(TestMethods.echo, metadata: Metadata(), deadline: nil)
        #expect(probe.maxRequestBytes == 1_000)
        probe.finish()
        let code = await Self.code {
            _ = try await transport.unary(
                TestMethods.echo, request: TestMessage(1, payload: Array(repeating: 9, count: 200_000)),
                responseType: TestMessage.self)
        }
        #expect(code == .resourceExhausted)
        let after = try await transport.unary(
            TestMethods.echo, request: TestMessage(7), responseType: TestMessage.self)
        #expect(after.number == 7)
    }

    @Test("a slow-reading handler bounds what the sender has in flight to the stream window")
    func slowReaderBoundsSender() async throws {
        var settings = ConnectionSettings()
        settings.initialStreamWindow = 16_384
        let window = settings.initialStreamWindow
        let transport = self.transport(server: settings)
        let progress = self.progress
        let payload = Array(repeating: UInt8(1), count: 1_000)
        let messageCost = TestMessage(1, payload: payload).serializedSize() + 4
        let response = try await transport.clientStream(
            TestMethods.slowSum, requestType: TestMessage.self, responseType: TestMessage.self
        ) { writer in
            for number in 1...400 {
                try await writer.write(TestMessage(UInt64(number), payload: payload))
                progress.update { state in
                    state.sent += 1
                    state.worst = max(state.worst, state.sent - state.read)
                }
                #expect(transport.serverBufferedRequestBytes <= window)
            }
        }
        #expect(response.number == 400)
        let worst = progress.get().worst
        // Unread messages never exceed the window's worth, plus the one being counted as it is handed over.
        #expect(worst * messageCost <= window + messageCost, "worst outstanding \(worst)")
        #expect(worst > 2, "the sender should have run ahead of the reader up to the window")
    }

    @Test(
        "many streams sending messages larger than what is left of the connection window all finish",
        .timeLimit(.minutes(1)))
    func connectionWindowSharedByPartialMessages() async throws {
        var settings = ConnectionSettings()
        settings.initialConnectionWindow = 32_768
        let transport = self.transport(server: settings)
        // Each message fits its stream's window but not what the other streams leave of a connection window half
        // its size, so senders cut messages by credit: parts of several messages sit at the receiver at once, and
        // every credit returned must still let one of them finish.
        let payload = Array(repeating: UInt8(9), count: 20_000)
        try await withThrowingTaskGroup(of: UInt64.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await transport.clientStream(
                        TestMethods.sum, requestType: TestMessage.self, responseType: TestMessage.self
                    ) { writer in
                        for number in 1...20 { try await writer.write(TestMessage(UInt64(number), payload: payload)) }
                    }.number
                }
            }
            for try await total in group { #expect(total == 210) }
        }
    }

    @Test("after the server goes away, running calls finish and new calls fail UNAVAILABLE")
    func goAwayDraining() async throws {
        let transport = self.transport()
        let last = try await transport.bidiStream(
            TestMethods.pingPong, requestType: TestMessage.self, responseType: TestMessage.self
        ) { writer, responses in
            var iterator = responses.makeAsyncIterator()
            try await writer.write(TestMessage(1))
            _ = try await iterator.next()
            transport.shutDownServer()
            let code = await Self.code {
                _ = try await transport.unary(TestMethods.echo, request: TestMessage(1), responseType: TestMessage.self)
            }
            #expect(code == .unavailable)
            try await writer.write(TestMessage(10))
            return try await iterator.next()?.number
        }
        #expect(last == 11)
    }

    @Test("a message larger than the stream window and the frame size crosses in pieces, both ways")
    func largeMessage() async throws {
        let transport = self.transport()
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0) }
        let response = try await transport.unary(
            TestMethods.echo, request: TestMessage(3, payload: payload), responseType: TestMessage.self)
        #expect(response.payload == payload)
    }

    @Test("a call waiting for a stream slot still ends DEADLINE_EXCEEDED at its deadline")
    func deadlineWhileWaitingForSlot() async throws {
        var settings = ConnectionSettings()
        settings.maxConcurrentStreams = 1
        let transport = self.transport(server: settings)
        // The occupant holds the one slot once its call is open (opened here, not in a task that a loaded machine
        // may start after the second call: CI once saw the second call take the slot and succeed).
        let occupant = try await transport.makeCall(TestMethods.sleep, metadata: Metadata(), deadline: nil)
        try await occupant.send(TestMessage(1).serializedBytes(), endStream: true)
        let code = await Self.code {
            _ = try await transport.unary(
                TestMethods.echo, request: TestMessage(2), responseType: TestMessage.self,
                deadline: .now + .milliseconds(50))
        }
        #expect(code == .deadlineExceeded)
        occupant.cancel()
        #expect(await Self.code { _ = try await occupant.receive() } == .cancelled)
        occupant.finish()
    }
}

/// Deadline timers that never fire, counting how many were set and how many were stopped.
final class RecordingTimers: CallTimers {
    private let counts = Mutex((scheduled: 0, cancelled: 0))

    var scheduled: Int { self.counts.withLock { $0.scheduled } }
    var cancelled: Int { self.counts.withLock { $0.cancelled } }

    func schedule(at deadline: ContinuousClock.Instant, _ work: @escaping @Sendable () -> Void) -> any CallTimer {
        self.counts.withLock { $0.scheduled += 1 }
        return Timer(owner: self)
    }

    struct Timer: CallTimer {
        let owner: RecordingTimers
        func cancel() { self.owner.counts.withLock { $0.cancelled += 1 } }
    }
}
