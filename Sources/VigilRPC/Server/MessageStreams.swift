// Typed views over a call's raw message bytes, shared by both ends: a stream that decodes what arrives and a writer
// that encodes what leaves. Decoding and the size limit are checked here, once, so every handler and every client
// stub reports a bad message with the same status.

public import VigilWire
import Synchronization

/// Raw message I/O of one call, as a transport provides it. `receive` returns nil once the peer has sent
/// everything and throws `RPCError` when the call ended otherwise.
public struct CallIO: Sendable {
    public var receive: @Sendable () async throws -> [UInt8]?
    /// Every message received and not yet read, at least one (waiting for it), or none once `receive` would
    /// return nil. Optional: a transport (or a test's wrapper) that only has `receive` leaves it nil.
    public var receiveAvailable: (@Sendable () async throws -> [[UInt8]])?
    public var send: @Sendable (_ message: [UInt8]) async throws -> Void
    /// The peer's `max_message_bytes`: larger messages fail RESOURCE_EXHAUSTED before they are sent.
    public var maxOutboundMessageBytes: Int
    /// The messages the peer sent before half-closing, stopping at two (already a wrong count for a single
    /// request): a single request read in one step instead of a message and an end. Optional, as
    /// `receiveAvailable` is.
    public var receiveSingle: (@Sendable () async throws -> [[UInt8]])?
    /// Holds the handler's last message back to go out with the trailers, in one step, when the handler returns;
    /// for a handler that returns right after it. Optional: without it the message is sent as any other.
    public var sendLast: (@Sendable (_ message: [UInt8]) -> Void)?

    public init(
        receive: @escaping @Sendable () async throws -> [UInt8]?,
        receiveAvailable: (@Sendable () async throws -> [[UInt8]])? = nil,
        send: @escaping @Sendable ([UInt8]) async throws -> Void,
        maxOutboundMessageBytes: Int,
        receiveSingle: (@Sendable () async throws -> [[UInt8]])? = nil,
        sendLast: (@Sendable ([UInt8]) -> Void)? = nil
    ) {
        self.receive = receive
        self.receiveAvailable = receiveAvailable
        self.send = send
        self.maxOutboundMessageBytes = maxOutboundMessageBytes
        self.receiveSingle = receiveSingle
        self.sendLast = sendLast
    }
}

/// The messages the peer sends on a call, decoded. A message that does not decode ends the iteration with
/// `RPCError` of `decodeFailureCode` (INVALID_ARGUMENT for requests: the client sent garbage; INTERNAL for
/// responses: the server broke its contract).
public struct RPCMessageStream<Message: WireMessage>: AsyncSequence, Sendable {
    public typealias Element = Message

    let receive: @Sendable () async throws -> [UInt8]?
    let receiveAvailable: (@Sendable () async throws -> [[UInt8]])?
    @usableFromInline let decodeFailureCode: Status.Code
    /// Messages taken from the transport and not yet returned. The stream's, not an iterator's: a handler may read
    /// the first message with one iterator and the rest with another (IngestEvents does), and a batch taken by the
    /// first must not be lost to the second.
    @usableFromInline let taken = TakenMessages()

    /// With `receiveAvailable` the stream takes every message already received in one go and hands them out
    /// without going back to the transport: a stream of small messages otherwise pays a lock, a lookup and a
    /// flow-control update per message.
    public init(
        receive: @escaping @Sendable () async throws -> [UInt8]?,
        receiveAvailable: (@Sendable () async throws -> [[UInt8]])? = nil,
        decodeFailureCode: Status.Code
    ) {
        self.receive = receive
        self.receiveAvailable = receiveAvailable
        self.decodeFailureCode = decodeFailureCode
    }

    /// The next message's bytes, from the taken batch while it lasts.
    @usableFromInline
    func nextBytes() async throws -> [UInt8]? {
        guard let receiveAvailable = self.receiveAvailable else { return try await self.receive() }
        if let bytes = self.taken.pop() { return bytes }
        return self.taken.keep(try await receiveAvailable())
    }

    /// Inlinable, with `decode`, so a handler's module specializes them for its message type: decoding then calls
    /// the message's own field decoder instead of going through its protocol witnesses (the generic form was about
    /// a sixth of the server's CPU in a 128-byte sink).
    public struct AsyncIterator: AsyncIteratorProtocol {
        @usableFromInline let stream: RPCMessageStream

        @usableFromInline init(stream: RPCMessageStream) { self.stream = stream }

        @inlinable
        public mutating func next() async throws -> Message? {
            // From the taken batch without another async call (each allocates a frame on the task).
            if let bytes = self.stream.taken.pop() {
                return try Self.decode(bytes, code: self.stream.decodeFailureCode)
            }
            guard let bytes = try await self.stream.nextBytes() else { return nil }
            return try Self.decode(bytes, code: self.stream.decodeFailureCode)
        }

        @inlinable
        static func decode(_ bytes: [UInt8], code: Status.Code) throws(RPCError) -> Message {
            do {
                return try Message(serializedBytes: bytes)
            } catch {
                throw RPCError(
                    code: code, message: "\(Message.protoMessageName) does not decode: \(error)", cause: error
                )
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(stream: self) }

    /// Exactly one message, then the end: what unary and server-streaming requests and unary and client-streaming
    /// responses are. None or a second one is INTERNAL (docs/PROTOCOL.md §4: a wrong message count).
    public func single() async throws -> Message {
        guard let first = try await self.nextBytes() else { throw Self.wrongCount(none: true) }
        guard try await self.nextBytes() == nil else { throw Self.wrongCount(none: false) }
        return try AsyncIterator.decode(first, code: self.decodeFailureCode)
    }

    /// The one message of `messages` (what a transport's one-step read of a single message returned), decoded; a
    /// wrong count fails as `single()` does.
    static func single(of messages: [[UInt8]], decodeFailureCode: Status.Code) throws(RPCError) -> Message {
        guard let first = messages.first else { throw Self.wrongCount(none: true) }
        guard messages.count == 1 else { throw Self.wrongCount(none: false) }
        return try AsyncIterator.decode(first, code: decodeFailureCode)
    }

    static func wrongCount(none: Bool) -> RPCError {
        RPCError(code: .internal, message: "expected one \(Message.protoMessageName), got \(none ? "none" : "more")")
    }
}

/// Sends messages on a call, encoded; waits while flow control holds them back, which is how a slow peer slows us.
public struct RPCMessageWriter<Message: WireMessage>: Sendable {
    let send: @Sendable ([UInt8]) async throws -> Void
    /// The peer's message limit.
    public let maxMessageBytes: Int

    public init(send: @escaping @Sendable ([UInt8]) async throws -> Void, maxMessageBytes: Int) {
        self.send = send
        self.maxMessageBytes = maxMessageBytes
    }

    /// Sends one message; RESOURCE_EXHAUSTED (nothing sent) when it is over the peer's limit.
    public func write(_ message: Message) async throws {
        try await self.send(try Self.encode(message, limit: self.maxMessageBytes))
    }

    static func encode(_ message: Message, limit: Int) throws(RPCError) -> [UInt8] {
        let size = message.serializedSize()
        guard size <= limit else {
            throw RPCError(
                code: .resourceExhausted,
                message: "\(Message.protoMessageName) of \(size) bytes exceeds the peer's limit of \(limit)"
            )
        }
        return message.serializedBytes()
    }
}

/// A batch of received messages being handed out, shared by every copy of one stream. Locked, though a call has one
/// reader at a time: the stream is `Sendable`, and the lock is uncontended.
@usableFromInline
final class TakenMessages: Sendable {
    private let state = Mutex<(messages: [[UInt8]], next: Int)>(([], 0))

    /// The next message of the batch, if any is left.
    @usableFromInline
    func pop() -> [UInt8]? {
        self.state.withLock { state in
            guard state.next < state.messages.count else { return nil }
            var message: [UInt8] = []
            swap(&message, &state.messages[state.next])
            state.next += 1
            return message
        }
    }

    /// Keeps `batch` after its first message, which it returns (nil for an empty batch: the end of the stream).
    func keep(_ batch: [[UInt8]]) -> [UInt8]? {
        guard let first = batch.first else { return nil }
        self.state.withLock { $0 = (batch, 1) }
        return first
    }
}
