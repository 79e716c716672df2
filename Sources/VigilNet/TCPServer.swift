// The listening side: one listener on one loop accepts, and each accepted socket goes round-robin to a loop of the
// group, where it lives as a TLSConnection. The server keeps the live connections so it can count them against
// its limit and close them all on shutdown; that table is the only state shared across loops, behind a Mutex.
//
// At the limit, a connection still in its TLS handshake is worth less than a newcomer: a slowloris client that
// trickles its ClientHello would otherwise hold every slot for the whole handshake timeout and lock everyone out.
// So a new connection at the limit evicts the oldest one that has been handshaking for `evictableHandshakeAge`, and
// is refused only when no such one exists. A well-behaved client finishes its handshake in a round trip or two, far
// below that age, so it is never evicted; a slowloris connection soon is.
//
// Accepting never spends the process's last descriptors either. Others need them at any moment: SQLite opens its
// journal and WAL files, and Dispatch's thread-pool monitor opens /proc/<tid>/stat once a second while work is
// queued and traps the whole process (SIGILL, no message) when that open fails. Descriptors are allocated lowest
// first, so an accepted descriptor numbered N means 0..<N are all taken: one at or above the soft limit minus
// `descriptorReserve` is closed at once, like a connection over the limit.
import Synchronization
public import VigilPOSIX
public import VigilTLS

/// A TCP+TLS server.
///
/// `Sendable`: the configuration and group never change, the connection table is in a `Mutex` and the counters
/// are atomics; the listener itself is confined to its loop.
public final class TCPServer: Sendable {
    public struct Configuration: Sendable {
        public var address: SocketAddress
        public var tls: TLSContext
        /// Connections beyond this are accepted and closed at once (counted in `rejectedConnectionCount`), so a
        /// flood cannot exhaust descriptors or memory; the kernel backlog would otherwise fill and stall everyone.
        /// While some connection has been in its handshake for `evictableHandshakeAge` or more, the oldest such one
        /// is closed instead (counted in `evictedHandshakeCount`) and the newcomer is admitted.
        public var maximumConnections: Int
        /// Each accepted connection's limits, the handshake timeout included.
        public var connection: TLSConnection.Options
        public var backlog: Int32
        /// How long accepting pauses after running out of descriptors (EMFILE/ENFILE) instead of spinning.
        public var acceptPause: Duration
        /// A connection still handshaking after this long may be evicted for a newcomer at the limit: long past any
        /// honest handshake (milliseconds), short enough that slow ones cannot hold the slots.
        public var evictableHandshakeAge: Duration
        /// Descriptors below the open-files soft limit that accepting leaves free for the rest of the process (0:
        /// accept until EMFILE). A connection that would take one is closed at once and counted in
        /// `rejectedConnectionCount`.
        public var descriptorReserve: Int

        public init(
            address: SocketAddress,
            tls: TLSContext,
            maximumConnections: Int = 10_000,
            connection: TLSConnection.Options = TLSConnection.Options(),
            backlog: Int32 = 4096,
            acceptPause: Duration = .milliseconds(100),
            evictableHandshakeAge: Duration = .seconds(1),
            descriptorReserve: Int = 64
        ) {
            self.address = address
            self.tls = tls
            self.maximumConnections = maximumConnections
            self.connection = connection
            self.backlog = backlog
            self.acceptPause = acceptPause
            self.evictableHandshakeAge = evictableHandshakeAge
            self.descriptorReserve = descriptorReserve
        }
    }

    public let configuration: Configuration
    public let group: EventLoopGroup
    /// The address actually bound (with the kernel's port when the configuration asked for port 0).
    public let localAddress: SocketAddress
    let makeHandler: @Sendable (TLSConnection) -> any ConnectionHandler
    let listener: Listener
    private let connections = Mutex(ConnectionTable())
    private let rejected = Atomic<Int>(0)
    private let evicted = Atomic<Int>(0)
    let pauses = Atomic<Int>(0)

    /// Binds, listens and starts accepting on one loop of `group`. `makeHandler` is called on the loop that will
    /// own each new connection, before its handshake.
    public init(
        configuration: Configuration,
        group: EventLoopGroup,
        makeHandler: @escaping @Sendable (TLSConnection) -> any ConnectionHandler
    ) async throws {
        let socket = try Socket.listening(on: configuration.address, backlog: configuration.backlog)
        self.localAddress = try socket.localAddress()
        self.configuration = configuration
        self.group = group
        self.makeHandler = makeHandler
        self.listener = Listener(socket: socket, eventLoop: group.next())
        try await self.listener.eventLoop.submit { [self] in try self.listener.start(server: self) }
    }

    /// Connections accepted and not yet closed.
    public var connectionCount: Int { self.connections.withLock { $0.all.count } }
    /// Connections closed at once because `maximumConnections` was reached or they would have taken a reserved
    /// descriptor.
    public var rejectedConnectionCount: Int { self.rejected.load(ordering: .relaxed) }
    /// Connections still in their TLS handshake closed to make room for a newcomer at the limit.
    public var evictedHandshakeCount: Int { self.evicted.load(ordering: .relaxed) }
    /// Times accepting paused because descriptors ran out.
    public var acceptPauseCount: Int { self.pauses.load(ordering: .relaxed) }

    /// Stops accepting and closes the listening socket; with `closingConnections`, also asks every live
    /// connection to close gracefully (pending output, then close_notify). Returns once the listener is closed.
    public func close(closingConnections: Bool = true) async {
        _ = try? await self.listener.eventLoop.submit { [self] in self.listener.close() }
        guard closingConnections else { return }
        let live = self.connections.withLock { Array($0.all.values) }
        for connection in live {
            connection.eventLoop.execute { connection.close() }
        }
    }

    /// Called on the listener's loop for each accepted socket.
    func adopt(_ socket: Socket) {
        guard !self.takesReservedDescriptor(socket) else {
            self.reject(socket)
            return
        }
        let (admitted, victim) = self.connections.withLock { table -> (Bool, TLSConnection?) in
            guard table.all.count >= self.configuration.maximumConnections else { return (true, nil) }
            let bornBefore = ContinuousClock.now - self.configuration.evictableHandshakeAge
            guard let victim = table.removeOldestHandshaking(acceptedBefore: bornBefore) else { return (false, nil) }
            return (true, victim)
        }
        guard admitted else {
            self.reject(socket)
            return
        }
        if let victim {
            // Out of the table already (so the count stays within the limit); its socket closes on its own loop.
            self.evicted.add(1, ordering: .relaxed)
            victim.eventLoop.execute { victim.abort() }
        }
        let session: TLSSession
        do {
            session = try TLSSession(context: self.configuration.tls)
        } catch {
            try? socket.close()
            return
        }
        try? socket.setNoDelay(true)
        let loop = self.group.next()
        let connection = TLSConnection(
            socket: socket, tls: session, eventLoop: loop, options: self.configuration.connection, connecting: false)
        let key = ObjectIdentifier(connection)
        self.connections.withLock { $0.insert(connection) }
        // Set before the connection reaches its loop, so both run there later; onActive also hears a failed
        // handshake (the connection closed first), and removing twice is harmless.
        connection.onActive = { [self] _ in
            self.connections.withLock { $0.handshakeFinished(key) }
        }
        connection.onClose = { [self] _ in
            self.connections.withLock { $0.remove(key) }
        }
        let makeHandler = self.makeHandler
        let accepted = loop.execute { connection.start(makeHandler) }
        if !accepted {
            self.connections.withLock { $0.remove(key) }
            try? socket.close()
        }
    }
}

extension TCPServer {
    /// Reads the soft limit on every accept rather than once at start: an operator may change it on the running
    /// process (`prlimit`), and one getrlimit is nothing next to a TLS handshake.
    private func takesReservedDescriptor(_ socket: Socket) -> Bool {
        let reserve = self.configuration.descriptorReserve
        guard reserve > 0, let limit = try? ResourceLimits.openFiles() else { return false }
        let ceiling = limit.current >= UInt64(Int32.max) ? Int64(Int32.max) : Int64(limit.current)
        return Int64(socket.fileDescriptor.rawValue) >= ceiling - Int64(reserve)
    }

    /// Closes with a reset, so the peer learns at once instead of waiting on a connection nobody serves.
    private func reject(_ socket: Socket) {
        self.rejected.add(1, ordering: .relaxed)
        try? socket.setResetOnClose()
        try? socket.close()
    }
}

/// The live connections and, among them, those still in their TLS handshake with the order they were accepted in.
struct ConnectionTable {
    var all: [ObjectIdentifier: TLSConnection] = [:]
    /// When each connection still handshaking was accepted.
    var handshaking: [ObjectIdentifier: ContinuousClock.Instant] = [:]

    mutating func insert(_ connection: TLSConnection) {
        let key = ObjectIdentifier(connection)
        self.all[key] = connection
        self.handshaking[key] = .now
    }

    mutating func handshakeFinished(_ key: ObjectIdentifier) {
        self.handshaking[key] = nil
    }

    mutating func remove(_ key: ObjectIdentifier) {
        self.all[key] = nil
        self.handshaking[key] = nil
    }

    /// Takes the longest-handshaking connection out of the table if it was accepted before `instant`; nil when there
    /// is none that old. A linear scan, paid only at the limit: cheaper than keeping an ordered structure on every
    /// accept and close.
    mutating func removeOldestHandshaking(acceptedBefore instant: ContinuousClock.Instant) -> TLSConnection? {
        guard let (oldest, accepted) = self.handshaking.min(by: { $0.value < $1.value }), accepted <= instant else {
            return nil
        }
        let connection = self.all[oldest]
        self.remove(oldest)
        return connection
    }
}

/// The listening socket, confined to one loop.
///
/// `@unchecked Sendable`: created off the loop but, from `start` on, touched only on `eventLoop` (asserted).
final class Listener: @unchecked Sendable, EventLoopSelectable {
    let socket: Socket
    let eventLoop: EventLoop
    private var registration: EventLoop.Registration?
    private weak var server: TCPServer?
    private var resumeTimer: ScheduledTimer?
    /// Accepts per readiness report, so a connection storm still lets the loop serve its connections.
    private static let acceptsPerTurn = 256

    init(socket: Socket, eventLoop: EventLoop) {
        self.socket = socket
        self.eventLoop = eventLoop
    }

    func start(server: TCPServer) throws(Errno) {
        self.eventLoop.assertInEventLoop()
        self.server = server
        self.registration = try self.eventLoop.register(self.socket.fileDescriptor, interest: .readable, owner: self)
    }

    func handleEvent(_ flags: Epoll.Flags) {
        guard let server = self.server else {
            // The server object is gone without `close()`: a listener nobody accepts for would stay readable and
            // spin the loop, so it closes itself.
            self.close()
            return
        }
        for _ in 0..<Self.acceptsPerTurn {
            do throws(Errno) {
                guard case .processed(let socket) = try self.socket.accept() else { return }
                server.adopt(socket)
            } catch {
                if error == .connectionAborted { continue }
                // EMFILE and friends leave the connection pending and the listener readable: without a pause the
                // loop would spin. Any other failure is paused on too rather than retried at full speed.
                self.pause(for: server.configuration.acceptPause, server: server)
                return
            }
        }
    }

    private func pause(for duration: Duration, server: TCPServer) {
        guard let registration = self.registration else { return }
        server.pauses.add(1, ordering: .relaxed)
        try? self.eventLoop.modify(registration, self.socket.fileDescriptor, interest: [])
        self.resumeTimer = self.eventLoop.schedule(after: duration) { [weak self] in
            guard let self, let registration = self.registration else { return }
            try? self.eventLoop.modify(registration, self.socket.fileDescriptor, interest: .readable)
        }
    }

    func close() {
        self.eventLoop.assertInEventLoop()
        self.resumeTimer?.cancel()
        if let registration = self.registration {
            self.eventLoop.deregister(registration, self.socket.fileDescriptor)
            self.registration = nil
        }
        try? self.socket.close()
    }

    func endOfTurn() {}

    func eventLoopClosing() {
        self.close()
    }
}
