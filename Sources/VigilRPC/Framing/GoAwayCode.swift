// Why a connection ends, as carried by GOAWAY. A struct of statics (like `Status.Code`) so codes from a newer peer
// survive; the numbers are the protocol's own, not HTTP/2's, because the set of failures differs.

/// The error code of a GOAWAY frame (docs/PROTOCOL.md, "GOAWAY codes").
public struct GoAwayCode: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32

    @inlinable
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Graceful shutdown: no error.
    public static let noError = GoAwayCode(rawValue: 0)
    /// The peer broke a framing or stream rule.
    public static let protocolError = GoAwayCode(rawValue: 1)
    /// The sender failed on its own.
    public static let internalError = GoAwayCode(rawValue: 2)
    /// The peer sent DATA beyond its window, or credited a window past 2^31 - 1.
    public static let flowControlError = GoAwayCode(rawValue: 3)
    /// A frame longer than the receiver's max frame size, or a fixed-size payload of the wrong length.
    public static let frameSizeError = GoAwayCode(rawValue: 4)
    /// The peer did not send or acknowledge SETTINGS in time.
    public static let settingsTimeout = GoAwayCode(rawValue: 5)
    /// The preface names a protocol version the receiver does not speak.
    public static let unsupportedVersion = GoAwayCode(rawValue: 6)
    /// The peer is generating excessive load (pings, resets, empty frames).
    public static let enhanceYourCalm = GoAwayCode(rawValue: 7)

    public var description: String {
        switch self.rawValue {
        case 0: "NO_ERROR"
        case 1: "PROTOCOL_ERROR"
        case 2: "INTERNAL_ERROR"
        case 3: "FLOW_CONTROL_ERROR"
        case 4: "FRAME_SIZE_ERROR"
        case 5: "SETTINGS_TIMEOUT"
        case 6: "UNSUPPORTED_VERSION"
        case 7: "ENHANCE_YOUR_CALM"
        default: "GOAWAY_CODE_\(self.rawValue)"
        }
    }
}
