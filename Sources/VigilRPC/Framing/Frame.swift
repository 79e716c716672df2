// One frame of the protocol as a value: the decoder's output, the encoder's input and what state machines switch
// on. Payloads are the checked Swift types (metadata validated, settings defaulted), never raw protobuf, so no code
// above the framing layer re-validates.

/// A decoded frame (docs/PROTOCOL.md, "Frame types").
public enum Frame: Sendable, Hashable {
    /// HEADERS: opens a stream (client) or carries initial metadata (server). `endStream`: the client sends no
    /// messages.
    case headers(StreamID, CallHeaders, endStream: Bool)
    /// DATA: a piece of a message.
    case data(StreamID, DataFrame)
    /// TRAILERS: the server's status and trailing metadata; always the last frame of a stream.
    case trailers(StreamID, CallTrailers)
    /// RST_STREAM: ends the stream at once, in both directions, with this status.
    case reset(StreamID, Status.Code)
    /// WINDOW_UPDATE: `increment` more DATA bytes may be sent on the stream (or on the connection for stream 0).
    case windowUpdate(StreamID, increment: UInt32)
    /// PING: the peer must answer with a PONG carrying the same 8 bytes.
    case ping(UInt64)
    /// PONG: the answer to a PING (a PING frame with the ACK flag).
    case pong(UInt64)
    /// GOAWAY: the sender processes no streams above the given id.
    case goAway(GoAway)
    /// SETTINGS: the sender's limits; sent once, as the first frame.
    case settings(ConnectionSettings)
    /// SETTINGS with the ACK flag: the peer now enforces our settings.
    case settingsAck

    /// The stream the frame belongs to; `.connection` for connection frames.
    public var streamID: StreamID {
        switch self {
        case .headers(let stream, _, _), .data(let stream, _), .trailers(let stream, _), .reset(let stream, _),
            .windowUpdate(let stream, _):
            stream
        case .ping, .pong, .goAway, .settings, .settingsAck:
            .connection
        }
    }

    /// The type byte this frame is written with.
    public var type: FrameType {
        switch self {
        case .headers: .headers
        case .data: .data
        case .trailers: .trailers
        case .reset: .rstStream
        case .windowUpdate: .windowUpdate
        case .ping, .pong: .ping
        case .goAway: .goAway
        case .settings, .settingsAck: .settings
        }
    }
}

/// The payload of a DATA frame. A message is one or more DATA frames: the first has `messageLength` (written as a
/// 4-byte prefix), the last has `endMessage`; one frame can be both. Or the frame is PACKED: several whole messages,
/// each with its own prefix, so a sender of many small messages pays one frame (one header, one pass through both
/// connection state machines) for all of them, as gRPC's messages share HTTP/2 DATA frames.
public struct DataFrame: Sendable, Hashable {
    /// The whole message's length, on the frame that begins it (BEGIN_MESSAGE); nil on continuation frames.
    public var messageLength: UInt32?
    /// This frame's share of the message.
    public var bytes: [UInt8]
    /// This frame completes the message (END_MESSAGE).
    public var endMessage: Bool
    /// The sender sends nothing more on the stream (END_STREAM).
    public var endStream: Bool
    /// PACKED: the whole messages this frame carries (then `messageLength`, `bytes` and `endMessage` are unused).
    public private(set) var packedMessages: [[UInt8]] = []
    /// Their wire length, prefixes included.
    private var packedLength = 0

    public init(messageLength: UInt32? = nil, bytes: [UInt8] = [], endMessage: Bool = false, endStream: Bool = false) {
        self.messageLength = messageLength
        self.bytes = bytes
        self.endMessage = endMessage
        self.endStream = endStream
    }

    /// A whole message in one frame.
    public static func message(_ bytes: [UInt8], endStream: Bool = false) -> DataFrame {
        DataFrame(messageLength: UInt32(clamping: bytes.count), bytes: bytes, endMessage: true, endStream: endStream)
    }

    /// Whole messages in one PACKED frame; `messages` must not be empty.
    public static func packed(_ messages: [[UInt8]], endStream: Bool = false) -> DataFrame {
        Self.packed(messages, wireLength: messages.reduce(0) { $0 + $1.count + 4 }, endStream: endStream)
    }

    /// `packed` for a caller that summed the messages' wire length as it gathered them.
    static func packed(_ messages: [[UInt8]], wireLength: Int, endStream: Bool = false) -> DataFrame {
        precondition(!messages.isEmpty, "a PACKED frame carries at least one message")
        var frame = DataFrame(endStream: endStream)
        frame.packedMessages = messages
        frame.packedLength = wireLength
        return frame
    }

    /// The client's half-close with no message: an empty frame with END_STREAM.
    public static let endOfStream = DataFrame(endStream: true)

    /// True for a PACKED frame.
    public var isPacked: Bool { !self.packedMessages.isEmpty }

    /// The payload length, prefixes included: what this frame costs in flow-control windows.
    public var flowControlledLength: Int {
        if self.isPacked { return self.packedLength }
        return self.bytes.count + (self.messageLength == nil ? 0 : 4)
    }

    /// The header flags this frame is written with.
    public var flags: FrameFlags {
        var flags: FrameFlags = []
        if self.endStream { flags.insert(.endStream) }
        if self.isPacked { return flags.union(.packed) }
        if self.endMessage { flags.insert(.endMessage) }
        if self.messageLength != nil { flags.insert(.beginMessage) }
        return flags
    }
}
