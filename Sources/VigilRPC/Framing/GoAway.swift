// The Swift face of a GOAWAY frame. The wire mapping of each field is written here once.

/// What a GOAWAY frame carries: the last stream the sender will process, why, and a sentence for logs.
public struct GoAway: Sendable, Hashable {
    /// Streams above this id were never processed: a client may retry them on another connection.
    public var lastStreamID: StreamID
    public var code: GoAwayCode
    /// For people; never parsed, never containing secrets.
    public var debugMessage: String

    public init(lastStreamID: StreamID, code: GoAwayCode, debugMessage: String = "") {
        self.lastStreamID = lastStreamID
        self.code = code
        self.debugMessage = debugMessage
    }

    /// The payload message, as written on the wire.
    public var payload: GoAwayPayload {
        var payload = GoAwayPayload()
        payload.lastStreamId = self.lastStreamID.rawValue
        payload.errorCode = self.code.rawValue
        payload.debugMessage = self.debugMessage
        return payload
    }

    /// Checks a decoded payload: the last stream id must be a valid id (reserved bit clear).
    init(validating payload: GoAwayPayload) throws(PayloadError) {
        guard payload.lastStreamId <= StreamID.maxRawValue else {
            throw PayloadError(.invalidStreamID, "GOAWAY last stream id \(payload.lastStreamId) uses the reserved bit")
        }
        self.lastStreamID = StreamID(payload.lastStreamId)
        self.code = GoAwayCode(rawValue: payload.errorCode)
        self.debugMessage = payload.debugMessage
    }
}
