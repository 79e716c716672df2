// A client connected to a Router with no sockets, for fast service tests. It is deliberately not a shortcut: both
// ends run the real connection and stream machines over real frame bytes, so a test here exercises the same flow
// control, limits, deadlines and cancellation as the network transport, and a bug there shows up here too.

import Synchronization

/// A client and a server connected in memory.
public final class InProcessTransport: RPCClient {
    let client: InProcessEndpoint
    let server: InProcessEndpoint
    let clientToServer: BytePipe
    let serverToClient: BytePipe

    /// `clientSettings` and `serverSettings` are what each side enforces on what it receives (max message bytes,
    /// windows, concurrency), exactly as they would be advertised over a socket.
    public init(
        router: Router,
        clientSettings: ConnectionSettings = .defaults,
        serverSettings: ConnectionSettings = .defaults
    ) {
        let clientToServer = BytePipe()
        let serverToClient = BytePipe()
        let client = InProcessEndpoint(
            role: .client, settings: clientSettings, outbound: clientToServer, onCall: nil)
        let server = InProcessEndpoint(
            role: .server, settings: serverSettings, outbound: serverToClient,
            onCall: { endpoint, id, context in Self.run(router, endpoint, id, context) })
        clientToServer.connect(to: server)
        serverToClient.connect(to: client)
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
        self.server.goAway()
    }

    /// Bytes queued in memory between the two ends right now (both directions); zero between deliveries.
    var bufferedPipeBytes: Int {
        self.clientToServer.state.withLock { $0.queue.count }
            + self.serverToClient.state.withLock { $0.queue.count }
    }

    /// Requests received by the server and not yet read by handlers, over every call: what a slow handler makes the
    /// server buffer. Flow control bounds it by the windows.
    public var serverBufferedRequestBytes: Int {
        self.server.state.withLock { state in
            state.calls.values.reduce(0) { total, call in
                total + call.inbound[call.inboundHead...].reduce(0) { $0 + $1.bytes.count }
            }
        }
    }

    public func makeCall(
        _ method: MethodDescriptor,
        metadata: Metadata,
        deadline: ContinuousClock.Instant?
    ) async throws -> any ClientCall {
        let timeout = deadline.map { ContinuousClock.now.duration(to: $0) }
        let headers = CallHeaders(methodPath: method.path, metadata: metadata, timeout: timeout)
        let id = try await self.client.openStream(headers, deadline: deadline)
        let call = InProcessClientCall(
            endpoint: self.client, id: id, maxRequestBytes: self.client.peerMaxMessageBytes)
        if let deadline {
            let endpoint = self.client
            let timer = Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                guard !Task.isCancelled else { return }
                endpoint.reset(id, code: .deadlineExceeded, message: "deadline exceeded")
            }
            self.client.attachTimer(timer, to: id)
        }
        return call
    }

    /// Runs one call's handler on its own task, with the deadline timer beside it.
    static func run(
        _ router: Router, _ endpoint: InProcessEndpoint, _ id: StreamID, _ context: ServerContext
    ) {
        let io = CallIO(
            receive: { try await endpoint.receive(on: id) },
            send: { try await endpoint.send($0, endStream: false, on: id) },
            maxOutboundMessageBytes: endpoint.peerMaxMessageBytes
        )
        let task = Task {
            let trailers = await router.handle(io, context: context)
            context.finish()
            endpoint.finish(id, trailers: trailers)
        }
        var timer: Task<Void, Never>?
        if let deadline = context.deadline {
            timer = Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                guard !Task.isCancelled else { return }
                endpoint.expire(id)
            }
        }
        context.attach(task: task, timer: timer)
    }
}

/// The client's handle on one in-process call.
struct InProcessClientCall: ClientCall {
    let endpoint: InProcessEndpoint
    let id: StreamID
    let maxRequestBytes: Int

    func send(_ message: [UInt8], endStream: Bool) async throws {
        try await self.endpoint.send(message, endStream: endStream, on: self.id)
    }

    func closeSend() async throws {
        try await self.endpoint.send(nil, endStream: true, on: self.id)
    }

    func receive() async throws -> [UInt8]? {
        try await self.endpoint.receive(on: self.id)
    }

    func cancel() {
        self.endpoint.reset(self.id, code: .cancelled, message: "call cancelled")
    }

    func finish() {
        self.endpoint.reset(self.id, code: .cancelled, message: "call cancelled")
        self.endpoint.release(self.id)
    }
}
