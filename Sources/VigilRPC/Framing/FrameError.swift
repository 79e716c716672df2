// Every way bytes can fail to be frames, as one typed error that also says what the receiver must do about it:
// close the connection with a GOAWAY code, or end one stream with a status. Deciding the consequence here, where the
// failure is understood, keeps the connection code a plain dispatcher (docs/PROTOCOL.md, "Errors and limits").

/// A refusal to decode (or encode) a frame, with its consequence.
public struct FrameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong. A struct of statics so codes can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt8
        @inlinable init(_ rawValue: UInt8) { self.rawValue = rawValue }

        /// The first bytes are not `VIGIL\r\n`: the peer speaks another protocol.
        public static let badPreface = Code(1)
        /// The preface's version byte names a version this build does not speak.
        public static let unsupportedVersion = Code(2)
        /// The header's length exceeds the receiver's max frame size (checked before any payload is buffered).
        public static let frameTooLarge = Code(3)
        /// The type byte names no frame type of this protocol version.
        public static let unknownFrameType = Code(4)
        /// A flag bit the frame type does not define is set.
        public static let invalidFlags = Code(5)
        /// Stream id 0 on a frame that belongs to a stream.
        public static let streamIDRequired = Code(6)
        /// A nonzero stream id on a frame that belongs to the connection.
        public static let streamIDForbidden = Code(7)
        /// A stream id with the reserved bit set, or an even one (streams are odd).
        public static let invalidStreamID = Code(8)
        /// A payload shorter or longer than its type requires (PING 8, RST_STREAM 4, WINDOW_UPDATE 4, SETTINGS ACK 0,
        /// a DATA frame starting a message at least 4).
        public static let invalidPayloadLength = Code(9)
        /// The connection ended in the middle of a frame or of the preface.
        public static let truncatedFrame = Code(10)
        /// A WINDOW_UPDATE with increment 0.
        public static let zeroWindowIncrement = Code(11)
        /// A window credited past 2^31 - 1, or an increment with the reserved bit set.
        public static let windowOverflow = Code(12)
        /// A DATA frame's bytes disagree with its message-length prefix and END_MESSAGE flag.
        public static let messageLengthMismatch = Code(13)
        /// An embedded protobuf payload that does not decode.
        public static let malformedPayload = Code(14)
        /// A metadata key that is not lowercase ASCII, or a value in the wrong field for its key.
        public static let invalidMetadata = Code(15)
        /// A SETTINGS value outside its range.
        public static let invalidSetting = Code(16)
        /// The first frame after the preface is not SETTINGS.
        public static let settingsExpected = Code(17)
        /// A second SETTINGS frame (settings are sent once per connection).
        public static let duplicateSettings = Code(18)
        /// HEADERS or TRAILERS payload above the receiver's max header bytes.
        public static let headersTooLarge = Code(19)
        /// A message-length prefix above the receiver's max message bytes.
        public static let messageTooLarge = Code(20)
        /// A frame this endpoint was about to send is out of order for its stream's state (a bug on this side).
        public static let invalidStreamState = Code(21)

        public var description: String {
            switch self {
            case .badPreface: "badPreface"
            case .unsupportedVersion: "unsupportedVersion"
            case .frameTooLarge: "frameTooLarge"
            case .unknownFrameType: "unknownFrameType"
            case .invalidFlags: "invalidFlags"
            case .streamIDRequired: "streamIDRequired"
            case .streamIDForbidden: "streamIDForbidden"
            case .invalidStreamID: "invalidStreamID"
            case .invalidPayloadLength: "invalidPayloadLength"
            case .truncatedFrame: "truncatedFrame"
            case .zeroWindowIncrement: "zeroWindowIncrement"
            case .windowOverflow: "windowOverflow"
            case .messageLengthMismatch: "messageLengthMismatch"
            case .malformedPayload: "malformedPayload"
            case .invalidMetadata: "invalidMetadata"
            case .invalidSetting: "invalidSetting"
            case .settingsExpected: "settingsExpected"
            case .duplicateSettings: "duplicateSettings"
            case .headersTooLarge: "headersTooLarge"
            case .messageTooLarge: "messageTooLarge"
            case .invalidStreamState: "invalidStreamState"
            default: "code\(self.rawValue)"
            }
        }
    }

    /// What the receiver does about the error.
    public enum Consequence: Sendable, Hashable {
        /// Send GOAWAY with this code and close: the byte stream can no longer be trusted.
        case closeConnection(GoAwayCode)
        /// End this stream with this status (TRAILERS from a server, RST_STREAM from a client); the frame was consumed
        /// and the connection goes on.
        case endStream(StreamID, Status.Code)
    }

    public let code: Code
    public let consequence: Consequence
    /// A sentence for logs and GOAWAY debug messages; never contains payload bytes.
    public let message: String
    /// DATA payload bytes the refused frame carried. They still count against the connection window, so the receiver
    /// must credit them back even though no stream will read them.
    public let flowControlledBytes: Int

    public init(_ code: Code, _ consequence: Consequence, _ message: String, flowControlledBytes: Int = 0) {
        self.code = code
        self.consequence = consequence
        self.message = message
        self.flowControlledBytes = flowControlledBytes
    }

    /// A connection error.
    static func connection(_ code: Code, _ goAway: GoAwayCode, _ message: String) -> FrameError {
        FrameError(code, .closeConnection(goAway), message)
    }

    /// The GOAWAY code to close with, for a connection error.
    public var goAwayCode: GoAwayCode? {
        if case .closeConnection(let code) = self.consequence { return code }
        return nil
    }

    /// The status the affected calls end with: the stream's own for a stream error; for a connection error every call
    /// on it fails with UNAVAILABLE when the peer is simply not a Vigil peer of our version (nothing was processed,
    /// so a retry elsewhere is safe) and INTERNAL otherwise (a broken peer).
    public var statusCode: Status.Code {
        switch self.consequence {
        case .endStream(_, let code): code
        case .closeConnection(let goAway):
            goAway == .unsupportedVersion || self.code == .badPreface ? .unavailable : .internal
        }
    }

    /// True when the connection must close.
    public var isConnectionError: Bool { self.goAwayCode != nil }

    public var description: String {
        switch self.consequence {
        case .closeConnection(let goAway): "\(self.code) (GOAWAY \(goAway)): \(self.message)"
        case .endStream(let stream, let status): "\(self.code) (\(stream) ends \(status)): \(self.message)"
        }
    }
}
