// The byte pump end to end: handshake, data both ways (large payloads included), key updates, close_notify in
// both orders, buffer limits, bad input and idle memory, all between two sessions pumped in memory.
import Testing
@testable import VigilTLS

@Suite("TLSSession")
struct TLSSessionTests {
    @Test("completes a TLS 1.3 handshake and negotiates vigil/1 when both sides use defaults")
    func handshake() throws {
        let certificate = try SelfSignedCertificate()
        let pump = try SessionPump.make(certificate: certificate)
        #expect(pump.client.state == .handshaking)
        #expect(!pump.client.isHandshakeComplete)
        try pump.handshake()
        #expect(pump.client.isHandshakeComplete && pump.server.isHandshakeComplete)
        #expect(pump.client.protocolVersion == "TLSv1.3")
        #expect(pump.server.protocolVersion == "TLSv1.3")
        #expect(pump.client.negotiatedApplicationProtocol == "vigil/1")
        #expect(pump.server.negotiatedApplicationProtocol == "vigil/1")
        #expect(pump.client.peerVerification == .valid)
        #expect(pump.client.peerCertificate?.subject == "/CN=localhost")
        #expect(pump.server.peerCertificate == nil)
        #expect(pump.client.pendingCiphertextCount == 0 && pump.server.pendingCiphertextCount == 0)
    }

    @Test("verifies an IP literal against the certificate's IP SAN when the client dials 127.0.0.1")
    func ipAddress() throws {
        let pump = try SessionPump.make(serverName: "127.0.0.1")
        try pump.handshake()
    }

    @Test("exchanges application data both ways after the handshake")
    func smallMessages() throws {
        let pump = try SessionPump.make()
        try pump.handshake()
        try pump.client.writePlaintext(Array("ping".utf8))
        pump.run()
        #expect(pump.serverReceived == Array("ping".utf8))
        try pump.server.writePlaintext(Array("pong".utf8))
        try pump.server.writePlaintext(Array("!".utf8))
        pump.run()
        #expect(pump.clientReceived == Array("pong!".utf8))
    }

    @Test("moves 1 MiB each way in chunks with every byte intact")
    func largePayload() throws {
        let pump = try SessionPump.make()
        try pump.handshake()
        let upload = SecureRandom.bytes(1 << 20)
        let download = SecureRandom.bytes(1 << 20)
        try Self.send(upload, from: pump.client, pump: pump)
        try Self.send(download, from: pump.server, pump: pump)
        #expect(pump.clientError == nil && pump.serverError == nil)
        #expect(pump.serverReceived.count == upload.count)
        #expect(pump.serverReceived == upload)
        #expect(pump.clientReceived == download)
    }

    @Test("keeps no large buffers once a session that moved 1 MiB goes idle and is told so")
    func idleMemory() throws {
        let pump = try SessionPump.make()
        try pump.handshake()
        try Self.send(SecureRandom.bytes(1 << 20), from: pump.client, pump: pump)
        try Self.send(SecureRandom.bytes(1 << 20), from: pump.server, pump: pump)
        pump.client.releaseIdleBuffers()
        pump.server.releaseIdleBuffers()
        #expect(pump.client.retainedBufferCapacity <= 2 * MemoryBIO.retainedCapacityLimit)
        #expect(pump.server.retainedBufferCapacity <= 2 * MemoryBIO.retainedCapacityLimit)
    }

    /// The server frees record buffers on quiet connections (TLSSession.releaseIdleBuffers); that must never lose a
    /// byte, including when it is asked while a record is only partly fed.
    @Test("releasing idle buffers between, and in the middle of, records loses nothing")
    func releaseIdleBuffers() throws {
        let pump = try SessionPump.make()
        try pump.handshake()
        pump.client.releaseIdleBuffers()
        pump.server.releaseIdleBuffers()
        let first = SecureRandom.bytes(100_000)
        try pump.client.writePlaintext(first)
        let ciphertext = pump.client.takeCiphertext()
        // Half a stream of records: the server holds a partial record when asked to release.
        try pump.server.feedCiphertext(Array(ciphertext[..<(ciphertext.count / 2 + 7)]))
        var received = try pump.server.readPlaintext()
        pump.server.releaseIdleBuffers()
        pump.client.releaseIdleBuffers()
        try pump.server.feedCiphertext(Array(ciphertext[(ciphertext.count / 2 + 7)...]))
        received += try pump.server.readPlaintext()
        #expect(received == first)
        pump.server.releaseIdleBuffers()
        let second = SecureRandom.bytes(50_000)
        try Self.send(second, from: pump.server, pump: pump)
        #expect(pump.clientReceived == second)
        #expect(pump.clientError == nil && pump.serverError == nil)
    }

    @Test("keeps both directions working across a key update the peer requests")
    func keyUpdate() throws {
        let pump = try SessionPump.make()
        try pump.handshake()
        try pump.client.updateKeys(requestingPeerUpdate: true)
        try pump.server.feedCiphertext(pump.client.takeCiphertext())
        // OpenSSL answers a requested update with its own KeyUpdate just before its next write, not from SSL_read.
        #expect(try pump.server.readPlaintext().isEmpty)
        pump.run()
        try pump.client.writePlaintext(Array("after".utf8))
        try pump.server.writePlaintext(Array("update".utf8))
        pump.run()
        #expect(pump.serverReceived == Array("after".utf8))
        #expect(pump.clientReceived == Array("update".utf8))
    }

    @Test("closes cleanly when the client sends close_notify first and the server answers")
    func shutdownFromClient() throws {
        let pump = try SessionPump.make()
        try pump.handshake()
        try pump.client.writePlaintext(Array("bye".utf8))
        try pump.client.shutdown()
        #expect(pump.client.state == .shutdownSent)
        #expect(throws: TLSError.self) { try pump.client.writePlaintext(Array("late".utf8)) }
        pump.run()
        #expect(pump.serverReceived == Array("bye".utf8))
        #expect(pump.server.state == .shutdownReceived)
        // Half-close: the server may still write after the client's close_notify, then closes its side.
        try pump.server.writePlaintext(Array("last words".utf8))
        try pump.server.shutdown()
        #expect(pump.server.state == .closed)
        pump.run()
        #expect(pump.clientReceived == Array("last words".utf8))
        #expect(pump.client.state == .closed)
        #expect(pump.clientError == nil && pump.serverError == nil)
        try pump.client.feedEndOfStream()
        try pump.server.feedEndOfStream()
    }

    @Test("closes cleanly when the server sends close_notify first")
    func shutdownFromServer() throws {
        let pump = try SessionPump.make()
        try pump.handshake()
        try pump.server.shutdown()
        pump.run()
        #expect(pump.client.state == .shutdownReceived)
        try pump.client.shutdown()
        pump.run()
        #expect(pump.client.state == .closed)
        #expect(pump.server.state == .closed)
    }

    @Test("reports truncation when the stream ends without close_notify")
    func truncation() throws {
        let pump = try SessionPump.make()
        try pump.handshake()
        let error = #expect(throws: TLSError.self) { try pump.server.feedEndOfStream() }
        #expect(error?.code == .unexpectedEndOfStream)
        #expect(pump.server.state == .failed)

        let early = try SessionPump.make()
        try early.client.handshake()
        #expect(throws: TLSError.self) { try early.client.feedEndOfStream() }
    }

    @Test("refuses plaintext before the handshake finished")
    func writeBeforeHandshake() throws {
        let pump = try SessionPump.make()
        let error = #expect(throws: TLSError.self) { try pump.client.writePlaintext([1, 2, 3]) }
        #expect(error?.code == .invalidState)
        try pump.handshake()
    }

    @Test("refuses writes beyond the outgoing limit and accepts them again once ciphertext is taken")
    func outgoingLimit() throws {
        let limit = 32 * 1024
        let pump = try SessionPump.make(configureClient: { $0.bufferLimit = limit })
        try pump.handshake()
        let tooLarge = #expect(throws: TLSError.self) { try pump.client.writePlaintext([UInt8](repeating: 1, count: limit)) }
        #expect(tooLarge?.code == .outgoingBufferFull)

        let chunk = [UInt8](repeating: 7, count: 20 * 1024)
        try pump.client.writePlaintext(chunk)
        #expect(pump.client.writablePlaintextCount < chunk.count)
        let full = #expect(throws: TLSError.self) { try pump.client.writePlaintext(chunk) }
        #expect(full?.code == .outgoingBufferFull)
        #expect(pump.client.state == .established)
        #expect(pump.client.pendingCiphertextCount <= limit)

        pump.run()
        try pump.client.writePlaintext(chunk)
        pump.run()
        #expect(pump.serverReceived == chunk + chunk)
    }

    @Test("fills exactly to the outgoing limit with writablePlaintextCount")
    func writableCount() throws {
        let limit = TLSConfiguration.minimumBufferLimit
        let pump = try SessionPump.make(configureServer: { $0.bufferLimit = limit })
        try pump.handshake()
        try pump.server.writePlaintext([UInt8](repeating: 2, count: pump.server.writablePlaintextCount))
        #expect(pump.server.pendingCiphertextCount <= limit)
        #expect(throws: TLSError.self) { try pump.server.writePlaintext([UInt8](repeating: 2, count: 64)) }
    }

    @Test("refuses ciphertext beyond the incoming limit until plaintext is read")
    func incomingLimit() throws {
        let limit = 32 * 1024
        let pump = try SessionPump.make(configureServer: { $0.bufferLimit = limit })
        try pump.handshake()
        let chunk = [UInt8](repeating: 9, count: 12 * 1024)
        try pump.client.writePlaintext(chunk)
        let first = pump.client.takeCiphertext()
        try pump.client.writePlaintext(chunk)
        let second = pump.client.takeCiphertext()
        try pump.client.writePlaintext(chunk)
        let third = pump.client.takeCiphertext()

        try pump.server.feedCiphertext(first)
        try pump.server.feedCiphertext(second)
        let error = #expect(throws: TLSError.self) { try pump.server.feedCiphertext(third) }
        #expect(error?.code == .incomingBufferFull)
        #expect(pump.server.state == .established)

        #expect(try pump.server.readPlaintext() == chunk + chunk)
        try pump.server.feedCiphertext(third)
        #expect(try pump.server.readPlaintext() == chunk)
    }

    @Test("takes ciphertext in pieces and through the borrowing accessor")
    func partialTakes() throws {
        let pump = try SessionPump.make()
        try pump.handshake()
        try pump.client.writePlaintext([UInt8](repeating: 5, count: 1000))
        let total = pump.client.pendingCiphertextCount
        let head = pump.client.takeCiphertext(maximumCount: 10)
        #expect(head.count == 10)
        var middle: [UInt8] = []
        let consumed = pump.client.withPendingCiphertext { bytes in
            middle = Array(bytes.prefix(100))
            return middle.count
        }
        #expect(consumed == 100)
        let tail = pump.client.takeCiphertext()
        #expect(head.count + middle.count + tail.count == total)
        #expect(pump.client.pendingCiphertextCount == 0)
        try pump.server.feedCiphertext(head + middle + tail)
        #expect(try pump.server.readPlaintext() == [UInt8](repeating: 5, count: 1000))
    }

    @Test("fails with a typed error, never a crash, when a server is fed bytes that are not TLS", arguments: [
        Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8),
        [0x16, 0x03, 0x01, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 64),
        [0x17, 0x03, 0x03, 0x00, 0x10] + [UInt8](repeating: 0xAB, count: 16),
        [UInt8](repeating: 0, count: 4096),
    ])
    func garbage(input: [UInt8]) throws {
        let certificate = try SelfSignedCertificate()
        let server = try TLSSession(
            context: TLSContext(
                configuration: .server(
                    certificateChain: .bytes(certificate.certificatePEM),
                    privateKey: .bytes(certificate.privateKeyPEM)
                )
            )
        )
        try server.feedCiphertext(input)
        let error = #expect(throws: TLSError.self) { try server.readPlaintext() }
        #expect(error?.code == .protocolViolation || error?.code == .handshakeFailed)
        #expect(error?.openSSLErrors.isEmpty == false)
        #expect(server.state == .failed)
        // The failure sticks: later calls report it again instead of touching the broken SSL object.
        let again = #expect(throws: TLSError.self) { try server.readPlaintext() }
        #expect(again?.code == error?.code)
        #expect(throws: TLSError.self) { try server.feedCiphertext([1, 2, 3]) }
        try server.shutdown()
    }

    @Test("fails with protocolViolation when an established session is fed a corrupted record")
    func corruptedRecord() throws {
        let pump = try SessionPump.make()
        try pump.handshake()
        try pump.client.writePlaintext(Array("secret".utf8))
        var record = pump.client.takeCiphertext()
        record[record.count - 1] ^= 0x01
        try pump.server.feedCiphertext(record)
        let error = #expect(throws: TLSError.self) { try pump.server.readPlaintext() }
        #expect(error?.code == .protocolViolation)
        // The server tells the client why (bad_record_mac), and the client names the alert.
        pump.run()
        #expect(pump.clientError?.code == .alertReceived)
    }

    /// Writes `payload` from `sender` in chunks as large as the outgoing limit allows, pumping after each one.
    private static func send(_ payload: [UInt8], from sender: TLSSession, pump: SessionPump) throws {
        var offset = 0
        while offset < payload.count {
            let count = min(payload.count - offset, 64 * 1024, sender.writablePlaintextCount)
            try sender.writePlaintext(payload[offset..<(offset + count)])
            offset += count
            pump.run()
        }
    }
}
