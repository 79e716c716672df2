// One server-side RPC connection: the ConnectionHandler between a TLSConnection and an `RPCEndpoint` (decoder,
// state machine, encoder, calls). Plaintext of one loop turn goes to the endpoint in one batch; frames the endpoint
// produces on the loop are written at once (one send per turn, the TLSConnection's batching), frames from other
// threads cross in one hop per batch (LoopByteSink). Handlers run as tasks preferring this loop. A periodic tick
// does what needs a clock: the SETTINGS timeout, keepalive PINGs, the idle GOAWAY, and closing once drained.
import VigilRPC

/// The handler of one accepted RPC connection.
///
/// `@unchecked Sendable`: the registry and timers hold it from other threads, but its mutable state (`connection`,
/// clocks, timer) is touched only on `loop`, which every method that uses it asserts; `endpoint` and `sink` are
/// `Sendable` themselves.
final class RPCServerConnection: ConnectionHandler, @unchecked Sendable {
    let loop: EventLoop
    let configuration: RPCServer.Configuration
    let registry: RPCConnectionRegistry
    let largeWindows: ConnectionSlots
    let sink: LoopByteSink
    let endpoint: RPCEndpoint

    // Loop-confined.
    /// Whether this connection advertised the configured large windows (and holds a slot for them).
    var holdsLargeWindows: Bool
    var connection: TLSConnection?
    /// When the TLS handshake finished; SETTINGS both ways must be done by `activeSince + handshakeTimeout`.
    var activeSince: ContinuousClock.Instant
    var settingsDone = false
    var lastReceived: ContinuousClock.Instant
    var pingSentAt: ContinuousClock.Instant?
    var idleSince: ContinuousClock.Instant?
    /// Set once GOAWAY went out: the connection closes when drained or at this instant.
    var drainDeadline: ContinuousClock.Instant?
    var tickTimer: ScheduledTimer?
    var pings: UInt64 = 0

    /// Called by TCPServer on the connection's loop, before the handshake; takes a large-window slot if one is
    /// free (given back in `connectionClosed`, which every connection hears exactly once).
    init(
        connection: TLSConnection, router: Router, configuration: RPCServer.Configuration,
        registry: RPCConnectionRegistry, largeWindows: ConnectionSlots
    ) {
        self.loop = connection.eventLoop
        self.configuration = configuration
        self.registry = registry
        self.largeWindows = largeWindows
        self.holdsLargeWindows = largeWindows.take()
        self.sink = LoopByteSink(loop: connection.eventLoop)
        let peer = connection.remoteAddress.map { "\($0)" } ?? "unknown peer"
        self.endpoint = RPCEndpoint(
            role: .server, settings: configuration.settings(largeWindows: self.holdsLargeWindows), peer: peer,
            output: self.sink, router: router, handlerExecutor: connection.eventLoop, timers: connection.eventLoop)
        self.lastReceived = connection.eventLoop.clock.now
        self.activeSince = connection.eventLoop.clock.now
    }

    func connectionActive(_ connection: TLSConnection) {
        self.loop.assertInEventLoop()
        self.connection = connection
        self.lastReceived = self.loop.clock.now
        self.activeSince = self.loop.clock.now
        self.sink.attach(connection)
        if self.registry.add(self) {
            self.beginDrain("server shutting down")
        } else {
            self.scheduleTick()
        }
    }

    func received(_ plaintext: [UInt8], on connection: TLSConnection) {
        self.loop.assertInEventLoop()
        self.lastReceived = self.loop.clock.now
        self.pingSentAt = nil
        self.endpoint.receive(plaintext)
        if self.endpoint.isClosed {
            // A connection error: the GOAWAY is already written; close after it.
            connection.close()
        }
    }

    func connectionClosed(_ connection: TLSConnection, error: ConnectionError?) {
        self.loop.assertInEventLoop()
        self.sink.close()
        self.endpoint.connectionLost(error.map { "\($0)" } ?? "closed")
        self.tickTimer?.cancel()
        self.tickTimer = nil
        self.connection = nil
        self.registry.remove(self)
        if self.holdsLargeWindows {
            self.holdsLargeWindows = false
            self.largeWindows.give()
        }
    }

    /// Sends GOAWAY (NO_ERROR): streams already opened finish, newer ones are refused UNAVAILABLE, and the
    /// connection closes once drained or after the grace period.
    func beginDrain(_ message: String) {
        self.loop.assertInEventLoop()
        guard self.connection != nil, self.drainDeadline == nil else { return }
        self.drainDeadline = self.loop.clock.now + self.configuration.shutdownGracePeriod
        self.endpoint.goAway(.noError, message: message)
        self.scheduleTick()
    }

    // MARK: The clock

    func scheduleTick() {
        self.loop.assertInEventLoop()
        self.tickTimer?.cancel()
        let delay = self.drainDeadline == nil ? self.configuration.tick : .milliseconds(5)
        self.tickTimer = self.loop.schedule(after: delay) { [weak self] in self?.tick() }
    }

    func tick() {
        self.loop.assertInEventLoop()
        guard let connection = self.connection, connection.isActive else { return }
        let now = self.loop.clock.now
        if self.endpoint.isClosed {
            connection.close()
            return
        }
        if !self.settingsDone {
            self.settingsDone = self.endpoint.settingsExchanged
            if !self.settingsDone && now - self.activeSince >= self.configuration.handshakeTimeout {
                // A TLS peer that never speaks the protocol (docs/PROTOCOL.md §5.8): GOAWAY, then close.
                self.endpoint.goAway(.settingsTimeout, message: "no SETTINGS exchange within the handshake timeout")
                connection.close()
                return
            }
        }
        if let deadline = self.drainDeadline {
            if self.endpoint.isDrained || now >= deadline {
                connection.close()
                return
            }
        } else if let idleTimeout = self.configuration.idleTimeout {
            if self.endpoint.openStreamCount > 0 {
                self.idleSince = nil
            } else if let since = self.idleSince, now - since >= idleTimeout {
                self.beginDrain("idle for \(idleTimeout)")
                return
            } else if self.idleSince == nil {
                self.idleSince = now
            }
        }
        // Quiet for most of a tick (a whole one would miss the first tick, which fires a tick after the last read).
        if now - self.lastReceived >= self.configuration.tick / 2 {
            connection.releaseIdleBuffers()
        }
        if let interval = self.configuration.keepaliveInterval {
            if let sent = self.pingSentAt {
                if now - sent >= self.configuration.keepaliveTimeout {
                    // Nothing at all came back: the peer is gone without a FIN. Free its streams now.
                    connection.abort()
                    return
                }
            } else if now - self.lastReceived >= interval {
                self.pings &+= 1
                self.endpoint.ping(self.pings)
                self.pingSentAt = now
            }
        }
        self.scheduleTick()
    }
}
