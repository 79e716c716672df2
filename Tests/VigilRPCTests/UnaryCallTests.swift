// Unary calls in few lock rounds: the client's `RPCClient.unaryCall` (three rounds instead of a stream's five) and
// the server's one-step read of a single request and response sent with its trailers. Every way either side can get
// a unary call's message count wrong, and the paths the fast ones leave to the ordinary machinery (waiting for a
// stream slot, messages larger than the window, a half-close that comes later).
import Testing
import VigilRPC
import VigilTesting
import VigilWire

/// A client with only `makeCall`, so its unary calls take `RPCClient`'s default `unaryCall`, through a stream.
private struct StreamOnlyClient: RPCClient {
    let inner: InProcessTransport

    func makeCall(
        _ method: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?
    ) async throws -> any ClientCall {
        try await self.inner.makeCall(method, metadata: metadata, deadline: deadline)
    }
}

@Suite("Unary calls")
struct UnaryCallTests {
    enum Methods {
        static let silent = MethodDescriptor(service: "vigil.test.Unary", method: "Silent", kind: .unary)
        static let twice = MethodDescriptor(service: "vigil.test.Unary", method: "Twice", kind: .unary)
        static let flood = MethodDescriptor(service: "vigil.test.Unary", method: "Flood", kind: .unary)
        static let answerThenFail = MethodDescriptor(
            service: "vigil.test.Unary", method: "AnswerThenFail", kind: .unary)
        static let echo = MethodDescriptor(service: "vigil.test.Unary", method: "Echo", kind: .unary)
        static let hold = MethodDescriptor(service: "vigil.test.Unary", method: "Hold", kind: .unary)
    }

    /// How the flood handler's sending ended, once it did.
    let floodEnded = Shared<Status.Code?>(nil)
    let release = Shared(false)
    let holding = Shared(false)

    func transport(_ settings: ConnectionSettings = .defaults) -> InProcessTransport {
        var router = Router()
        let floodEnded = self.floodEnded
        let release = self.release
        let holding = self.holding
        router.register(Methods.silent) { io, _ in _ = try await io.receive() }
        router.register(Methods.twice) { io, _ in
            _ = try await io.receive()
            try await io.send(TestMessage(1).serializedBytes())
            try await io.send(TestMessage(2).serializedBytes())
        }
        router.register(Methods.flood) { io, _ in
            _ = try await io.receive()
            // A megabyte of responses: far past the client's stream window, so the sender waits for credit that
            // only a reader of the whole stream would give.
            do {
                for number in 1...100 {
                    try await io.send(TestMessage(UInt64(number), payload: [UInt8](repeating: 1, count: 10_000))
                        .serializedBytes())
                }
                floodEnded.update { $0 = .ok }
            } catch {
                floodEnded.update { $0 = (error as? RPCError)?.code ?? .unknown }
                throw error
            }
        }
        router.register(Methods.answerThenFail) { io, _ in
            _ = try await io.receive()
            try await io.send(TestMessage(7).serializedBytes())
            throw RPCError(code: .aborted, message: "changed my mind")
        }
        router.registerUnary(Methods.echo) { (request: TestMessage, _: ServerContext) in request }
        router.registerUnary(Methods.hold) { (request: TestMessage, _: ServerContext) -> TestMessage in
            holding.update { $0 = true }
            _ = await release.wait(until: { $0 })
            return request
        }
        return InProcessTransport(router: router, serverSettings: settings)
    }

    static func code(_ body: () async throws -> Void) async -> (Status.Code?, String) {
        do {
            try await body()
            return (.ok, "")
        } catch let error as RPCError {
            return (error.code, error.message)
        } catch {
            return (nil, "\(error)")
        }
    }

    @Test("no response before OK trailers is INTERNAL, naming the expected message")
    func noResponse() async {
        let transport = self.transport()
        let (code, message) = await Self.code {
            _ = try await transport.unary(Methods.silent, request: TestMessage(1), responseType: TestMessage.self)
        }
        #expect(code == .internal)
        #expect(message.contains("got none"), "\(message)")
    }

    @Test("two responses are INTERNAL")
    func twoResponses() async {
        let transport = self.transport()
        let (code, message) = await Self.code {
            _ = try await transport.unary(Methods.twice, request: TestMessage(1), responseType: TestMessage.self)
        }
        #expect(code == .internal)
        #expect(message.contains("got more"), "\(message)")
    }

    @Test("a server flooding a unary call past the window is answered at its second response, not at the deadline")
    func floodIsCutShort() async {
        let transport = self.transport()
        let started = ContinuousClock.now
        let (code, _) = await Self.code {
            _ = try await transport.unary(
                Methods.flood, request: TestMessage(1), responseType: TestMessage.self,
                deadline: .now + .seconds(600))
        }
        #expect(code == .internal)
        #expect(ContinuousClock.now - started < .seconds(120))
        // The client released the call (RST_STREAM), so the handler's blocked send fails instead of hanging.
        #expect(await self.floodEnded.wait { $0 != nil })
        #expect(self.floodEnded.get() != .ok)
    }

    @Test("a failure after the response wins over it, as for a stream reader")
    func failureAfterResponse() async {
        let transport = self.transport()
        let (code, message) = await Self.code {
            _ = try await transport.unary(
                Methods.answerThenFail, request: TestMessage(1), responseType: TestMessage.self)
        }
        #expect(code == .aborted)
        #expect(message == "changed my mind")
    }

    @Test("with the peer's stream limit reached, a unary call waits for a slot and then sends its request")
    func waitsForSlot() async throws {
        var settings = ConnectionSettings()
        settings.maxConcurrentStreams = 1
        let transport = self.transport(settings)
        let held = Task {
            try await transport.unary(Methods.hold, request: TestMessage(1), responseType: TestMessage.self)
        }
        #expect(await self.holding.wait { $0 })
        let waiting = Task {
            try await transport.unary(Methods.echo, request: TestMessage(2), responseType: TestMessage.self)
        }
        try await Task.sleep(for: .milliseconds(20))
        self.release.update { $0 = true }
        #expect(try await held.value.number == 1)
        #expect(try await waiting.value.number == 2)
    }

    @Test("a request and a response larger than the stream window go out in pieces as credit arrives")
    func requestLargerThanWindow() async throws {
        let transport = self.transport()
        let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let response = try await transport.unary(
            Methods.echo, request: TestMessage(3, payload: payload), responseType: TestMessage.self)
        #expect(response.payload == payload)
    }

    @Test("a unary handler given two requests, or none, before the half-close ends INTERNAL")
    func wrongRequestCount() async throws {
        let transport = self.transport()
        for count in [0, 2, 3] {
            let call = try await transport.makeCall(Methods.echo, metadata: Metadata(), deadline: nil)
            defer { call.finish() }
            for number in 0..<count { try await call.send(TestMessage(UInt64(number)).serializedBytes(), endStream: false) }
            try await call.closeSend()
            let (code, message) = await Self.code { _ = try await call.receive() }
            #expect(code == .internal, "\(count) requests")
            #expect(message.contains(count == 0 ? "got none" : "got more"), "\(message)")
        }
    }

    @Test("a request whose half-close comes later is read once it comes")
    func lateHalfClose() async throws {
        let transport = self.transport()
        let call = try await transport.makeCall(Methods.echo, metadata: Metadata(), deadline: nil)
        defer { call.finish() }
        try await call.send(TestMessage(9).serializedBytes(), endStream: false)
        try await Task.sleep(for: .milliseconds(20))
        try await call.closeSend()
        let response = try #require(try await call.receive())
        #expect(try TestMessage(serializedBytes: response).number == 9)
        #expect(try await call.receive() == nil)
    }

    @Test("a transport with only makeCall gets the same answers through the default unaryCall")
    func defaultUnaryCall() async throws {
        let client = StreamOnlyClient(inner: self.transport())
        let response = try await client.unary(Methods.echo, request: TestMessage(4), responseType: TestMessage.self)
        #expect(response.number == 4)
        for (method, expected) in [(Methods.silent, "got none"), (Methods.twice, "got more"), (Methods.flood, "got more")] {
            let (code, message) = await Self.code {
                _ = try await client.unary(method, request: TestMessage(1), responseType: TestMessage.self)
            }
            #expect(code == .internal, "\(method.path)")
            #expect(message.contains(expected), "\(message)")
        }
        let (code, _) = await Self.code {
            _ = try await client.unary(
                Methods.answerThenFail, request: TestMessage(1), responseType: TestMessage.self)
        }
        #expect(code == .aborted)
    }

    @Test("a task cancelled before its call starts fails CANCELLED")
    func cancelledBeforeStart() async {
        let transport = self.transport()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await Self.code {
                _ = try await transport.unary(Methods.echo, request: TestMessage(1), responseType: TestMessage.self)
            }.0
        }
        #expect(await task.value == .cancelled)
    }
}
