// Hostile clients against the real socket server (the in-process tests cannot see these): a slowloris holding every
// connection slot with handshakes it never finishes, and the control-frame and rapid-reset floods answered with
// GOAWAY ENHANCE_YOUR_CALM, with every handler the reset streams started actually stopped.
import Testing
import VigilNet
import VigilPOSIX
import VigilRPC
import VigilTLS
import VigilTesting

extension LoopbackTests {
    @Suite("Hostile clients on loopback TLS")
    struct HostileClientNetTests {
        /// The frames a hostile client sends after the handshake: preface, SETTINGS, the ACK, then `frames`.
        static func script(_ frames: [Frame]) throws -> [UInt8] {
            var bytes: [UInt8] = []
            FrameEncoder.writePreface(into: &bytes)
            let encoder = FrameEncoder()
            try encoder.encode(.settings(.defaults), into: &bytes)
            try encoder.encode(.settingsAck, into: &bytes)
            for frame in frames { try encoder.encode(frame, into: &bytes) }
            return bytes
        }

        /// Connects, writes `bytes` at once, waits for the server to close, and returns the frames it sent.
        static func attack(_ network: RPCTestServer, _ bytes: [UInt8]) async throws -> [Frame] {
            let log = ConnectionLog()
            _ = try await TCPClient.connect(
                to: network.server.localAddress, tls: network.tls.client, serverName: "127.0.0.1",
                on: network.group.next()
            ) { _ in RecordingHandler(log: log) { $0.write(bytes) } }
            try await eventually("the server to close the offender") { log.isClosed }
            var decoder = FrameDecoder()
            decoder.feed(log.received)
            var frames: [Frame] = []
            while let frame = try decoder.nextFrame() { frames.append(frame) }
            return frames
        }

        /// A TCP peer the server refuses: it resets the socket, which the connect itself may already report.
        static func connectAndExpectRefusal(_ network: RPCTestServer) async {
            do {
                let peer = try await RawPeer(connectingTo: network.server.localAddress)
                _ = try await peer.readUntilClosed()
            } catch {
                // Reset before the connect finished: refused all the same.
            }
        }

        static func goAwayCode(_ frames: [Frame]) -> GoAwayCode? {
            for case .goAway(let goAway) in frames { return goAway.code }
            return nil
        }

        @Test("at the connection limit, a newcomer evicts the oldest unfinished handshake instead of being refused")
        func slowlorisGivesWay() async throws {
            let record = NetShared(NetRecord())
            let network = try await RPCTestServer(router: netRouter(record)) {
                $0.maxConnections = 4
                $0.handshakeTimeout = .seconds(60)
            }
            // Four TCP peers that never say a word hold every slot in the handshake phase.
            var peers: [RawPeer] = []
            for _ in 0..<4 {
                peers.append(try await RawPeer(connectingTo: network.server.localAddress))
            }
            try await eventually("the server to hold four connections") { network.server.connectionCount == 4 }
            // Older than any honest handshake (a quarter of the timeout, at most 1 s): now they may be evicted.
            try await Task.sleep(for: .milliseconds(1100))

            let connection = try await network.connect()
            let echo = try await connection.unary(
                NetMethods.echo, request: RPCTestMessage(7), responseType: RPCTestMessage.self)
            #expect(echo.number == 7)
            #expect(network.server.rejectedConnectionCount == 0)
            #expect(network.server.connectionCount <= 4)
            // The first silent peer made room; the others still wait for their timeout.
            _ = try await peers[0].readUntilClosed()
            await connection.close()
            await network.shutdown()
        }

        @Test("a ClientHello trickled a byte at a time is cut off at the handshake timeout, not reset by each byte")
        func trickledHandshake() async throws {
            let record = NetShared(NetRecord())
            let network = try await RPCTestServer(router: netRouter(record)) {
                $0.handshakeTimeout = .milliseconds(600)
            }
            let session = try TLSSession(context: network.tls.client, serverName: "127.0.0.1")
            try session.handshake()
            let hello = session.takeCiphertext()
            let peer = try await RawPeer(connectingTo: network.server.localAddress)
            let start = ContinuousClock.now
            var index = 0
            // One byte every 50 ms: each arrives well within any per-read timeout, the whole never completes.
            while network.server.connectionCount > 0 && index < hello.count && ContinuousClock.now - start < .seconds(5)
            {
                try? peer.send([hello[index]])
                index += 1
                try await Task.sleep(for: .milliseconds(50))
            }
            _ = try await peer.readUntilClosed()
            let elapsed = ContinuousClock.now - start
            #expect(elapsed < .seconds(2), "closed after \(elapsed)")
            #expect(index < hello.count)
            await network.shutdown()
        }

        @Test("at the limit, a handshake younger than the eviction age is not evicted: the newcomer is refused")
        func youngHandshakesStay() async throws {
            let record = NetShared(NetRecord())
            let network = try await RPCTestServer(router: netRouter(record)) {
                $0.maxConnections = 1
                $0.handshakeTimeout = .seconds(60)
            }
            let silent = try await RawPeer(connectingTo: network.server.localAddress)
            try await eventually("the server to hold the silent peer") { network.server.connectionCount == 1 }
            await Self.connectAndExpectRefusal(network)
            #expect(network.server.rejectedConnectionCount == 1)
            #expect(network.server.connectionCount == 1)
            _ = silent
            await network.shutdown()
        }

        @Test("at the limit with every connection established, a newcomer is still refused at once")
        func establishedAreNotEvicted() async throws {
            let record = NetShared(NetRecord())
            let network = try await RPCTestServer(router: netRouter(record)) { $0.maxConnections = 2 }
            let first = try await network.connect()
            let second = try await network.connect()
            for connection in [first, second] {
                _ = try await connection.unary(
                    NetMethods.echo, request: RPCTestMessage(1), responseType: RPCTestMessage.self)
            }
            await Self.connectAndExpectRefusal(network)
            #expect(network.server.rejectedConnectionCount == 1)
            _ = try await first.unary(NetMethods.echo, request: RPCTestMessage(2), responseType: RPCTestMessage.self)
            await first.close()
            await second.close()
            await network.shutdown()
        }

        @Test("a PING flood gets GOAWAY ENHANCE_YOUR_CALM after about 1000 PONGs; other clients are served")
        func pingFlood() async throws {
            let record = NetShared(NetRecord())
            let network = try await RPCTestServer(router: netRouter(record))
            let frames = try await Self.attack(network, Self.script((0..<3000).map { .ping(UInt64($0)) }))
            let pongs = frames.filter { if case .pong = $0 { true } else { false } }.count
            #expect(Self.goAwayCode(frames) == .enhanceYourCalm)
            #expect((1000...1050).contains(pongs), "\(pongs) PONGs")
            let connection = try await network.connect()
            _ = try await connection.unary(
                NetMethods.echo, request: RPCTestMessage(3), responseType: RPCTestMessage.self)
            await connection.close()
            await network.shutdown()
        }

        @Test("rapid reset: streams opened and reset get GOAWAY ENHANCE_YOUR_CALM, and every handler is stopped")
        func rapidReset() async throws {
            let record = NetShared(NetRecord())
            let network = try await RPCTestServer(router: netRouter(record))
            let headers = CallHeaders(methodPath: NetMethods.sleep.path)
            var frames: [Frame] = []
            for index in 0..<1500 {
                let id = StreamID(UInt32(2 * index + 1))
                frames += [.headers(id, headers, endStream: false), .reset(id, .cancelled)]
            }
            let answer = try await Self.attack(network, Self.script(frames))
            #expect(Self.goAwayCode(answer) == .enhanceYourCalm)
            // Each handler (a 600 s sleep) was cancelled with its stream, not left to run out.
            try await eventually("every handler to stop") { network.server.activeHandlerCount == 0 }
            #expect(network.server.openStreamCount == 0)
            await network.shutdown()
        }
    }
}
