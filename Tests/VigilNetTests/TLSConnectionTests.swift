// Connections end to end over loopback TLS: bytes intact in small and large amounts, many connections at once,
// backpressure, half-close, and every way a peer can misbehave ending in exactly one `connectionClosed`.
import Synchronization
import Testing
import VigilNet
import VigilPOSIX
import VigilTesting

/// Streams `payload` in random chunk sizes, writing only while the connection is writable.
private final class StreamingClient: ConnectionHandler {
    let log: ConnectionLog
    let payload: [UInt8]
    var offset = 0
    var generator: SplitMix64
    let closeOutputWhenDone: Bool
    let pauseReading: Bool

    init(
        log: ConnectionLog,
        payload: [UInt8],
        seed: UInt64,
        closeOutputWhenDone: Bool = false,
        pauseReading: Bool = false
    ) {
        self.log = log
        self.payload = payload
        self.generator = SplitMix64(state: seed)
        self.closeOutputWhenDone = closeOutputWhenDone
        self.pauseReading = pauseReading
    }

    func connectionActive(_ connection: TLSConnection) {
        self.log.state.withLock { $0.active = true }
        if self.pauseReading {
            connection.isReadingEnabled = false
        }
        self.pump(connection)
    }

    private func pump(_ connection: TLSConnection) {
        while self.offset < self.payload.count && connection.isWritable {
            let size = min(Int.random(in: 1...70_000, using: &self.generator), self.payload.count - self.offset)
            connection.write(self.payload[self.offset..<(self.offset + size)])
            self.offset += size
        }
        if self.offset == self.payload.count && self.closeOutputWhenDone {
            connection.closeOutput()
        }
    }

    func writabilityChanged(_ connection: TLSConnection) {
        if connection.isWritable { self.pump(connection) }
    }

    func received(_ plaintext: [UInt8], on connection: TLSConnection) {
        self.log.state.withLock { $0.received += plaintext }
    }

    func inputClosed(_ connection: TLSConnection) {
        self.log.state.withLock { $0.inputClosed = true }
        connection.close()
    }

    func connectionClosed(_ connection: TLSConnection, error: ConnectionError?) {
        self.log.state.withLock {
            $0.closedCount += 1
            $0.error = error
        }
    }
}

extension LoopbackTests {
    @Suite("TLSConnection over loopback")
    struct TLSConnectionTests {
        @Test("echoes one message and closes cleanly on both sides")
        func echoOneMessage() async throws {
            let server = try await EchoServer()
            let log = ConnectionLog()
            let message = Array("hello, vigil".utf8)
            let client = try await server.connectClient(log: log) { $0.write(message) }
            #expect(try await client.eventLoop.submit { client.negotiatedApplicationProtocol } == "vigil/1")
            try await eventually("the echo") { log.receivedCount >= message.count }
            #expect(log.received == message)
            client.eventLoop.execute { client.close() }
            try await eventually("both sides to close") {
                log.isClosed && server.logs.all.allSatisfy(\.isClosed) && server.server.connectionCount == 0
            }
            #expect(log.closedCount == 1 && log.errorCode == nil)
            #expect(server.logs.all.count == 1)
            #expect(server.logs.all.allSatisfy { $0.closedCount == 1 && $0.errorCode == nil })
            await server.shutdown()
        }

        @Test("echoes 8 MiB written in random chunk sizes with every byte intact")
        func echoEightMebibytes() async throws {
            let server = try await EchoServer()
            let payload = randomBytes(8 << 20, seed: 7)
            let log = ConnectionLog()
            _ = try TCPClient.startConnecting(
                to: server.address, tls: server.tls.client, serverName: "127.0.0.1", on: server.group.next()
            ) { _ in StreamingClient(log: log, payload: payload, seed: 11) }
            try await eventually("8 MiB to come back", timeout: .seconds(60)) {
                log.receivedCount >= payload.count || log.isClosed
            }
            #expect(log.receivedCount == payload.count)
            #expect(log.received == payload)
            #expect(log.errorCode == nil)
            await server.shutdown()
        }

        @Test("pushes back: a client that stops reading makes the server stop reading, and both resume intact")
        func backpressure() async throws {
            let server = try await EchoServer()
            // Larger than what loopback's socket buffers absorb on both sides (several MiB each way).
            let payload = randomBytes(32 << 20, seed: 13)
            let log = ConnectionLog()
            let client = try TCPClient.startConnecting(
                to: server.address, tls: server.tls.client, serverName: "127.0.0.1", on: server.group.next()
            ) { _ in StreamingClient(log: log, payload: payload, seed: 17, pauseReading: true) }
            // Loopback's receive buffers grow while they fill, so the server may flap between writable and not for a
            // while; wait for the steady state: nothing read for 200 ms, the server unwritable, the client unwritable.
            try await eventually("everything to stall", timeout: .seconds(60)) {
                let before = server.logs.all.first?.receivedCount
                try await Task.sleep(for: .milliseconds(200))
                let clientStalled = try await client.eventLoop.submit { !client.isWritable }
                return clientStalled && server.logs.all.first?.writability.last == false
                    && server.logs.all.first?.receivedCount == before
            }
            #expect(log.receivedCount == 0)
            #expect((server.logs.all.first?.receivedCount ?? 0) < payload.count)
            client.eventLoop.execute { client.isReadingEnabled = true }
            try await eventually("32 MiB to come back", timeout: .seconds(60)) {
                log.receivedCount >= payload.count || log.isClosed
            }
            #expect(log.received == payload)
            let changes = server.logs.all.first?.writability ?? []
            #expect(changes.first == false && changes.last == true)
            await server.shutdown()
        }

        @Test("half-closes: the server sees end of input, answers everything, and both sides close without error")
        func halfClose() async throws {
            let server = try await EchoServer()
            let payload = randomBytes(300_000, seed: 3)
            let log = ConnectionLog()
            _ = try TCPClient.startConnecting(
                to: server.address, tls: server.tls.client, serverName: "127.0.0.1", on: server.group.next()
            ) { _ in StreamingClient(log: log, payload: payload, seed: 5, closeOutputWhenDone: true) }
            try await eventually("the client to close") { log.isClosed }
            #expect(log.received == payload)
            #expect(log.errorCode == nil && log.closedCount == 1)
            try await eventually("the server to close") { server.logs.all.allSatisfy(\.isClosed) }
            #expect(server.logs.all.allSatisfy { $0.errorCode == nil && $0.closedCount == 1 })
            await server.shutdown()
        }

        @Test("serves 200 client connections echoing at once")
        func manyConnections() async throws {
            let server = try await EchoServer()
            let count = 200
            let logs = (0..<count).map { _ in ConnectionLog() }
            let payloads = (0..<count).map { randomBytes(16 * 1024 + $0, seed: UInt64($0)) }
            for index in 0..<count {
                let log = logs[index]
                let payload = payloads[index]
                _ = try TCPClient.startConnecting(
                    to: server.address, tls: server.tls.client, serverName: "127.0.0.1", on: server.group.next()
                ) { _ in StreamingClient(log: log, payload: payload, seed: UInt64(index)) }
            }
            try await eventually("every echo", timeout: .seconds(60)) {
                zip(logs, payloads).allSatisfy { $0.receivedCount >= $1.count || $0.isClosed }
            }
            for (log, payload) in zip(logs, payloads) {
                #expect(log.received == payload)
                #expect(!log.isClosed)
            }
            #expect(server.server.connectionCount == count)
            await server.shutdown()
            #expect(logs.allSatisfy { $0.closedCount == 1 })
        }

        @Test("closes a peer that sends plaintext to the TLS port, and keeps serving good clients")
        func garbageClient() async throws {
            let server = try await EchoServer()
            let peer = try await RawPeer(connectingTo: server.address)
            try peer.send(Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
            _ = try await peer.readUntilClosed()
            try await eventually("the server to drop it") { server.logs.all.first?.isClosed == true }
            #expect(server.logs.all.first?.errorCode == .tls)
            #expect(server.logs.all.first?.closedCount == 1)

            let log = ConnectionLog()
            _ = try await server.connectClient(log: log) { $0.write([1, 2, 3]) }
            try await eventually("the echo") { log.receivedCount >= 3 }
            #expect(log.received == [1, 2, 3])
            await server.shutdown()
        }

        @Test("closes a peer that never finishes its handshake once the handshake timeout passes")
        func handshakeTimeout() async throws {
            let server = try await EchoServer(options: TLSConnection.Options(handshakeTimeout: .milliseconds(300)))
            let clock = ContinuousClock()
            let start = clock.now
            let peer = try await RawPeer(connectingTo: server.address)
            try peer.send([0x16, 0x03, 0x01])  // the start of a record header, then silence
            _ = try await peer.readUntilClosed()
            #expect(clock.now - start >= .milliseconds(250))
            try await eventually("the server to log it") { server.logs.all.first?.isClosed == true }
            #expect(server.logs.all.first?.errorCode == .handshakeTimeout)
            #expect(server.server.connectionCount == 0)
            await server.shutdown()
        }

        @Test("frees the server's connection when the peer vanishes mid-stream")
        func vanishingPeer() async throws {
            let server = try await EchoServer()
            let log = ConnectionLog()
            let client = try await server.connectClient(log: log) { $0.write(randomBytes(100_000, seed: 1)) }
            try await eventually("the server to read") { (server.logs.all.first?.receivedCount ?? 0) > 0 }
            client.eventLoop.execute { client.abort() }
            try await eventually("the server to notice") {
                server.logs.all.first?.isClosed == true && server.server.connectionCount == 0
            }
            let code = server.logs.all.first?.errorCode
            #expect(code == .io || code == .unexpectedEndOfStream)
            #expect(server.logs.all.first?.closedCount == 1)
            #expect(log.closedCount == 1)
            await server.shutdown()
        }

        @Test("reports a refused connect as connectFailed")
        func refusedConnect() async throws {
            let tls = try TestTLS()
            let group = try EventLoopGroup(loopCount: 1)
            let listener = try Socket.listening(on: .ipv4Loopback(port: 0))
            let address = try listener.localAddress()
            try listener.close()
            let error = await #expect(throws: ConnectionError.self) {
                _ = try await TCPClient.connect(
                    to: address, tls: tls.client, serverName: "127.0.0.1", on: group.next()
                ) { _ in RecordingHandler(log: ConnectionLog()) }
            }
            #expect(error?.code == .connectFailed)
            await group.shutdown()
        }
    }
}
