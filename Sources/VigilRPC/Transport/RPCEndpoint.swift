// One end of a Vigil RPC connection over any byte transport: the in-process endpoint's machinery (decoder, state
// machine, encoder, per-call buffers with flow-control credit returned on consumption, deadlines, resets, GOAWAY)
// made public so VigilNet's socket transport drives the very code the in-process tests exercise (habit 11). The
// transport only moves bytes: `receive` what the peer sent, deliver what the `RPCByteSink` is given, and say when
// the transport itself is gone (`connectionLost`).

import Synchronization

/// A connection endpoint, client or server role, independent of how bytes travel.
public final class RPCEndpoint: RPCClient, Sendable {
    let core: InProcessEndpoint
    /// Handler tasks started and not yet finished (server role): what "the server freed the stream" is checked by.
    let counter: HandlerCounter

    /// `settings` are the limits this side enforces on what it receives (advertised in its SETTINGS, which are
    /// queued on `output` with the preface right away). A server passes its `router`; its handlers run as tasks
    /// preferring `handlerExecutor` (the connection's event loop) when given, so they run where the bytes arrive.
    /// Call deadlines run on `timers` (the event loop's, on a network connection).
    public init(
        role: ConnectionStateMachine.Role,
        settings: ConnectionSettings = .defaults,
        peer: String,
        output: any RPCByteSink,
        router: Router? = nil,
        handlerExecutor: (any TaskExecutor)? = nil,
        timers: any CallTimers = TaskCallTimers()
    ) {
        var onCall: (@Sendable (InProcessEndpoint, StreamID, ServerContext) -> Void)?
        let counter = HandlerCounter()
        if let router {
            onCall = { endpoint, id, context in
                Self.run(router, endpoint, id, context, executor: handlerExecutor, counter: counter)
            }
        }
        self.core = InProcessEndpoint(
            role: role, settings: settings, outbound: output, peer: peer, timers: timers, onCall: onCall)
        self.counter = counter
    }

    // MARK: Transport side

    /// Decodes and applies bytes from the peer (all of one read, ideally: one lock round per batch).
    public func receive(_ bytes: [UInt8]) {
        self.core.receiveBytes(bytes)
    }

    /// The byte transport is gone (socket closed, peer vanished): every open call ends UNAVAILABLE (not known to
    /// be processed), server handlers are cancelled, and nothing more is written.
    public func connectionLost(_ message: String) {
        self.core.withState { state, effects in
            if state.machine.isClosed {
                if state.closedReason == nil {
                    state.closedReason = RPCError(code: .unavailable, message: "connection lost: \(message)")
                }
                return
            }
            var action = state.machine.connectionError(.internalError, "connection lost: \(message)")
            action.frames = []
            action.events = action.events.map { event in
                guard case .streamClosed(let id, .failed(_, let text)) = event else { return event }
                return .streamClosed(id, .failed(.unavailable, text))
            }
            self.core.apply(action, &state, &effects)
        }
    }

    /// Starts a graceful shutdown (`.noError`: running streams finish, newer ones are refused) or closes with an
    /// error code (GOAWAY, then every stream ends).
    public func goAway(_ code: GoAwayCode = .noError, message: String = "shutting down") {
        self.core.withState { state, effects in
            let action = state.machine.goAway(code, message: message)
            self.core.apply(action, &state, &effects)
        }
    }

    /// Sends a PING (keepalive); the PONG is answered by the peer's machine and shows up as received bytes.
    public func ping(_ value: UInt64) {
        self.core.withState { state, _ in
            guard !state.machine.isClosed else { return }
            self.core.write([state.machine.ping(value)], &state)
        }
    }

    // MARK: Observation

    /// True after a connection error (or GOAWAY with an error code, or `connectionLost`): the transport should
    /// close once queued bytes are written.
    public var isClosed: Bool { self.core.state.withLock { $0.machine.isClosed } }

    /// True once a GOAWAY went either way and every stream it allowed has finished (or the connection closed).
    public var isDrained: Bool { self.core.state.withLock { $0.machine.isDrained } }

    /// True once the peer's SETTINGS arrived and ours were acknowledged: the handshake of docs/PROTOCOL.md §5.8 is
    /// complete (a transport closes with SETTINGS_TIMEOUT when this takes too long).
    public var settingsExchanged: Bool {
        self.core.state.withLock { $0.machine.receivedSettings && $0.machine.localSettingsAcknowledged }
    }

    /// The limits and windows the peer advertised, once its SETTINGS arrived.
    public var peerSettings: ConnectionSettings? {
        self.core.state.withLock { $0.machine.receivedSettings ? $0.machine.peerSettings : nil }
    }

    /// True once the peer sent GOAWAY.
    public var peerIsGoingAway: Bool { self.core.state.withLock { $0.machine.goAwayReceived != nil } }

    /// Streams open at the state machine now.
    public var openStreamCount: Int { self.core.state.withLock { $0.machine.openStreamCount } }

    /// Server role: handler tasks running now.
    public var activeHandlerCount: Int { self.counter.value.load(ordering: .relaxed) }

    /// Received message bytes no reader has taken yet, plus undecoded input: what a slow handler makes this side
    /// hold. Flow control bounds it by the stream windows (plus one message being reassembled per stream).
    public var bufferedInboundBytes: Int {
        self.core.state.withLock { state in
            state.calls.values.reduce(state.decoder.bufferedByteCount) { total, call in
                total + call.inbound.byteCount
            }
        }
    }

    // MARK: Client role

    public func makeCall(
        _ method: MethodDescriptor,
        metadata: Metadata,
        deadline: ContinuousClock.Instant?
    ) async throws -> any ClientCall {
        precondition(self.core.role == .client, "only a client endpoint opens calls")
        let endpoint = self.core
        let id = try await endpoint.openStream(Self.headers(method, metadata, deadline), deadline: deadline)
        return InProcessClientCall(endpoint: endpoint, id: id, maxRequestBytes: endpoint.peerMaxMessageBytes)
    }

    public func unaryCall(
        _ method: MethodDescriptor,
        metadata: Metadata,
        deadline: ContinuousClock.Instant?,
        request encode: @Sendable (_ limit: Int) throws(RPCError) -> [UInt8]
    ) async throws -> [[UInt8]] {
        precondition(self.core.role == .client, "only a client endpoint opens calls")
        let request = try encode(self.core.peerMaxMessageBytes)
        return try await self.core.unary(
            Self.headers(method, metadata, deadline), request: request, deadline: deadline)
    }

    private static func headers(
        _ method: MethodDescriptor, _ metadata: Metadata, _ deadline: ContinuousClock.Instant?
    ) -> CallHeaders {
        let timeout = deadline.map { ContinuousClock.now.duration(to: $0) }
        return CallHeaders(methodPath: method.path, metadata: metadata, timeout: timeout)
    }

    // MARK: Server role

    /// Runs one call's handler on its own task (preferring `executor`), with the deadline timer beside it.
    static func run(
        _ router: Router, _ endpoint: InProcessEndpoint, _ id: StreamID, _ context: ServerContext,
        executor: (any TaskExecutor)?, counter: HandlerCounter
    ) {
        // Each closure captures only `call`: a closure whose one capture is an object uses it as its context, so
        // the five cost one allocation instead of one each.
        let call = ServerCallChannel(endpoint: endpoint, id: id, context: context)
        let io = CallIO(
            receive: { try await call.endpoint.receive(on: call.id) },
            receiveAvailable: { try await call.endpoint.receiveAvailable(on: call.id) },
            send: { try await call.endpoint.send($0, endStream: false, on: call.id) },
            maxOutboundMessageBytes: endpoint.peerMaxMessageBytes,
            receiveSingle: { try await call.endpoint.receiveSingle(on: call.id) },
            sendLast: { call.context.holdLast($0) }
        )
        counter.value.add(1, ordering: .relaxed)
        // `@concurrent`: a task's operation has no caller whose executor it could inherit (the module is nonsending
        // by default).
        let body: @concurrent @Sendable () async -> Void = {
            let trailers = await router.handle(io, context: context)
            let last = context.finish()
            if !endpoint.finish(id, last: last, trailers: trailers), let last {
                await Self.finishAfterSending(last, trailers, endpoint, id)
            }
            counter.value.subtract(1, ordering: .relaxed)
        }
        let task = executor.map { Task(executorPreference: $0, operation: body) } ?? Task(operation: body)
        let timer = context.deadline.map { deadline in endpoint.timers.schedule(at: deadline) { endpoint.expire(id) } }
        context.attach(task: task, timer: timer)
    }
}

extension RPCEndpoint {
    /// The windows could not take all of a handler's held-back last message: it goes the ordinary way, waiting for
    /// credit, and the trailers after it. A send that fails found the call ended; finishing is then a release. Out
    /// of line, so the handler task's first async frame stays small (every call allocates it).
    @inline(never)
    static func finishAfterSending(
        _ last: [UInt8], _ trailers: CallTrailers, _ endpoint: InProcessEndpoint, _ id: StreamID
    ) async {
        try? await endpoint.send(last, endStream: false, on: id)
        _ = endpoint.finish(id, last: nil, trailers: trailers)
    }
}

/// What a server call's I/O closures need, in one object they all capture.
final class ServerCallChannel: Sendable {
    let endpoint: InProcessEndpoint
    let id: StreamID
    let context: ServerContext

    init(endpoint: InProcessEndpoint, id: StreamID, context: ServerContext) {
        self.endpoint = endpoint
        self.id = id
        self.context = context
    }
}

/// Handler tasks in flight, shared between the endpoint and the closures that start them.
final class HandlerCounter: Sendable {
    let value = Atomic<Int>(0)
}
