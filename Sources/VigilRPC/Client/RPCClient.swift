// The client's face of every transport: a transport implements `makeCall` (raw bytes on one stream) and gets the
// four typed call shapes from this extension, so cancellation, deadlines and message-count rules are written once.
// Streaming shapes take a closure rather than returning a stream: the call's lifetime is then the closure's, and a
// call can never outlive its caller holding a stream open.

public import VigilWire

/// One call's raw stream, client side.
public protocol ClientCall: Sendable {
    /// The peer's `max_message_bytes`.
    var maxRequestBytes: Int { get }
    /// Sends one request message (and half-closes with it when `endStream`); waits for flow-control credit. Throws
    /// the call's `RPCError` once it has ended.
    func send(_ message: [UInt8], endStream: Bool) async throws
    /// Sends `messages` in order, each its own message on the wire, as `send` would one by one; a transport frames
    /// as many as the credit allows at once, small ones together in PACKED frames (docs/PROTOCOL.md §5.1). Returns
    /// once every one is written.
    func send(contentsOf messages: [[UInt8]]) async throws
    /// Half-closes: no more requests.
    func closeSend() async throws
    /// The next response message; nil after OK trailers; throws `RPCError` with the call's status otherwise.
    func receive() async throws -> [UInt8]?
    /// Every response received and not yet read, at least one (waiting for it); empty where `receive` returns nil.
    func receiveAvailable() async throws -> [[UInt8]]
    /// Ends the call with CANCELLED if it is still running; its waiters fail CANCELLED. Idempotent; safe from any
    /// thread (task-cancellation handlers call it).
    func cancel()
    /// Ends the call with CANCELLED if it is still running and frees its buffers; nothing may be called after it.
    func finish()
}

extension ClientCall {
    public func send(contentsOf messages: [[UInt8]]) async throws {
        for message in messages { try await self.send(message, endStream: false) }
    }

    public func receiveAvailable() async throws -> [[UInt8]] {
        try await self.receive().map { [$0] } ?? []
    }
}

/// Something that opens calls: a transport's client half.
public protocol RPCClient: Sendable {
    /// Opens a call. `deadline`: when it expires the call ends DEADLINE_EXCEEDED on both sides.
    func makeCall(
        _ method: MethodDescriptor,
        metadata: Metadata,
        deadline: ContinuousClock.Instant?
    ) async throws -> any ClientCall

    /// The unary shape's transport step: sends the request `encode` makes (given the peer's message limit) as the
    /// call's only message and returns the responses that arrived before the call ended OK (stopping at two, which
    /// `unary` reports as a wrong count). A transport can do this in fewer steps than through `makeCall`; the
    /// default does it through `makeCall`.
    func unaryCall(
        _ method: MethodDescriptor,
        metadata: Metadata,
        deadline: ContinuousClock.Instant?,
        request encode: @Sendable (_ limit: Int) throws(RPCError) -> [UInt8]
    ) async throws -> [[UInt8]]
}

/// A client that hands every call to another one: a connection to its endpoint, a transport to its current
/// connection. Conformers say where the next call goes; opening calls is forwarded, so each transport layer does
/// not repeat every `RPCClient` method.
public protocol ForwardingRPCClient: RPCClient {
    /// The client the next call goes to.
    func callTarget() async throws -> any RPCClient
}

extension ForwardingRPCClient {
    public func makeCall(
        _ method: MethodDescriptor,
        metadata: Metadata,
        deadline: ContinuousClock.Instant?
    ) async throws -> any ClientCall {
        try await self.callTarget().makeCall(method, metadata: metadata, deadline: deadline)
    }

    public func unaryCall(
        _ method: MethodDescriptor,
        metadata: Metadata,
        deadline: ContinuousClock.Instant?,
        request encode: @Sendable (_ limit: Int) throws(RPCError) -> [UInt8]
    ) async throws -> [[UInt8]] {
        try await self.callTarget().unaryCall(method, metadata: metadata, deadline: deadline, request: encode)
    }
}

extension RPCClient {
    /// One request, one response.
    public func unary<Request: WireMessage, Response: WireMessage>(
        _ method: MethodDescriptor,
        request: Request,
        responseType: Response.Type = Response.self,
        metadata: Metadata = Metadata(),
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> Response {
        let responses: [[UInt8]]
        do {
            responses = try await self.unaryCall(method, metadata: metadata, deadline: deadline) { limit throws(RPCError) in
                try RPCMessageWriter<Request>.encode(request, limit: limit)
            }
        } catch {
            throw Self.rpcError(error)
        }
        return try RPCMessageStream<Response>.single(of: responses, decodeFailureCode: .internal)
    }

    public func unaryCall(
        _ method: MethodDescriptor,
        metadata: Metadata,
        deadline: ContinuousClock.Instant?,
        request encode: @Sendable (_ limit: Int) throws(RPCError) -> [UInt8]
    ) async throws -> [[UInt8]] {
        try await self.withCall(method, metadata, deadline) { call in
            try await call.send(try encode(call.maxRequestBytes), endStream: true)
            var responses: [[UInt8]] = []
            while responses.count < 2, let response = try await call.receive() { responses.append(response) }
            return responses
        }
    }

    /// One request, many responses, read by `body` while the call runs.
    public func serverStream<Request: WireMessage, Response: WireMessage, Result: Sendable>(
        _ method: MethodDescriptor,
        request: Request,
        responseType: Response.Type = Response.self,
        metadata: Metadata = Metadata(),
        deadline: ContinuousClock.Instant? = nil,
        _ body: @Sendable (RPCMessageStream<Response>) async throws -> Result
    ) async throws -> Result {
        try await self.withCall(method, metadata, deadline) { call in
            try await call.send(
                try RPCMessageWriter<Request>.encode(request, limit: call.maxRequestBytes), endStream: true)
            return try await body(Self.responses(Response.self, call))
        }
    }

    /// Many requests, written by `body`; the call half-closes when it returns, then the one response.
    public func clientStream<Request: WireMessage, Response: WireMessage>(
        _ method: MethodDescriptor,
        requestType: Request.Type = Request.self,
        responseType: Response.Type = Response.self,
        metadata: Metadata = Metadata(),
        deadline: ContinuousClock.Instant? = nil,
        _ body: @Sendable (RPCMessageWriter<Request>) async throws -> Void
    ) async throws -> Response {
        try await self.withCall(method, metadata, deadline) { call in
            try await body(
                RPCMessageWriter(
                    send: { try await call.send($0, endStream: false) },
                    maxMessageBytes: call.maxRequestBytes))
            try await call.closeSend()
            return try await Self.responses(Response.self, call).single()
        }
    }

    /// Many each way: `body` writes requests and reads responses as it likes; the call half-closes when it returns
    /// and ends (CANCELLED if the server has not finished) once the whole call is over.
    public func bidiStream<Request: WireMessage, Response: WireMessage, Result: Sendable>(
        _ method: MethodDescriptor,
        requestType: Request.Type = Request.self,
        responseType: Response.Type = Response.self,
        metadata: Metadata = Metadata(),
        deadline: ContinuousClock.Instant? = nil,
        _ body: @Sendable (RPCMessageWriter<Request>, RPCMessageStream<Response>) async throws -> Result
    ) async throws -> Result {
        try await self.withCall(method, metadata, deadline) { call in
            let writer = RPCMessageWriter<Request>(
                send: { try await call.send($0, endStream: false) }, maxMessageBytes: call.maxRequestBytes)
            return try await body(writer, Self.responses(Response.self, call))
        }
    }

    static func responses<Response: WireMessage>(_: Response.Type, _ call: any ClientCall)
        -> RPCMessageStream<Response>
    {
        RPCMessageStream(
            receive: { try await call.receive() }, receiveAvailable: { try await call.receiveAvailable() },
            decodeFailureCode: .internal)
    }

    /// Opens the call, ties it to the calling task's cancellation (which resets the stream with CANCELLED), and ends
    /// it however `body` leaves; errors other than `RPCError` become CANCELLED (task cancellation) or UNKNOWN.
    func withCall<Result: Sendable>(
        _ method: MethodDescriptor,
        _ metadata: Metadata,
        _ deadline: ContinuousClock.Instant?,
        _ body: @Sendable (any ClientCall) async throws -> Result
    ) async throws(RPCError) -> Result {
        let call: any ClientCall
        do {
            call = try await self.makeCall(method, metadata: metadata, deadline: deadline)
        } catch {
            throw Self.rpcError(error)
        }
        defer { call.finish() }
        do {
            return try await withTaskCancellationHandler {
                try await body(call)
            } onCancel: {
                call.cancel()
            }
        } catch {
            throw Self.rpcError(error)
        }
    }

    static func rpcError(_ error: any Error) -> RPCError {
        switch error {
        case let error as RPCError: error
        case is CancellationError: RPCError(code: .cancelled, message: "call cancelled")
        default: RPCError(code: .unknown, message: "call failed", cause: nil)
        }
    }
}
