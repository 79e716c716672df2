// The frame header's type and flag bytes, with the flags each type defines. Kept as open structs of statics, like
// status codes: the decoder refuses numbers it does not know (docs/PROTOCOL.md), but tests and tools can still
// name and write them.

/// The type byte of a frame header.
public struct FrameType: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8

    @inlinable
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Message bytes of one stream.
    public static let data = FrameType(rawValue: 0)
    /// Call headers: opens a stream (client) or carries initial metadata (server).
    public static let headers = FrameType(rawValue: 1)
    /// Status and trailing metadata: the server's last frame on a stream.
    public static let trailers = FrameType(rawValue: 2)
    /// Ends a stream at once in both directions, with a status code.
    public static let rstStream = FrameType(rawValue: 3)
    /// Flow-control credit for a stream or the connection.
    public static let windowUpdate = FrameType(rawValue: 4)
    /// Liveness check and round-trip measurement; the ACK flag makes it a PONG.
    public static let ping = FrameType(rawValue: 5)
    /// The sender accepts no more streams.
    public static let goAway = FrameType(rawValue: 6)
    /// The sender's limits; the ACK flag acknowledges the peer's.
    public static let settings = FrameType(rawValue: 7)

    /// Every type this version of the protocol defines.
    public static let allKnown: [FrameType] = [
        .data, .headers, .trailers, .rstStream, .windowUpdate, .ping, .goAway, .settings,
    ]

    /// True for types this version of the protocol defines.
    @inlinable
    public var isKnown: Bool { self.rawValue <= 7 }

    /// The flag bits this type defines; any other bit set is a protocol error.
    public var definedFlags: FrameFlags {
        switch self {
        case .data: [.endStream, .endMessage, .beginMessage, .packed]
        case .headers: [.endStream]
        case .ping, .settings: [.ack]
        default: []
        }
    }

    /// The frame's stream-id rule.
    public var streamRule: StreamRule {
        switch self {
        case .data, .headers, .trailers, .rstStream: .stream
        case .windowUpdate: .either
        default: .connection
        }
    }

    /// Where a frame type may travel.
    public enum StreamRule: Sendable, Hashable {
        /// On a stream only: stream id 0 is an error.
        case stream
        /// On the connection only: a nonzero stream id is an error.
        case connection
        /// Either (WINDOW_UPDATE: 0 credits the connection).
        case either
    }

    public var description: String {
        switch self {
        case .data: "DATA"
        case .headers: "HEADERS"
        case .trailers: "TRAILERS"
        case .rstStream: "RST_STREAM"
        case .windowUpdate: "WINDOW_UPDATE"
        case .ping: "PING"
        case .goAway: "GOAWAY"
        case .settings: "SETTINGS"
        default: "TYPE_\(self.rawValue)"
        }
    }
}

/// The flags byte of a frame header. The same bit means different things in different types; `FrameType.definedFlags`
/// says which bits a type allows.
public struct FrameFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8

    @inlinable
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// DATA, HEADERS: the sender sends nothing more on this stream (the client's half-close).
    public static let endStream = FrameFlags(rawValue: 0x01)
    /// PING, SETTINGS: this frame answers the peer's.
    public static let ack = FrameFlags(rawValue: 0x01)
    /// DATA: this frame's bytes complete the current message.
    public static let endMessage = FrameFlags(rawValue: 0x02)
    /// DATA: this frame starts a message; its payload begins with the 4-byte message length.
    public static let beginMessage = FrameFlags(rawValue: 0x04)
    /// DATA: the payload is one or more whole messages, each with its own 4-byte length prefix (never with
    /// BEGIN_MESSAGE or END_MESSAGE).
    public static let packed = FrameFlags(rawValue: 0x08)
}
