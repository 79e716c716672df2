// What only the network transport has: many TCP connections, a peer that speaks garbage after TLS or vanishes,
// GOAWAY on a live connection, keepalive and idle limits, and memory held bounded against a fast sender.
import Testing
import VigilNet
import VigilRPC
import VigilTesting
import VigilWire

extension LoopbackTests {
    @Suite("RPC server on loopback TLS")
    struct RPCServerTests {
        @Test("50 concurrent connections each complete calls")
        func manyConnections() async throws {
            let record = NetShared(NetRecord())
            let network = try await RPCTestServer(router: netRouter(record))
            let total = try await withThrowingTaskGroup(of: UInt64.self) { group in
                for index in 1...50 {
                    group.addTask {
                        let connection = try await network.connect()
                        var sum: UInt64 = 0
                        for round in 0..<4 {
                            sum += try await connection.unary(
                                NetMethods.echo, request: RPCTestMessage(UInt64(index * 10 + round)),
                                responseType: RPCTestMessage.self
                            ).number
                        }
                        await connection.close()
                        return sum
                    }
                }
                return try await group.reduce(0, +)
            }
            // Connection i sends 10i + 0...3, which sum to 40i + 6.
            let expected: UInt64 = (1...50).reduce(0) { (sum: UInt64, index: Int) in sum + UInt64(index * 40 + 6) }
            #expect(total == expected)
            await network.shutdown()
        }

        /// Buffers are kept while a connection is busy (freeing them on every read had OpenSSL wipe them each time)
        /// and given back once it goes quiet, at the server's tick: what keeps 10,000 idle connections small.
        @Test("a connection that received 1 MiB gives its TLS buffers back once quiet for a tick")
        func quietConnectionReleasesTLSBuffers() async throws {
            let record = NetShared(NetRecord())
            let network = try await RPCTestServer(router: netRouter(record))
            let connection = try await network.connect()
            let call = try await connection.makeCall(NetMethods.slowSink, metadata: Metadata(), deadline: nil)
            let message = [UInt8](repeating: 7, count: 64 * 1024)
            for index in 0..<16 {
                try await call.send(message, endStream: index == 15)
            }
            let reply = try await call.receive()
            call.finish()
            #expect(try reply.map { try RPCTestMessage(serializedBytes: $0).number } == 16)
            try await eventually("the quiet connection's TLS buffers to be freed") {
                await network.server.retainedTLSBufferBytes() <= 8192
            }
            await network.shutdown()
        }

        @Test("only largeWindowConnections connections at a time get the large windows; a closed one frees its slot")
        func largeWindowSlots() async throws {
            let record = NetShared(NetRecord())
            let network = try await RPCTestServer(router: netRouter(record)) { $0.largeWindowConnections = 1 }
            func settled() async throws -> RPCClientConnection {
                let connection = try await network.connect()
                // A call settles the SETTINGS exchange.
                _ = try await connection.unary(
                    NetMethods.echo, request: RPCTestMessage(1), responseType: RPCTestMessage.self)
                return connection
            }
            let large = network.server.configuration.settings
            let first = try await settled()
            let second = try await settled()
            #expect(first.serverSettings?.initialStreamWindow == large.initialStreamWindow)
            #expect(first.serverSettings?.initialConnectionWindow == large.initialConnectionWindow)
            #expect(second.serverSettings?.initialStreamWindow == ConnectionSettings.defaults.initialStreamWindow)
            #expect(
                second.serverSettings?.initialConnectionWindow == ConnectionSettings.defaults.initialConnectionWindow)
            #expect(network.server.largeWindowConnectionCount == 1)
            // Both still carry calls larger than the small window: credit comes back as the handler reads.
            let big = try await second.makeCall(NetMethods.slowSink, metadata: Metadata(), deadline: nil)
            for index in 0..<4 {
                try await big.send([UInt8](repeating: 1, count: 100_000), endStream: index == 3)
            }
            #expect(try await big.receive().map { try RPCTestMessage(serializedBytes: $0).number } == 4)
            big.finish()

            await first.close()
            try await eventually("the closed connection's slot to be free") {
                network.server.largeWindowConnectionCount == 0
            }
            let third = try await settled()
            #expect(third.serverSettings?.initialStreamWindow == large.initialStreamWindow)
            await second.close()
            await third.close()
            await network.shutdown()
        }

        @Test("a connection never runs more streams than max concurrent streams; callers past it wait their turn")
        func maxConcurrentStreams() async throws {
            let record = NetShared(NetRecord())
            let network = try await RPCTestServer(router: netRouter(record)) { $0.maxConcurrentStreams = 2 }
            let connection = try await network.connect()
            let server = network.server
            // The first call settles SETTINGS, so the client knows the limit before the burst.
            _ = try await connection.unary(
                NetMethods.echo, request: RPCTestMessage(1), responseType: RPCTestMessage.self)
            let worst = NetShared(0)
            let sampler = Task {
                while !Task.isCancelled {
                    let open = server.openStreamCount
                    worst.update { $0 = max($0, open) }
                    try? await Task.sleep(for: .milliseconds(1))
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 1...20 {
                    group.addTask {
                        _ = try await connection.serverStream(
                            NetMethods.count, request: RPCTestMessage(UInt64(200 + index)),
                            responseType: RPCTestMessage.self
                        ) { responses in
                            for try await _ in responses {}
                        }
                    }
                }
                try await group.waitForAll()
            }
            sampler.cancel()
            #expect(worst.get() <= 2)
            await network.shutdown()
        }

        @Test("garbage after a valid TLS handshake gets the preface, GOAWAY PROTOCOL_ERROR and a close; server lives")
        func badPreface() async throws {
            let record = NetShared(NetRecord())
            let network = try await RPCTestServer(router: netRouter(record))
            let log = ConnectionLog()
            _ = try await TCPClient.connect(
                to: network.server.localAddress, tls: network.tls.client, serverName: "127.0.0.1",
                on: network.group.next()
            ) { _ in RecordingHandler(log: log) { $0.write(Array("GET / HTTP/1.1\r\n\r\n".utf8)) } }
            try await eventually("the server to close") { log.isClosed }
            var decoder = FrameDecoder()
            decoder.feed(log.received)
            var frames: [Frame] = []
            while let frame = try decoder.nextFrame() { frames.append(frame) }
            let goAway = frames.compactMap { frame -> GoAway? in
                if case .goAway(let goAway) = frame { return goAway }
                return nil
            }
            #expect(goAway.first?.code == .protocolError)
            let connection = try await network.connect()
            let echo = try await connection.unary(
                NetMethods.echo, request: RPCTestMessage(5), responseType: RPCTestMessage.self)
            #expect(echo.number == 5)
            await network.shutdown()
        }

        @Test("a TLS peer that never sends the preface and SETTINGS is sent GOAWAY SETTINGS_TIMEOUT and closed")
        func settingsTimeout() async throws {
            let record = NetShared(NetRecord())
            let network = try await RPCTestServer(router: netRouter(record)) { $0.handshakeTimeout = .milliseconds(200) }
            let log = ConnectionLog()
            _ = try await TCPClient.connect(
                to: network.server.localAddress, tls: network.tls.client, serverName: "127.0.0.1",
                on: network.group.next()
            ) { _ in RecordingHandler(log: log) }
            try await eventually("the server to close") { log.isClosed }
            var decoder = FrameDecoder()
            decoder.feed(log.received)
            var codes: [GoAwayCode] = []
            while let frame = try decoder.nextFrame() {
                if case .goAway(let goAway) = frame { codes.append(goAway.code) }
            }
            #expect(codes == [.settingsTimeout])
            await network.shutdown()
        }

        @Test("a client that vanishes mid-stream has its stream freed and its handler stopped")
        func vanishingPeer() async throws {
            let record = NetShared(NetRecord())
            let network = try await RPCTestServer(router: netRouter(record))
            let connection = try await network.connect()
            let received = NetShared(0)
            let task = Task {
                await statusCode {
                    try await connection.serverStream(
                        NetMethods.forever, request: RPCTestMessage(1), responseType: RPCTestMessage.self
                    ) { responses in
                        for try await _ in responses { received.update { $0 += 1 } }
                    }
                }
            }
            try await eventually("the stream to run") { received.get() >= 10 }
            #expect(network.server.openStreamCount == 1)
            connection.abort()
            #expect(await task.value == .unavailable)
            let server = network.server
            try await eventually("the server to free the stream") {
                server.openStreamCount == 0 && server.activeHandlerCount == 0 && server.connectionCount == 0
            }
            #expect(record.get().stopped["forever"] != nil)
            await network.shutdown()
        }

        @Test("GOAWAY during an open stream: the stream finishes, a new call on that connection fails UNAVAILABLE")
        func goAwayDuringStream() async throws {
            let record = NetShared(NetRecord())
            let network = try await RPCTestServer(router: netRouter(record))
            let connection = try await network.connect()
            let server = network.server
            let last = try await connection.bidiStream(
                NetMethods.pingPong, requestType: RPCTestMessage.self, responseType: RPCTestMessage.self
            ) { writer, responses in
                var iterator = responses.makeAsyncIterator()
                try await writer.write(RPCTestMessage(1))
                _ = try await iterator.next()
                server.goAwayAll()
                try await eventually("the GOAWAY to arrive") { !connection.isAvailable }
                let code = await statusCode {
                    _ = try await connection.unary(
                        NetMethods.echo, request: RPCTestMessage(1), responseType: RPCTestMessage.self)
                }
                #expect(code == .unavailable)
                try await writer.write(RPCTestMessage(10))
                return try await iterator.next()?.number
            }
            #expect(last == 11)
            try await eventually("the drained connection to close") { connection.isClosed }
            let fresh = try await network.connect()
            let echo = try await fresh.unary(
                NetMethods.echo, request: RPCTestMessage(3), responseType: RPCTestMessage.self)
            #expect(echo.number == 3)
            await network.shutdown()
        }

        @Test("shutdown lets an open stream finish, refuses new calls and connections, then returns")
        func gracefulShutdown() async throws {
            let record = NetShared(NetRecord())
            let network = try await RPCTestServer(router: netRouter(record))
            let connection = try await network.connect()
            let server = network.server
            let shutdown = NetShared<Task<Void, Never>?>(nil)
            let last = try await connection.bidiStream(
                NetMethods.pingPong, requestType: RPCTestMessage.self, responseType: RPCTestMessage.self
            ) { writer, responses in
                var iterator = responses.makeAsyncIterator()
                try await writer.write(RPCTestMessage(1))
                _ = try await iterator.next()
                shutdown.update { $0 = Task { await server.shutdown() } }
                try await eventually("the GOAWAY to arrive") { !connection.isAvailable }
                let code = await statusCode {
                    _ = try await connection.unary(
                        NetMethods.echo, request: RPCTestMessage(1), responseType: RPCTestMessage.self)
                }
                #expect(code == .unavailable)
                try await writer.write(RPCTestMessage(20))
                return try await iterator.next()?.number
            }
            #expect(last == 21)
            await shutdown.get()?.value
            #expect(server.connectionCount == 0)
            #expect(server.activeHandlerCount == 0)
            try await eventually("the client to see the close") { connection.isClosed }
            await #expect(throws: ConnectionError.self) { _ = try await network.connect() }
            await network.group.shutdown()
        }

        @Test("an idle connection is sent GOAWAY and closed; a peer that ignores PINGs is dropped")
        func idleAndKeepalive() async throws {
            let record = NetShared(NetRecord())
            let network = try await RPCTestServer(router: netRouter(record)) {
                $0.idleTimeout = .milliseconds(150)
                $0.keepaliveInterval = nil
            }
            let connection = try await network.connect()
            _ = try await connection.unary(
                NetMethods.echo, request: RPCTestMessage(1), responseType: RPCTestMessage.self)
            try await eventually("the idle connection to close") { connection.isClosed }
            #expect(!connection.isAvailable)

            await network.shutdown()

            // A TLS peer that sends a valid preface and SETTINGS, then never answers anything (no idle limit here,
            // so only the unanswered keepalive PING can end it).
            let pinging = try await RPCTestServer(router: netRouter(record)) {
                $0.idleTimeout = nil
                $0.keepaliveInterval = .milliseconds(60)
                $0.keepaliveTimeout = .milliseconds(60)
            }
            let log = ConnectionLog()
            var hello: [UInt8] = []
            FrameEncoder.writePreface(into: &hello)
            try FrameEncoder().encode(.settings(.defaults), into: &hello)
            let bytes = hello
            _ = try await TCPClient.connect(
                to: pinging.server.localAddress, tls: pinging.tls.client, serverName: "127.0.0.1",
                on: pinging.group.next()
            ) { _ in RecordingHandler(log: log) { $0.write(bytes) } }
            try await eventually("the silent peer to be dropped") { log.isClosed }
            var decoder = FrameDecoder()
            decoder.feed(log.received)
            var pinged = false
            while let frame = try decoder.nextFrame() {
                if case .ping = frame { pinged = true }
            }
            #expect(pinged)
            await pinging.shutdown()
        }
    }
}
