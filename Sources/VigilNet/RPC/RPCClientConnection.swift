// The client half of the RPC core on real sockets: one TLS connection, one client-role `RPCEndpoint`, any number
// of concurrent calls multiplexed as streams. Everything about calls (deadlines, task cancellation → RST_STREAM,
// flow control, waiting for a stream slot, GOAWAY) is the endpoint's, shared with the in-process transport; this
// type connects, moves bytes, and reports when the connection can no longer take calls so a caller can reconnect.
import Synchronization
public import VigilPOSIX
public import VigilRPC
public import VigilTLS

/// An `RPCClient` over one TLS connection.
///
/// `Sendable`: the endpoint is `Sendable`, the connection reference is only used through its loop, and the close
/// state is behind a `Mutex` in the handler.
public final class RPCClientConnection: ForwardingRPCClient, Sendable {
    let endpoint: RPCEndpoint
    let handler: RPCClientHandler
    let connection: TLSConnection

    public var eventLoop: EventLoop { self.connection.eventLoop }

    init(endpoint: RPCEndpoint, handler: RPCClientHandler, connection: TLSConnection) {
        self.endpoint = endpoint
        self.handler = handler
        self.connection = connection
    }

    /// The loop keeps the TLS connection registered for as long as it is open, so a client object nobody holds any
    /// more would otherwise leave its socket open until the server's idle timeout. Calls made through the
    /// `RPCClient` methods hold the client while they run, so this only ends calls whose owner already let go.
    deinit {
        let connection = self.connection
        connection.eventLoop.execute { connection.close() }
    }

    /// Connects, finishes the TLS handshake and sends the preface and SETTINGS (`settings`: what this client
    /// enforces on responses). Calls may start at once; the server's SETTINGS apply when they arrive.
    public static func connect(
        to address: SocketAddress,
        tls: TLSContext,
        serverName: String,
        on loop: EventLoop,
        settings: ConnectionSettings = .defaults,
        options: TLSConnection.Options = TLSConnection.Options()
    ) async throws(ConnectionError) -> RPCClientConnection {
        let sink = LoopByteSink(loop: loop)
        let endpoint = RPCEndpoint(role: .client, settings: settings, peer: "\(address)", output: sink, timers: loop)
        let handler = RPCClientHandler(loop: loop, sink: sink, endpoint: endpoint)
        let connection = try await TCPClient.connect(
            to: address, tls: tls, serverName: serverName, on: loop, options: options
        ) { _ in handler }
        return RPCClientConnection(endpoint: endpoint, handler: handler, connection: connection)
    }

    public func callTarget() async throws -> any RPCClient { self.endpoint }

    /// False once the server sent GOAWAY or the connection closed: new calls would fail UNAVAILABLE, so a caller
    /// should open a new connection (calls already running on this one still finish).
    public var isAvailable: Bool {
        !self.handler.isClosed && !self.endpoint.isClosed && !self.endpoint.peerIsGoingAway
    }

    /// True once the TLS connection closed.
    public var isClosed: Bool { self.handler.isClosed }

    /// Calls open on this connection now.
    public var openStreamCount: Int { self.endpoint.openStreamCount }

    /// What the server advertised (limits, windows), once its SETTINGS arrived.
    public var serverSettings: ConnectionSettings? { self.endpoint.peerSettings }

    /// Closes the connection (open calls fail UNAVAILABLE) and returns once it is closed.
    public func close() async {
        let connection = self.connection
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            guard self.handler.whenClosed(continuation) else {
                continuation.resume()
                return
            }
            if !connection.eventLoop.execute({ connection.close() }) {
                self.handler.resumeWaiters()
            }
        }
    }

    /// Drops the TCP connection at once with a reset, as a crashed or vanished client would (tests).
    public func abort() {
        let connection = self.connection
        connection.eventLoop.execute { connection.abort() }
    }
}

/// The client connection's `ConnectionHandler`.
///
/// `@unchecked Sendable`: handed to the loop by `TCPClient`; it has no loop-confined mutable state of its own (the
/// sink and endpoint are `Sendable`), and its close state with its waiters is behind a `Mutex`.
final class RPCClientHandler: ConnectionHandler, @unchecked Sendable {
    struct State {
        var closed = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    let loop: EventLoop
    let sink: LoopByteSink
    let endpoint: RPCEndpoint
    let state = Mutex(State())

    init(loop: EventLoop, sink: LoopByteSink, endpoint: RPCEndpoint) {
        self.loop = loop
        self.sink = sink
        self.endpoint = endpoint
    }

    var isClosed: Bool { self.state.withLock { $0.closed } }

    /// Registers a waiter for the close; false when already closed (the caller resumes it).
    func whenClosed(_ continuation: CheckedContinuation<Void, Never>) -> Bool {
        self.state.withLock { state in
            guard !state.closed else { return false }
            state.waiters.append(continuation)
            return true
        }
    }

    func resumeWaiters() {
        let waiters = self.state.withLock { state in
            state.closed = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func connectionActive(_ connection: TLSConnection) {
        self.loop.assertInEventLoop()
        self.sink.attach(connection)
    }

    func received(_ plaintext: [UInt8], on connection: TLSConnection) {
        self.loop.assertInEventLoop()
        self.endpoint.receive(plaintext)
        if self.endpoint.isClosed {
            connection.close()
        }
    }

    func connectionClosed(_ connection: TLSConnection, error: ConnectionError?) {
        self.loop.assertInEventLoop()
        self.sink.close()
        self.endpoint.connectionLost(error.map { "\($0)" } ?? "closed by the server")
        self.resumeWaiters()
    }
}
