// One TCP connection speaking TLS, owned by one event loop for its whole life. The loop reports readiness; this
// type moves bytes between the socket and the TLS byte pump and hands plaintext to its `ConnectionHandler` in one
// batch per turn, and sends what the handler wrote in one send per turn. It is the only place that decides when a
// connection is over, so the handler hears `connectionClosed` exactly once, with the reason.
public import VigilPOSIX
import VigilTLS

/// A nonblocking TLS connection driven by an `EventLoop`.
///
/// `@unchecked Sendable`: the reference may travel (the server hands it to a loop, a client returns it), but all
/// mutable state is loop-confined. Public methods must be called on `eventLoop` (they assert it); from elsewhere,
/// hop with `connection.eventLoop.execute { ... }`.
public final class TLSConnection: @unchecked Sendable, CustomStringConvertible {
    /// Limits and deadlines of one connection.
    public struct Options: Sendable {
        /// A peer that has not finished the TLS handshake by then is disconnected (slowloris, port scanners).
        public var handshakeTimeout: Duration
        /// How long `close()` waits for pending output to drain before giving up and closing anyway.
        public var closeTimeout: Duration
        /// Pending output (plaintext not yet sent plus ciphertext) above which `isWritable` turns false.
        public var highWaterMark: Int
        /// Pending output at or below which `isWritable` turns true again; lower than the high mark so the flag
        /// does not flap on every write.
        public var lowWaterMark: Int
        /// Ciphertext read per readiness report before the loop moves on to other connections (fairness).
        public var readBytesPerTurn: Int
        /// An established connection that neither receives nor sends a byte for this long is closed; nil keeps
        /// idle connections forever (the RPC layer's keepalive pings count as traffic).
        public var idleTimeout: Duration?

        public init(
            handshakeTimeout: Duration = .seconds(10),
            closeTimeout: Duration = .seconds(10),
            highWaterMark: Int = 256 * 1024,
            lowWaterMark: Int = 64 * 1024,
            readBytesPerTurn: Int = 256 * 1024,
            idleTimeout: Duration? = nil
        ) {
            self.handshakeTimeout = handshakeTimeout
            self.closeTimeout = closeTimeout
            self.highWaterMark = highWaterMark
            self.lowWaterMark = min(lowWaterMark, highWaterMark)
            self.readBytesPerTurn = max(readBytesPerTurn, 1)
            self.idleTimeout = idleTimeout
        }
    }

    enum Phase {
        case connecting
        case handshaking
        case active
        case closed
    }

    public let eventLoop: EventLoop
    public let options: Options
    let socket: Socket
    let tls: TLSSession
    /// What the fresh session said it could take: close to its buffer limit, which TLSSession keeps internal.
    let tlsCapacity: Int

    // Loop-confined state.
    var phase: Phase
    var handler: (any ConnectionHandler)?
    var registration: EventLoop.Registration?
    var interest: Epoll.Interest = []
    /// Plaintext the handler wrote that TLS has not taken yet; `pendingPlaintext[pendingStart...]` is live.
    var pendingPlaintext: [UInt8] = []
    var pendingStart = 0
    var flushScheduled = false
    var readingEnabled = true
    /// TLS's outgoing buffer is nearly full, so it would refuse input: stop reading until a send drains it.
    var inputBlockedByOutput = false
    /// The peer sent close_notify.
    var inputClosed = false
    /// The socket reported end of stream.
    var sawEndOfStream = false
    /// close_notify is wanted after the pending plaintext.
    var outputClosing = false
    var closeNotifySent = false
    var writeShutdown = false
    /// Close the socket once close_notify and everything before it are sent.
    var closeWhenFlushed = false
    var writable = true
    var handshakeTimer: ScheduledTimer?
    var closeTimer: ScheduledTimer?
    var idleTimer: ScheduledTimer?
    /// When bytes last moved either way; the idle timer compares against it instead of being re-armed per read.
    var lastActivity: ContinuousClock.Instant
    /// Told once: nil when the connection became active, the error if it closed first (async connect; the
    /// server's table of connections still handshaking).
    var onActive: ((ConnectionError?) -> Void)?
    /// Told once when the connection closed (the server's connection count).
    var onClose: ((TLSConnection) -> Void)?

    init(socket: Socket, tls: TLSSession, eventLoop: EventLoop, options: Options, connecting: Bool) {
        self.socket = socket
        self.tls = tls
        self.eventLoop = eventLoop
        self.options = options
        self.tlsCapacity = max(tls.writablePlaintextCount, 1024)
        self.phase = connecting ? .connecting : .handshaking
        self.lastActivity = eventLoop.clock.now
    }

    /// Only immutable parts, so it is safe to log from any thread.
    public var description: String { "TLSConnection(\(self.socket), \(self.eventLoop.name))" }

    // MARK: - State for the handler

    /// True between `connectionActive` and `connectionClosed`.
    public var isActive: Bool {
        self.eventLoop.assertInEventLoop()
        return self.phase == .active
    }

    public var isClosed: Bool {
        self.eventLoop.assertInEventLoop()
        return self.phase == .closed
    }

    /// False while pending output is above the high-water mark; see `ConnectionHandler.writabilityChanged`.
    public var isWritable: Bool {
        self.eventLoop.assertInEventLoop()
        return self.writable
    }

    /// Bytes written by the handler and not yet handed to the kernel (plaintext plus TLS ciphertext).
    public var pendingWriteCount: Int {
        self.eventLoop.assertInEventLoop()
        return self.pendingPlaintext.count - self.pendingStart + self.tls.pendingCiphertextCount
    }

    /// Turn off to stop reading from the socket (the peer then fills its send buffer and stalls): how a handler
    /// pushes back on a producer faster than it can consume. Handshake bytes arrive the same way, so turning it
    /// off before `connectionActive` stalls the handshake until it is turned on again (or the timeout fires).
    public var isReadingEnabled: Bool {
        get { self.readingEnabled }
        set {
            self.eventLoop.assertInEventLoop()
            self.readingEnabled = newValue
            self.updateInterest()
        }
    }

    /// The ALPN protocol agreed in the handshake.
    public var negotiatedApplicationProtocol: String? {
        self.eventLoop.assertInEventLoop()
        return self.tls.negotiatedApplicationProtocol
    }

    public var remoteAddress: SocketAddress? { try? self.socket.peerAddress() }
    public var localAddress: SocketAddress? { try? self.socket.localAddress() }

    // MARK: - Start

    /// Registers with the loop, arms the handshake timer and, on a client whose connect finished, says hello.
    func start(_ makeHandler: (TLSConnection) -> any ConnectionHandler) {
        self.eventLoop.assertInEventLoop()
        self.handler = makeHandler(self)
        let interest: Epoll.Interest =
            self.phase == .connecting ? .writable : self.readingEnabled ? [.readable, .readHangup] : []
        do throws(Errno) {
            self.registration = try self.eventLoop.register(self.socket.fileDescriptor, interest: interest, owner: self)
            self.interest = interest
        } catch {
            self.finish(ConnectionError(.io, "cannot register with \(self.eventLoop.name)", cause: error))
            return
        }
        self.handshakeTimer = self.eventLoop.schedule(after: self.options.handshakeTimeout) { [weak self] in
            guard let self, self.phase == .connecting || self.phase == .handshaking else { return }
            self.fail(ConnectionError(.handshakeTimeout, "no TLS handshake within \(self.options.handshakeTimeout)"))
        }
        if self.phase == .handshaking {
            self.beginHandshake()
        }
    }

    private func beginHandshake() {
        self.phase = .handshaking
        guard self.tls.context.role == .client else { return }
        do {
            try self.tls.handshake()
        } catch {
            self.fail(Self.tlsFailure(error))
            return
        }
        self.flushNow()
    }

    func becomeActive() {
        self.phase = .active
        self.handshakeTimer?.cancel()
        self.handshakeTimer = nil
        if let idleTimeout = self.options.idleTimeout {
            self.armIdleTimer(after: idleTimeout)
        }
        self.handler?.connectionActive(self)
        if let onActive = self.onActive {
            self.onActive = nil
            onActive(nil)
        }
        if self.phase == .active && self.pendingWriteCount > 0 {
            self.scheduleFlush()
        }
    }

    /// Frees the TLS session's record buffers if nothing is buffered (TLSSession.releaseIdleBuffers); for a
    /// connection that has gone quiet.
    func releaseIdleBuffers() {
        self.eventLoop.assertInEventLoop()
        guard self.phase == .active else { return }
        self.tls.releaseIdleBuffers()
    }

    /// One timer per connection at a time: when it fires early (there was traffic since), it re-arms for the
    /// rest of the period, so a busy connection costs one timer per idle period, not one per read.
    private func armIdleTimer(after delay: Duration) {
        self.idleTimer = self.eventLoop.schedule(after: delay) { [weak self] in
            guard let self, self.phase == .active, let timeout = self.options.idleTimeout else { return }
            let idle = self.eventLoop.clock.now - self.lastActivity
            if idle >= timeout {
                self.fail(ConnectionError(.idleTimeout, "no traffic for \(timeout)"))
            } else {
                self.armIdleTimer(after: timeout - idle)
            }
        }
    }

    // MARK: - Closing

    /// Sends what is pending, then TLS close_notify, then closes. Gives up after `options.closeTimeout`. Before
    /// the handshake finished there is nothing to say politely, so that closes at once.
    public func close() {
        self.eventLoop.assertInEventLoop()
        switch self.phase {
        case .closed:
            return
        case .connecting, .handshaking:
            self.finish(nil)
        case .active:
            guard !self.closeWhenFlushed else { return }
            self.closeWhenFlushed = true
            self.outputClosing = true
            self.closeTimer = self.eventLoop.schedule(after: self.options.closeTimeout) { [weak self] in
                self?.fail(ConnectionError(.closeTimeout, "pending output not delivered in time"))
            }
            self.scheduleFlush()
        }
    }

    /// Half-close: sends close_notify after pending output and shuts down the socket's write side, but keeps
    /// reading until the peer closes too. Further writes are dropped.
    public func closeOutput() {
        self.eventLoop.assertInEventLoop()
        guard self.phase == .active, !self.outputClosing else { return }
        self.outputClosing = true
        self.scheduleFlush()
    }

    /// Closes at once with a TCP reset, dropping pending output: for peers that are misbehaving.
    public func abort() {
        self.eventLoop.assertInEventLoop()
        guard self.phase != .closed else { return }
        try? self.socket.setResetOnClose()
        self.finish(nil)
    }

    /// Ends the connection because of `error`: one best-effort send of what TLS has pending (the alert telling
    /// the peer why), then `finish`.
    func fail(_ error: ConnectionError) {
        guard self.phase != .closed else { return }
        if error.code != .io && self.tls.pendingCiphertextCount > 0 {
            _ = try? self.tls.withPendingCiphertext { (bytes) throws -> Int in
                try self.socket.send(bytes).value ?? 0
            }
        }
        self.finish(error)
    }

    /// The one place a connection ends: timers cancelled, descriptor deregistered and closed, handler told.
    func finish(_ error: ConnectionError?) {
        guard self.phase != .closed else { return }
        self.phase = .closed
        self.handshakeTimer?.cancel()
        self.closeTimer?.cancel()
        self.idleTimer?.cancel()
        self.handshakeTimer = nil
        self.closeTimer = nil
        self.idleTimer = nil
        if let registration = self.registration {
            self.eventLoop.deregister(registration, self.socket.fileDescriptor)
            self.registration = nil
        }
        try? self.socket.close()
        self.pendingPlaintext = []
        self.pendingStart = 0
        let handler = self.handler
        self.handler = nil
        handler?.connectionClosed(self, error: error)
        if let onActive = self.onActive {
            self.onActive = nil
            onActive(error ?? ConnectionError(.connectFailed, "the connection closed before its handshake finished"))
        }
        if let onClose = self.onClose {
            self.onClose = nil
            onClose(self)
        }
    }

    static func tlsFailure(_ error: any Error) -> ConnectionError {
        guard let error = error as? TLSError else {
            return ConnectionError(.tls, "TLS failed", cause: error)
        }
        switch error.code {
        case .unexpectedEndOfStream:
            return ConnectionError(.unexpectedEndOfStream, error.message, cause: error)
        case .incomingBufferFull, .outgoingBufferFull:
            return ConnectionError(.bufferLimit, error.message, cause: error)
        default:
            return ConnectionError(.tls, error.message, cause: error)
        }
    }
}

// MARK: - Loop callbacks

extension TLSConnection: EventLoopSelectable {
    func handleEvent(_ flags: Epoll.Flags) {
        switch self.phase {
        case .closed:
            return
        case .connecting:
            do throws(Errno) {
                try self.socket.finishConnect()
            } catch {
                self.finish(ConnectionError(.connectFailed, "connect failed", cause: error))
                return
            }
            self.phase = .handshaking
            self.updateInterest()
            self.beginHandshake()
        case .handshaking, .active:
            if flags.contains(.writable) {
                self.flushNow()
            }
            let failed = !flags.isDisjoint(with: [.hangup, .error])
            if self.phase != .closed && (failed || !flags.isDisjoint(with: [.readable, .readHangup])) {
                self.readNow(force: failed)
            }
        }
    }

    func endOfTurn() {
        self.flushScheduled = false
        self.flushNow()
    }

    func eventLoopClosing() {
        self.finish(ConnectionError(.eventLoopShutdown, "\(self.eventLoop.name) is shutting down"))
    }
}
