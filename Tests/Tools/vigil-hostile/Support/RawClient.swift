// A client below VigilClient: a TCP socket, a TLS byte pump (VigilTLS's TLSSession over memory BIOs) and frames
// written by hand, so an attack can send what no well-behaved client would (floods, resets, garbage, oversized
// frames) and see exactly what the server answers. Blocking by design, with every wait bounded: attacks run on
// threads of their own (Attack.onThread), never on the cooperative pool the well-behaved client measures.
import VigilPOSIX
import VigilRPC
import VigilTLS

struct HostileError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// How the server ended a raw connection, as far as the client could see.
struct RawOutcome {
    var goAway: GoAway?
    var closed = false
    /// Frames received (PONGs, TRAILERS, ...), kept only when `keepFrames`.
    var frames: [Frame] = []
}

final class RawClient {
    let socket: Socket
    let epoll: Epoll
    let events = Epoll.EventBuffer(capacity: 4)
    let tls: TLSSession?
    var decoder = FrameDecoder(settings: .defaults, expectingPreface: true)
    var outcome = RawOutcome()
    var keepFrames = true
    var bytesReceived = 0
    /// PONGs received: how many PINGs the server answered.
    var pongs = 0

    /// A plain TCP connection (no TLS yet): for connection floods and slow handshakes.
    init(tcpTo address: SocketAddress, timeout: Duration = .seconds(5)) throws {
        (self.socket, self.epoll) = try Self.connected(to: address, timeout: timeout)
        self.tls = nil
    }

    /// A non-blocking socket whose connect has finished, and an epoll watching it for input.
    private static func connected(to address: SocketAddress, timeout: Duration) throws -> (Socket, Epoll) {
        let (socket, progress) = try Socket.connecting(to: address)
        let epoll = try Epoll()
        try epoll.add(socket.fileDescriptor, interest: [.writable], data: 1)
        if progress.isWouldBlock {
            guard try epoll.wait(into: Epoll.EventBuffer(capacity: 1), timeout: timeout) > 0 else {
                throw HostileError("connect timed out")
            }
            try socket.finishConnect()
        }
        try epoll.modify(socket.fileDescriptor, interest: [.readable, .readHangup], data: 1)
        return (socket, epoll)
    }

    /// A TLS connection, handshake done; with `preface`, the preface and default SETTINGS are sent as well.
    init(
        tlsTo address: SocketAddress, context: TLSContext, settings: ConnectionSettings? = .defaults,
        timeout: Duration = .seconds(5)
    ) throws {
        let (socket, epoll) = try Self.connected(to: address, timeout: timeout)
        self.socket = socket
        self.epoll = epoll
        let tls = try TLSSession(context: context, serverName: "127.0.0.1")
        self.tls = tls
        try socket.setNoDelay(true)
        try tls.handshake()
        try self.flushCiphertext(timeout: timeout)
        let end = ContinuousClock.now + timeout
        while !tls.isHandshakeComplete {
            guard ContinuousClock.now < end else { throw HostileError("TLS handshake timed out") }
            guard try self.pump(timeout: .milliseconds(50)) else { throw HostileError("closed during handshake") }
        }
        if let settings {
            var bytes: [UInt8] = []
            FrameEncoder.writePreface(into: &bytes)
            try FrameEncoder().encode(.settings(settings), into: &bytes)
            try FrameEncoder().encode(.settingsAck, into: &bytes)
            try self.send(bytes)
        }
    }

    deinit { try? self.socket.close() }

    func close() { try? self.socket.close() }

    // MARK: Output

    /// Sends plaintext (through TLS when there is a session), waiting at most `timeout` for room.
    func send(_ plaintext: [UInt8], timeout: Duration = .seconds(5)) throws {
        guard let tls = self.tls else {
            try self.sendRaw(plaintext, timeout: timeout)
            return
        }
        var offset = 0
        while offset < plaintext.count {
            let count = min(plaintext.count - offset, max(tls.writablePlaintextCount, 0))
            if count > 0 {
                try tls.writePlaintext(plaintext[offset..<(offset + count)])
                offset += count
            }
            try self.flushCiphertext(timeout: timeout)
        }
    }

    /// Frames, encoded with the reference encoder (so only their content is hostile).
    func send(_ frames: [Frame], maxFrameSize: Int = ConnectionSettings.maxMaxFrameSize) throws {
        var bytes: [UInt8] = []
        let encoder = FrameEncoder(maxFrameSize: maxFrameSize)
        for frame in frames { try encoder.encode(frame, into: &bytes) }
        try self.send(bytes)
    }

    /// Bytes straight onto the socket (no TLS): the slow handshake writes its ClientHello this way.
    func sendRaw(_ bytes: [UInt8], timeout: Duration = .seconds(5)) throws {
        var offset = 0
        let end = ContinuousClock.now + timeout
        while offset < bytes.count {
            switch try self.socket.send(bytes[offset...]) {
            case .processed(let count): offset += count
            case .wouldBlock:
                guard ContinuousClock.now < end else { throw HostileError("send buffer full for \(timeout)") }
                // Reading keeps the server's answers from filling our receive buffer while we wait.
                _ = try self.pump(timeout: .milliseconds(10))
            }
        }
    }

    func flushCiphertext(timeout: Duration) throws {
        guard let tls = self.tls else { return }
        let end = ContinuousClock.now + timeout
        while tls.pendingCiphertextCount > 0 {
            let sent = try tls.withPendingCiphertext { bytes in try self.socket.send(bytes).value ?? 0 }
            if sent == 0 {
                guard ContinuousClock.now < end else { throw HostileError("send buffer full for \(timeout)") }
                _ = try self.pump(timeout: .milliseconds(10))
            }
        }
    }

    // MARK: Input

    /// Waits up to `timeout` for input and takes all there is: frames are decoded into `outcome`. False once the
    /// server closed the connection (end of stream or reset).
    @discardableResult
    func pump(timeout: Duration) throws -> Bool {
        guard !self.outcome.closed else { return false }
        _ = try self.epoll.wait(into: self.events, timeout: timeout)
        while true {
            let result: IOResult<[UInt8]>
            do {
                result = try self.socket.read(maximumCount: 64 * 1024)
            } catch let error where error == .connectionReset {
                self.outcome.closed = true
                return false
            }
            switch result {
            case .wouldBlock:
                return true
            case .processed(let bytes) where bytes.isEmpty:
                self.outcome.closed = true
                return false
            case .processed(let bytes):
                self.bytesReceived += bytes.count
                guard let tls = self.tls else { continue }
                try tls.feedCiphertext(bytes)
                let plaintext = try tls.readPlaintext()
                try? self.flushCiphertext(timeout: .milliseconds(100))
                guard tls.isHandshakeComplete, !plaintext.isEmpty else { continue }
                self.decoder.feed(plaintext)
                while let frame = try? self.decoder.nextFrame() {
                    if case .goAway(let goAway) = frame { self.outcome.goAway = goAway }
                    if case .pong = frame { self.pongs += 1 }
                    if self.keepFrames { self.outcome.frames.append(frame) }
                }
            }
        }
    }

    /// Reads until the server closes or `timeout` passes; true when it closed.
    func waitUntilClosed(timeout: Duration) -> Bool {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            do {
                if try !self.pump(timeout: .milliseconds(20)) { return true }
            } catch {
                return true
            }
        }
        return self.outcome.closed
    }

    /// Reads until `done` holds on the frames so far, the server closes, or `timeout` passes.
    func waitFor(timeout: Duration, _ done: (RawOutcome) -> Bool) -> Bool {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if done(self.outcome) { return true }
            guard (try? self.pump(timeout: .milliseconds(20))) == true else { return done(self.outcome) }
        }
        return done(self.outcome)
    }

    /// The status of the TRAILERS that ended `id`, if they came.
    func trailersStatus(_ id: StreamID) -> Status.Code? {
        for case .trailers(let stream, let trailers) in self.outcome.frames where stream == id {
            return trailers.status.code
        }
        return nil
    }
}

extension GoAway {
    /// "GOAWAY ENHANCE_YOUR_CALM" for the result line.
    var summary: String { "GOAWAY \(self.code)" }
}
