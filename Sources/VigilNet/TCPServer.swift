// The listening side: one listener on one loop accepts, and each accepted socket goes round-robin to a loop of the
// group, where it lives as a TLSConnection. The server keeps the live connections so it can count them against
// its limit and close them all on shutdown; that table is the only state shared across loops, behind a Mutex.
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
        public var maximumConnections: Int
        /// Each accepted connection's limits, the handshake timeout included.
        public var connection: TLSConnection.Options
        public var backlog: Int32
        /// How long accepting pauses after running out of descriptors (EMFILE/ENFILE) instead of spinning.
        public var acceptPause: Duration

        public init(
            address: SocketAddress,
            tls: TLSContext,
            maximumConnections: Int = 10_000,
            connection: TLSConnection.Options = TLSConnection.Options(),
            backlog: Int32 = 4096,
            acceptPause: Duration = .milliseconds(100)
        ) {
            self.address = address
            self.tls = tls
            self.maximumConnections = maximumConnections
            self.connection = connection
            self.backlog = backlog
            self.acceptPause = acceptPause
        }
    }

    public let configuration: Configuration
    public let group: EventLoopGroup
    /// The address actually bound (with the kernel's port when the configuration asked for port 0).
    public let localAddress: SocketAddress
    let makeHandler: @Sendable (TLSConnection) -> any ConnectionHandler
    let listener: Listener
    private let connections = Mutex<[ObjectIdentifier: TLSConnection]>([:])
    private let rejected = Atomic<Int>(0)
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
    public var connectionCount: Int { self.connections.withLock { $0.count } }
    /// Connections closed at once because `maximumConnections` was reached.
    public var rejectedConnectionCount: Int { self.rejected.load(ordering: .relaxed) }
    /// Times accepting paused because descriptors ran out.
    public var acceptPauseCount: Int { self.pauses.load(ordering: .relaxed) }

    /// Stops accepting and closes the listening socket; with `closingConnections`, also asks every live
    /// connection to close gracefully (pending output, then close_notify). Returns once the listener is closed.
    public func close(closingConnections: Bool = true) async {
        _ = try? await self.listener.eventLoop.submit { [self] in self.listener.close() }
        guard closingConnections else { return }
        let live = self.connections.withLock { Array($0.values) }
        for connection in live {
            connection.eventLoop.execute { connection.close() }
        }
    }

    /// Called on the listener's loop for each accepted socket.
    func adopt(_ socket: Socket) {
        let admitted = self.connections.withLock { $0.count < self.configuration.maximumConnections }
        guard admitted else {
            self.rejected.add(1, ordering: .relaxed)
            try? socket.setResetOnClose()
            try? socket.close()
            return
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
        self.connections.withLock { $0[key] = connection }
        connection.onClose = { [self] _ in
            _ = self.connections.withLock { $0.removeValue(forKey: key) }
        }
        let makeHandler = self.makeHandler
        let accepted = loop.execute { connection.start(makeHandler) }
        if !accepted {
            _ = self.connections.withLock { $0.removeValue(forKey: key) }
            try? socket.close()
        }
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
