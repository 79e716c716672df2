// The streaming Diagnostics calls (EchoStream, Sink) for load tests. vigilbench may not import VigilRPC, so the
// stream handles here are VigilClient's own small types rather than RPCMessageWriter/RPCMessageStream.
//
// Messages are encoded once by the caller (`DiagnosticsMessage`) and sent as raw bytes: EchoRequest and
// SinkRequest share their one field (`bytes payload = 1`), so one encoding serves both, and a benchmark of the
// transport then measures the transport rather than re-encoding the same payload for every message.
public import VigilAPI
import VigilRPC
import VigilWire

/// An encoded EchoRequest/SinkRequest, ready to send any number of times.
public struct DiagnosticsMessage: Sendable {
    public let bytes: [UInt8]
    /// Payload bytes it carries (what counts as throughput).
    public let payloadCount: Int

    public init(payload: [UInt8]) {
        var request = SinkRequest()
        request.payload = payload
        self.bytes = request.serializedBytes()
        self.payloadCount = payload.count
    }
}

/// The request half of a Diagnostics stream.
public struct DiagnosticsSender: Sendable {
    let call: any ClientCall

    /// Sends one message; waits while flow control holds it back.
    public func send(_ message: DiagnosticsMessage) async throws {
        try self.checkSize(message)
        try await self.call.send(message.bytes, endStream: false)
    }

    /// Sends `messages`, each its own message on the stream, framed together as far as flow control allows: one
    /// hand-over to the connection, and one PACKED frame for many small messages, instead of one each.
    public func send(contentsOf messages: [DiagnosticsMessage]) async throws {
        // Checked while mapped: each pass over the messages retains and releases every buffer once more.
        let bytes = try messages.map { message throws(RPCError) in
            try self.checkSize(message)
            return message.bytes
        }
        try await self.call.send(contentsOf: bytes)
    }

    private func checkSize(_ message: DiagnosticsMessage) throws(RPCError) {
        guard message.bytes.count <= self.call.maxRequestBytes else {
            throw RPCError(
                code: .resourceExhausted,
                message: "message of \(message.bytes.count) bytes exceeds the peer's limit of "
                    + "\(self.call.maxRequestBytes)")
        }
    }

    /// Half-closes the stream: no more messages.
    public func finish() async throws { try await self.call.closeSend() }
}

/// The response half of an EchoStream.
public struct DiagnosticsReceiver: Sendable {
    let call: any ClientCall

    /// The payload of the next echoed message; nil once the server ended the stream with OK.
    public func next() async throws -> [UInt8]? {
        guard let bytes = try await self.call.receive() else { return nil }
        do {
            return try EchoResponse(serializedBytes: bytes).payload
        } catch {
            throw RPCError(code: .internal, message: "undecodable EchoResponse: \(error)")
        }
    }
}

extension VigilClient {
    /// EchoStream: `body` sends and reads as it likes; the stream half-closes and ends when it returns.
    public func echoStream<Result: Sendable>(
        timeout: Duration? = nil,
        _ body: @Sendable (DiagnosticsSender, DiagnosticsReceiver) async throws -> Result
    ) async throws -> Result {
        try await self.withDiagnosticsCall(DiagnosticsMethods.echoStream, timeout: timeout) { call in
            try await body(DiagnosticsSender(call: call), DiagnosticsReceiver(call: call))
        }
    }

    /// Sink: `body` sends messages; then the stream half-closes and the server's counts come back with what
    /// `body` returned.
    public func sink<Result: Sendable>(
        timeout: Duration? = nil,
        _ body: @Sendable (DiagnosticsSender) async throws -> Result
    ) async throws -> (result: Result, response: SinkResponse) {
        try await self.withDiagnosticsCall(DiagnosticsMethods.sink, timeout: timeout) { call in
            let result = try await body(DiagnosticsSender(call: call))
            try await call.closeSend()
            guard let bytes = try await call.receive() else {
                throw RPCError(code: .internal, message: "Sink ended without a response")
            }
            do {
                return (result, try SinkResponse(serializedBytes: bytes))
            } catch {
                throw RPCError(code: .internal, message: "undecodable SinkResponse: \(error)")
            }
        }
    }

    /// Opens a call with the session's token and ties it to the task's cancellation, as `RPCClient`'s typed
    /// shapes do (theirs is internal to VigilRPC); the call is freed however `body` leaves.
    private func withDiagnosticsCall<Result: Sendable>(
        _ method: MethodDescriptor,
        timeout: Duration?,
        _ body: @Sendable (any ClientCall) async throws -> Result
    ) async throws -> Result {
        let call = try await self.transport.makeCall(
            method, metadata: try await self.authorization(), deadline: self.deadline(timeout))
        defer { call.finish() }
        return try await withTaskCancellationHandler {
            try await body(call)
        } onCancel: {
            call.cancel()
        }
    }
}
