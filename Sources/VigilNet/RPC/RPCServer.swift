// The RPC server on real sockets: a TCPServer whose every TLS connection is an `RPCServerConnection` speaking
// docs/PROTOCOL.md to a `Router`. This file holds what spans connections: the limits, the table of live RPC
// connections (for counters and for the graceful shutdown that tells each one to go away), and nothing else;
// all per-connection work happens on the connection's own loop.
import Synchronization
public import VigilPOSIX
public import VigilRPC
import VigilTLS

/// Serves a `Router` over TCP+TLS.
///
/// `Sendable`: configuration, router and TCP server never change; the connection table is behind a `Mutex`.
public final class RPCServer: Sendable {
    public let configuration: Configuration
    public let group: EventLoopGroup
    let tcp: TCPServer
    let registry: RPCConnectionRegistry
    let largeWindows: ConnectionSlots

    /// Binds and starts accepting. Handler tasks prefer the loop that owns their connection, so shut the server
    /// down (`shutdown()`) before shutting `group` down, or tasks still running would never resume.
    public init(configuration: Configuration, router: Router, group: EventLoopGroup) async throws {
        let registry = RPCConnectionRegistry()
        let largeWindows = ConnectionSlots(capacity: configuration.largeWindowConnections)
        let options = TLSConnection.Options(handshakeTimeout: configuration.handshakeTimeout)
        // Handshakes may be evicted for newcomers at the connection limit once a quarter of their timeout has passed
        // (at most a second): honest ones take milliseconds, and a short timeout (tests) shortens it with them.
        let tcpConfiguration = TCPServer.Configuration(
            address: configuration.address, tls: configuration.tls,
            maximumConnections: configuration.maxConnections, connection: options,
            evictableHandshakeAge: min(.seconds(1), configuration.handshakeTimeout / 4))
        self.tcp = try await TCPServer(configuration: tcpConfiguration, group: group) { connection in
            RPCServerConnection(
                connection: connection, router: router, configuration: configuration, registry: registry,
                largeWindows: largeWindows)
        }
        self.configuration = configuration
        self.group = group
        self.registry = registry
        self.largeWindows = largeWindows
    }

    /// The bound address (with the kernel's port when the configuration asked for port 0).
    public var localAddress: SocketAddress { self.tcp.localAddress }

    /// TCP connections open (handshaking ones included).
    public var connectionCount: Int { self.tcp.connectionCount }

    /// Connections holding one of the `largeWindowConnections` slots now.
    public var largeWindowConnectionCount: Int { self.largeWindows.taken }

    /// Connections refused at once because `maxConnections` was reached.
    public var rejectedConnectionCount: Int { self.tcp.rejectedConnectionCount }

    /// Streams open over all connections.
    public var openStreamCount: Int { self.registry.all.reduce(0) { $0 + $1.endpoint.openStreamCount } }

    /// Handler tasks running over all connections (closed ones included, until their handlers return).
    public var activeHandlerCount: Int {
        self.registry.all.reduce(self.registry.lingeringHandlerCount) { $0 + $1.endpoint.activeHandlerCount }
    }

    /// Request bytes received and not yet read by handlers, over all connections: flow control bounds it by the
    /// windows however slowly handlers read.
    public var bufferedRequestBytes: Int {
        self.registry.all.reduce(0) { $0 + $1.endpoint.bufferedInboundBytes }
    }

    /// TLS buffer bytes the connections hold beyond OpenSSL's record buffers (memory BIOs, unsent ciphertext),
    /// read on each connection's loop: for tests that quiet connections give their buffers back.
    public func retainedTLSBufferBytes() async -> Int {
        var total = 0
        for connection in self.registry.all {
            total += (try? await connection.loop.submit { connection.connection?.tls.retainedBufferCapacity ?? 0 }) ?? 0
        }
        return total
    }

    /// Sends GOAWAY on every connection (calls in flight finish; newer ones fail UNAVAILABLE so clients move to
    /// another connection or server) without stopping the listener: for tests and for draining one connection set.
    public func goAwayAll(message: String = "server going away") {
        for connection in self.registry.all {
            connection.loop.execute { connection.beginDrain(message) }
        }
    }

    /// Graceful shutdown: stops accepting, sends GOAWAY on every connection, lets in-flight streams finish (at
    /// most `shutdownGracePeriod`), closes each connection once drained, and returns when all are closed and
    /// their handler tasks have returned (they prefer the group's loops, which the caller shuts down next).
    public func shutdown() async {
        await self.tcp.close(closingConnections: false)
        for connection in self.registry.beginShutdown() {
            connection.loop.execute { connection.beginDrain("server shutting down") }
        }
        let clock = ContinuousClock()
        let deadline = clock.now + self.configuration.shutdownGracePeriod + .seconds(1)
        while (!self.registry.all.isEmpty || self.registry.lingeringHandlerCount > 0) && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        // Whatever is left (handshakes still running, peers not reading) closes now.
        await self.tcp.close(closingConnections: true)
        while (self.tcp.connectionCount > 0 || self.activeHandlerCount > 0) && clock.now < deadline + .seconds(2) {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// The RPC connections that finished their handshake, for counters and shutdown, and the closed ones whose
/// handler tasks are still finishing (so shutdown can wait for them before the loops they prefer go away).
final class RPCConnectionRegistry: Sendable {
    struct State {
        var open: [ObjectIdentifier: RPCServerConnection] = [:]
        var lingering: [ObjectIdentifier: RPCServerConnection] = [:]
        var shuttingDown = false

        mutating func prune() {
            self.lingering = self.lingering.filter { $0.value.endpoint.activeHandlerCount > 0 }
        }
    }

    let state = Mutex(State())

    /// Adds a connection; true when the server is already shutting down (the connection should drain at once).
    func add(_ connection: RPCServerConnection) -> Bool {
        self.state.withLock { state in
            state.prune()
            state.open[ObjectIdentifier(connection)] = connection
            return state.shuttingDown
        }
    }

    func remove(_ connection: RPCServerConnection) {
        self.state.withLock { state in
            let key = ObjectIdentifier(connection)
            state.open[key] = nil
            state.lingering[key] = connection
            state.prune()
        }
    }

    func beginShutdown() -> [RPCServerConnection] {
        self.state.withLock { state in
            state.shuttingDown = true
            return Array(state.open.values)
        }
    }

    /// Open connections.
    var all: [RPCServerConnection] { self.state.withLock { Array($0.open.values) } }

    /// Handler tasks still running on closed connections.
    var lingeringHandlerCount: Int {
        self.state.withLock { state in
            state.prune()
            return state.lingering.values.reduce(0) { $0 + $1.endpoint.activeHandlerCount }
        }
    }
}

/// A fixed number of slots shared by the server's connections (the large-window ones): taken when a connection is
/// accepted, given back when it closes.
final class ConnectionSlots: Sendable {
    let capacity: Int
    private let used = Atomic<Int>(0)

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Takes a slot if one is free.
    func take() -> Bool {
        var current = self.used.load(ordering: .relaxed)
        while current < self.capacity {
            let (exchanged, original) = self.used.compareExchange(
                expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func give() {
        self.used.subtract(1, ordering: .relaxed)
    }

    var taken: Int { self.used.load(ordering: .relaxed) }
}
