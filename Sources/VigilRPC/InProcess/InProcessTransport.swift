// A client connected to a Router with no sockets, for fast service tests. It is deliberately not a shortcut: both
// ends run the real connection and stream machines over real frame bytes, so a test here exercises the same flow
// control, limits, deadlines and cancellation as the network transport, and a bug there shows up here too.

import Synchronization

/// A client and a server connected in memory.
public final class InProcessTransport: ForwardingRPCClient {
    /// The same endpoints the socket transport drives (`RPCEndpoint`), wired to each other through byte pipes.
    let client: RPCEndpoint
    let server: RPCEndpoint
    let clientToServer: BytePipe
    let serverToClient: BytePipe

    /// `clientSettings` and `serverSettings` are what each side enforces on what it receives (max message bytes,
    /// windows, concurrency), exactly as they would be advertised over a socket. `clientTimers` runs the deadlines
    /// of the client's calls.
    public init(
        router: Router,
        clientSettings: ConnectionSettings = .defaults,
        serverSettings: ConnectionSettings = .defaults,
        clientTimers: any CallTimers = TaskCallTimers()
    ) {
        let clientToServer = BytePipe()
        let serverToClient = BytePipe()
        let client = RPCEndpoint(
            role: .client, settings: clientSettings, peer: "in-process", output: clientToServer, timers: clientTimers)
        let server = RPCEndpoint(
            role: .server, settings: serverSettings, peer: "in-process", output: serverToClient, router: router)
        clientToServer.connect(to: server.core)
        serverToClient.connect(to: client.core)
        self.client = client
        self.server = server
        self.clientToServer = clientToServer
        self.serverToClient = serverToClient
        // Prefaces and SETTINGS were queued by each endpoint; exchanging them now settles the handshake.
        clientToServer.drain()
        serverToClient.drain()
    }

    deinit {
        self.clientToServer.disconnect()
        self.serverToClient.disconnect()
    }

    /// Asks the server to go away gracefully: running calls finish, new ones fail UNAVAILABLE.
    public func shutDownServer() {
        self.server.core.goAway()
    }

    /// Bytes queued in memory between the two ends right now (both directions); zero between deliveries.
    var bufferedPipeBytes: Int {
        self.clientToServer.state.withLock { $0.queue.count }
            + self.serverToClient.state.withLock { $0.queue.count }
    }

    /// Requests received by the server and not yet read by handlers, over every call: what a slow handler makes the
    /// server buffer. Flow control bounds it by the windows.
    public var serverBufferedRequestBytes: Int {
        self.server.core.state.withLock { state in
            state.calls.values.reduce(0) { total, call in
                total + call.inbound.byteCount
            }
        }
    }

    public func callTarget() async throws -> any RPCClient { self.client }
}

/// The client's handle on one in-process call.
struct InProcessClientCall: ClientCall {
    let endpoint: InProcessEndpoint
    let id: StreamID
    let maxRequestBytes: Int

    func send(_ message: [UInt8], endStream: Bool) async throws {
        try await self.endpoint.send(message, endStream: endStream, on: self.id)
    }

    func send(contentsOf messages: [[UInt8]]) async throws {
        try await self.endpoint.send(contentsOf: messages, on: self.id)
    }

    func closeSend() async throws {
        try await self.endpoint.send(nil, endStream: true, on: self.id)
    }

    func receive() async throws -> [UInt8]? {
        try await self.endpoint.receive(on: self.id)
    }

    func receiveAvailable() async throws -> [[UInt8]] {
        try await self.endpoint.receiveAvailable(on: self.id)
    }

    func cancel() {
        self.endpoint.reset(self.id, code: .cancelled, message: "call cancelled")
    }

    func finish() {
        self.endpoint.resetAndRelease(self.id, code: .cancelled, message: "call cancelled")
    }
}
