// Maps method paths to handlers and turns every way a handler can end into the trailers the client sees. Handlers
// are written against typed messages in one of four shapes; the router adapts each to raw message I/O, so a
// transport only moves bytes and never knows message types.

public import VigilWire

/// The server's table of methods.
public struct Router: Sendable {
    /// A handler over raw message I/O; the typed `register…` methods build these.
    public typealias RawHandler = @Sendable (CallIO, ServerContext) async throws -> Void

    var handlers: [String: (method: MethodDescriptor, handler: RawHandler)] = [:]

    public init() {}

    /// The registered methods, for reflection and logs.
    public var methods: [MethodDescriptor] { self.handlers.values.map(\.method) }

    /// Registers a raw handler; a second registration of the same path replaces the first.
    public mutating func register(_ method: MethodDescriptor, raw handler: @escaping RawHandler) {
        self.handlers[method.path] = (method, handler)
    }

    /// One request, one response.
    public mutating func registerUnary<Request: WireMessage, Response: WireMessage>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        self.register(method) { io, context in
            let request = try await Self.singleRequest(Request.self, io)
            let response = try RPCMessageWriter<Response>.encode(
                try await handler(request, context), limit: io.maxOutboundMessageBytes)
            if let sendLast = io.sendLast {
                sendLast(response)
            } else {
                try await io.send(response)
            }
        }
    }

    /// Many requests, one response.
    public mutating func registerClientStreaming<Request: WireMessage, Response: WireMessage>(
        _ method: MethodDescriptor,
        _ handler:
            @escaping @Sendable (RPCMessageStream<Request>, ServerContext) async throws -> Response
    ) {
        self.register(method) { io, context in
            let response = try await handler(Self.requests(Request.self, io), context)
            try await Self.writer(Response.self, io).write(response)
        }
    }

    /// One request, many responses.
    public mutating func registerServerStreaming<Request: WireMessage, Response: WireMessage>(
        _ method: MethodDescriptor,
        _ handler:
            @escaping @Sendable (Request, RPCMessageWriter<Response>, ServerContext) async throws -> Void
    ) {
        self.register(method) { io, context in
            let request = try await Self.singleRequest(Request.self, io)
            try await handler(request, Self.writer(Response.self, io), context)
        }
    }

    /// Many each way, interleaved as the handler likes.
    public mutating func registerBidirectional<Request: WireMessage, Response: WireMessage>(
        _ method: MethodDescriptor,
        _ handler:
            @escaping @Sendable (RPCMessageStream<Request>, RPCMessageWriter<Response>, ServerContext)
            async throws -> Void
    ) {
        self.register(method) { io, context in
            try await handler(Self.requests(Request.self, io), Self.writer(Response.self, io), context)
        }
    }

    static func requests<Request: WireMessage>(_: Request.Type, _ io: CallIO) -> RPCMessageStream<
        Request
    > {
        RPCMessageStream(
            receive: io.receive, receiveAvailable: io.receiveAvailable, decodeFailureCode: .invalidArgument)
    }

    /// The call's one request, read in one step where the transport can.
    static func singleRequest<Request: WireMessage>(_: Request.Type, _ io: CallIO) async throws -> Request {
        guard let receiveSingle = io.receiveSingle else { return try await Self.requests(Request.self, io).single() }
        return try RPCMessageStream<Request>.single(of: try await receiveSingle(), decodeFailureCode: .invalidArgument)
    }

    static func writer<Response: WireMessage>(_: Response.Type, _ io: CallIO) -> RPCMessageWriter<
        Response
    > {
        RPCMessageWriter(send: io.send, maxMessageBytes: io.maxOutboundMessageBytes)
    }

    // MARK: Running a call

    /// Runs the call's handler and returns the trailers that end it: OK with the context's trailing metadata when
    /// it returns; the error's status when it throws `RPCError`; the cancellation's reason (or CANCELLED) when it
    /// was cancelled; UNKNOWN, with no detail sent to the client, for any other error.
    public func handle(_ io: CallIO, context: ServerContext) async -> CallTrailers {
        guard let entry = self.handlers[context.methodPath] else {
            return CallTrailers(
                status: Status(code: .unimplemented, message: "unknown method \(context.methodPath)"))
        }
        do {
            try await entry.handler(io, context)
            return CallTrailers(status: .ok, metadata: context.trailingMetadata)
        } catch let error as RPCError {
            var metadata = error.metadata
            for entry in context.trailingMetadata { metadata.entries.append(entry) }
            return CallTrailers(status: error.status, metadata: metadata)
        } catch is CancellationError {
            let code = context.cancellationCode ?? .cancelled
            return CallTrailers(status: Status(code: code, message: "handler cancelled"))
        } catch {
            return CallTrailers(status: Status(code: .unknown, message: "handler failed"))
        }
    }
}
