// The limits one side enforces on what it receives, with the protocol's defaults and valid ranges in one place.
// The wire sends 0 for "the default"; this type always holds the effective values, so nobody re-derives defaults.

/// What a SETTINGS frame carries (docs/PROTOCOL.md, "Settings").
public struct ConnectionSettings: Sendable, Hashable {
    /// Largest frame payload accepted, in bytes.
    public var maxFrameSize: Int = 65_536
    /// Credit every new stream starts with for DATA the peer sends on it.
    public var initialStreamWindow: Int = 65_536
    /// Credit of the whole connection for DATA the peer sends.
    public var initialConnectionWindow: Int = 1_048_576
    /// Streams the peer may have open at once.
    public var maxConcurrentStreams: Int = 100
    /// Largest HEADERS or TRAILERS payload accepted, in bytes.
    public var maxHeaderBytes: Int = 16_384
    /// Largest message accepted, in bytes.
    public var maxMessageBytes: Int = 4_194_304

    public init() {}

    /// The protocol's defaults, in force until the peer's SETTINGS arrive.
    public static let defaults = ConnectionSettings()

    /// Smallest max frame size an endpoint may advertise: room for realistic headers in one frame.
    public static let minMaxFrameSize = 16_384
    /// Largest max frame size: what the 24-bit length field can say.
    public static let maxMaxFrameSize = 0xFF_FFFF
    /// Largest flow-control window, as in HTTP/2: window arithmetic stays within 31 bits.
    public static let maxWindow = 0x7FFF_FFFF

    /// The payload message, as written on the wire: every value explicit, so the peer never guesses our defaults.
    /// Values must be valid (see `validated()`); the encoder checks.
    public var payload: SettingsPayload {
        var payload = SettingsPayload()
        payload.maxFrameSize = UInt32(clamping: self.maxFrameSize)
        payload.initialStreamWindow = UInt32(clamping: self.initialStreamWindow)
        payload.initialConnectionWindow = UInt32(clamping: self.initialConnectionWindow)
        payload.maxConcurrentStreams = UInt32(clamping: self.maxConcurrentStreams)
        payload.maxHeaderBytes = UInt32(clamping: self.maxHeaderBytes)
        payload.maxMessageBytes = UInt32(clamping: self.maxMessageBytes)
        return payload
    }

    /// Settings from the wire: 0 takes the default, then every value is range-checked.
    init(validating payload: SettingsPayload) throws(PayloadError) {
        func value(_ raw: UInt32, _ fallback: Int) -> Int { raw == 0 ? fallback : Int(raw) }
        let defaults = ConnectionSettings.defaults
        self.maxFrameSize = value(payload.maxFrameSize, defaults.maxFrameSize)
        self.initialStreamWindow = value(payload.initialStreamWindow, defaults.initialStreamWindow)
        self.initialConnectionWindow = value(payload.initialConnectionWindow, defaults.initialConnectionWindow)
        self.maxConcurrentStreams = value(payload.maxConcurrentStreams, defaults.maxConcurrentStreams)
        self.maxHeaderBytes = value(payload.maxHeaderBytes, defaults.maxHeaderBytes)
        self.maxMessageBytes = value(payload.maxMessageBytes, defaults.maxMessageBytes)
        if let problem = self.problem { throw problem }
    }

    /// The first value out of range, as the error a receiver reports; nil when every value is valid.
    var problem: PayloadError? {
        if !(Self.minMaxFrameSize...Self.maxMaxFrameSize).contains(self.maxFrameSize) {
            return PayloadError(.invalidSetting, "max_frame_size \(self.maxFrameSize) outside 16384...16777215")
        }
        if !(1...Self.maxWindow).contains(self.initialStreamWindow) {
            return PayloadError(.windowOverflow, "initial_stream_window \(self.initialStreamWindow) above 2^31 - 1")
        }
        if !(1...Self.maxWindow).contains(self.initialConnectionWindow) {
            return PayloadError(
                .windowOverflow,
                "initial_connection_window \(self.initialConnectionWindow) above 2^31 - 1"
            )
        }
        if !(1...Int(UInt32.max)).contains(self.maxConcurrentStreams) {
            return PayloadError(.invalidSetting, "max_concurrent_streams \(self.maxConcurrentStreams) out of range")
        }
        if !(1...Int(UInt32.max)).contains(self.maxHeaderBytes) {
            return PayloadError(.invalidSetting, "max_header_bytes \(self.maxHeaderBytes) out of range")
        }
        if !(1...Int(UInt32.max)).contains(self.maxMessageBytes) {
            return PayloadError(.invalidSetting, "max_message_bytes \(self.maxMessageBytes) out of range")
        }
        return nil
    }

    /// True when every value is in range and the settings can be sent.
    public var isValid: Bool { self.problem == nil }
}
