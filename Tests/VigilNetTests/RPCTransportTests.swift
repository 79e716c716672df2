// The RPC behaviours every transport must share, each run twice: in-process and over real loopback TLS. The bodies
// only see `any RPCClient`, so the network transport is held to exactly what the in-process one promises.
import Testing
import VigilNet
import VigilPOSIX
import VigilRPC
import VigilTesting
import VigilWire

extension LoopbackTests {
    @Suite("RPC over both transports")
    struct RPCTransportTests {
        static let kinds = RPCTransportKind.allCases

        /// The 100k messages over the network; in-process, VigilRPCTests already streams 100k each way, so
        /// its row here only checks the shared body agrees (and keeps the file fast in debug builds).
        static func streamCount(_ kind: RPCTransportKind) -> Int { kind == .loopbackTLS ? 100_000 : 10_000 }

        @Test("a unary call echoes its request", arguments: kinds)
        func unary(kind: RPCTransportKind) async throws {
            let fixture = try await RPCFixture(kind)
            let response = try await fixture.client.unary(
                NetMethods.echo, request: RPCTestMessage(42, payload: [1, 2, 3]), responseType: RPCTestMessage.self)
            #expect(response == RPCTestMessage(42, payload: [1, 2, 3]))
            await fixture.shutdown()
        }

        @Test("a server stream of 100k messages arrives whole and in order", arguments: kinds)
        func serverStream(kind: RPCTransportKind) async throws {
            let fixture = try await RPCFixture(kind)
            let count = try await fixture.client.serverStream(
                NetMethods.count, request: RPCTestMessage(UInt64(Self.streamCount(kind))),
                responseType: RPCTestMessage.self
            ) { responses in
                var expected: UInt64 = 1
                for try await response in responses {
                    guard response.number == expected else { throw RPCError(code: .dataLoss, message: "order") }
                    expected += 1
                }
                return expected - 1
            }
            #expect(count == UInt64(Self.streamCount(kind)))
            await fixture.shutdown()
        }

        @Test("a client stream of 100k messages arrives whole and in order", arguments: kinds)
        func clientStream(kind: RPCTransportKind) async throws {
            let fixture = try await RPCFixture(kind)
            let n = UInt64(Self.streamCount(kind))
            let response = try await fixture.client.clientStream(
                NetMethods.sum, requestType: RPCTestMessage.self, responseType: RPCTestMessage.self
            ) { writer in
                for number in 1...n { try await writer.write(RPCTestMessage(number)) }
            }
            #expect(response.number == n * (n + 1) / 2)
            await fixture.shutdown()
        }

        @Test("bidirectional ping-pong alternates requests and responses", arguments: kinds)
        func bidiPingPong(kind: RPCTransportKind) async throws {
            let fixture = try await RPCFixture(kind)
            let last = try await fixture.client.bidiStream(
                NetMethods.pingPong, requestType: RPCTestMessage.self, responseType: RPCTestMessage.self
            ) { writer, responses in
                var iterator = responses.makeAsyncIterator()
                var value: UInt64 = 0
                for _ in 0..<500 {
                    try await writer.write(RPCTestMessage(value))
                    guard let reply = try await iterator.next() else { throw RPCError(code: .dataLoss, message: "") }
                    #expect(reply.number == value + 1)
                    value = reply.number + 1
                }
                return value
            }
            #expect(last == 1000)
            await fixture.shutdown()
        }

        @Test("200 concurrent calls share one connection (past max concurrent streams: callers wait)", arguments: kinds)
        func concurrentCalls(kind: RPCTransportKind) async throws {
            let fixture = try await RPCFixture(kind)
            let client = fixture.client
            let results = try await withThrowingTaskGroup(of: UInt64.self) { group in
                for index in 1...200 {
                    group.addTask {
                        try await client.unary(
                            NetMethods.echo, request: RPCTestMessage(UInt64(index)), responseType: RPCTestMessage.self
                        ).number
                    }
                }
                return try await group.reduce(into: Set<UInt64>()) { $0.insert($1) }
            }
            #expect(results == Set(1...200))
            await fixture.shutdown()
        }

        @Test("an expired deadline ends the call DEADLINE_EXCEEDED on both sides", arguments: kinds)
        func deadline(kind: RPCTransportKind) async throws {
            let fixture = try await RPCFixture(kind)
            let started = ContinuousClock.now
            let code = await statusCode {
                _ = try await fixture.client.unary(
                    NetMethods.sleep, request: RPCTestMessage(1), responseType: RPCTestMessage.self,
                    deadline: .now + .milliseconds(100))
            }
            #expect(code == .deadlineExceeded)
            // Far under the handler's 600 s sleep, so the deadline ended it; generous for a loaded CI machine.
            #expect(ContinuousClock.now - started < .seconds(120))
            try await eventually("the handler to stop") { fixture.record.get().stopped["sleep"] != nil }
            #expect(fixture.record.get().stopped["sleep"] == .deadlineExceeded)
            await fixture.shutdown()
        }

        @Test("cancelling the caller's task mid-stream resets the call and stops the handler", arguments: kinds)
        func cancellation(kind: RPCTransportKind) async throws {
            let fixture = try await RPCFixture(kind)
            let client = fixture.client
            let received = NetShared(0)
            let task = Task {
                await statusCode {
                    try await client.serverStream(
                        NetMethods.forever, request: RPCTestMessage(1), responseType: RPCTestMessage.self
                    ) { responses in
                        for try await _ in responses { received.update { $0 += 1 } }
                    }
                }
            }
            try await eventually("some messages") { received.get() >= 10 }
            task.cancel()
            #expect(await task.value == .cancelled)
            try await eventually("the handler to stop") { fixture.record.get().stopped["forever"] != nil }
            #expect(fixture.record.get().stopped["forever"] == .cancelled)
            if let server = fixture.network?.server {
                try await eventually("the server to free the stream") {
                    server.openStreamCount == 0 && server.activeHandlerCount == 0
                }
            }
            await fixture.shutdown()
        }

        @Test("an unknown method ends UNIMPLEMENTED", arguments: kinds)
        func unknownMethod(kind: RPCTransportKind) async throws {
            let fixture = try await RPCFixture(kind)
            let code = await statusCode {
                _ = try await fixture.client.unary(
                    NetMethods.missing, request: RPCTestMessage(1), responseType: RPCTestMessage.self)
            }
            #expect(code == .unimplemented)
            await fixture.shutdown()
        }

        @Test("a message over the server's limit ends RESOURCE_EXHAUSTED and the server still serves", arguments: kinds)
        func oversizedMessage(kind: RPCTransportKind) async throws {
            let fixture = try await RPCFixture(kind) { $0.maxMessageBytes = 1_000 }
            // A first call settles the SETTINGS exchange both ways, so the server enforces its limit from now on.
            _ = try await fixture.client.unary(
                NetMethods.echo, request: RPCTestMessage(1), responseType: RPCTestMessage.self)
            let typed = await statusCode {
                _ = try await fixture.client.unary(
                    NetMethods.echo, request: RPCTestMessage(1, payload: Array(repeating: 9, count: 200_000)),
                    responseType: RPCTestMessage.self)
            }
            #expect(typed == .resourceExhausted)
            // Raw bytes skip the client's own check, so the server's refusal (from the length prefix) is what ends it.
            let call = try await fixture.client.makeCall(NetMethods.echo, metadata: Metadata(), deadline: nil)
            try? await call.send(Array(repeating: 9, count: 200_000), endStream: true)
            let raw = await statusCode { _ = try await call.receive() }
            call.finish()
            #expect(raw == .resourceExhausted)
            let after = try await fixture.client.unary(
                NetMethods.echo, request: RPCTestMessage(7), responseType: RPCTestMessage.self)
            #expect(after.number == 7)
            await fixture.shutdown()
        }

        @Test(
            "64 MiB of messages larger than the stream window, sent to a slow handler, stay bounded at the server",
            arguments: kinds)
        func slowReaderBoundsMemory(kind: RPCTransportKind) async throws {
            let window = RPCServer.Configuration(address: .ipv4Loopback(port: 0), tls: try TestTLS().server)
                .initialStreamWindow
            let fixture = try await RPCFixture(kind)
            let message = [UInt8](repeating: 7, count: 64 * 1024)
            let messages = 1024
            var worst = 0
            let call = try await fixture.client.makeCall(NetMethods.slowSink, metadata: Metadata(), deadline: nil)
            for index in 0..<messages {
                try await call.send(message, endStream: index == messages - 1)
                if index % 8 == 0 { worst = max(worst, fixture.serverBufferedBytes()) }
            }
            let reply = try await call.receive()
            call.finish()
            let count = try reply.map { try RPCTestMessage(serializedBytes: $0).number }
            #expect(count == UInt64(messages))
            #expect(fixture.record.get().sunkBytes == messages * message.count)
            // One stream window (the server's default, 1 MiB) of whole messages, plus the message being reassembled
            // and a frame of undecoded input: a fast sender cannot make the server hold more, whatever the message size.
            let bound = window + 2 * (message.count + 4) + 65_536 + 9
            #expect(worst <= bound, "worst buffered \(worst) bytes, bound \(bound)")
            await fixture.shutdown()
        }
    }
}
