// What the connection state machine asks of its owner after each input: frames to write and events for the
// application. Both are lists because one frame can touch several streams (a GOAWAY ends every stream above its
// id; a connection error ends them all), and keeping the machine pure means it can only describe those effects.

/// How a stream ended, as the application must learn it.
public enum StreamEnd: Sendable, Hashable {
    /// The server's TRAILERS (client side): the call's status and trailing metadata.
    case trailers(CallTrailers)
    /// The peer sent RST_STREAM with this code.
    case reset(Status.Code)
    /// This endpoint ended the stream (a stream error, a connection error, a GOAWAY); any frame it needed to send is
    /// in the same action.
    case failed(Status.Code, String)

    /// The status the call ends with.
    public var status: Status {
        switch self {
        case .trailers(let trailers): trailers.status
        case .reset(let code): Status(code: code, message: "stream reset by the peer")
        case .failed(let code, let message): Status(code: code, message: message)
        }
    }
}

/// Something the application must learn from a received frame.
public enum ConnectionEvent: Sendable, Hashable {
    /// A new call (server): start its handler.
    case streamOpened(StreamID, CallHeaders, endStream: Bool)
    /// The server's initial metadata (client).
    case initialMetadata(StreamID, Metadata)
    /// A whole message. `credit` flow-controlled bytes are still owed to the peer: pass them to `consumed` once the
    /// application has taken the message (earlier frames of a long message were credited on arrival, so a message
    /// larger than the window cannot deadlock).
    case message(StreamID, [UInt8], credit: Int, endStream: Bool)
    /// Whole messages from one PACKED frame, in order: each owes its length plus 4 bytes of credit, as `message`.
    case messages(StreamID, [[UInt8]], endStream: Bool)
    /// The peer half-closed without a message in the frame.
    case endOfStream(StreamID)
    /// The stream is over; it ends exactly once, and its id is never reported again.
    case streamClosed(StreamID, StreamEnd)
    /// A send window grew: the stream's (or, for nil, the connection's, so every stream's) queued DATA may go on.
    case writable(StreamID?)
    /// The answer to one of our PINGs.
    case pong(UInt64)
    /// The peer's SETTINGS arrived and apply from now on.
    case peerSettings(ConnectionSettings)
    /// The peer will process no streams above `lastStreamID` (those were already ended with UNAVAILABLE).
    case goAway(GoAway)
    /// The connection is over: every stream was ended first. Close the transport after writing the frames.
    case connectionClosed(GoAwayCode, String)
}

/// Frames to write, in order, and events to deliver, in order.
public struct ConnectionAction: Sendable, Hashable {
    public var frames: [Frame]
    public var events: [ConnectionEvent]

    public init(frames: [Frame] = [], events: [ConnectionEvent] = []) {
        self.frames = frames
        self.events = events
    }

    public static let none = ConnectionAction()

    public var isEmpty: Bool { self.frames.isEmpty && self.events.isEmpty }
}
