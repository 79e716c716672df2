// The Swift face of a TRAILERS frame: how a call ended, as a `Status` plus trailing metadata. The wire mapping of
// each field is written here once.

/// What a TRAILERS frame carries.
public struct CallTrailers: Sendable, Hashable {
    public var status: Status
    public var metadata: Metadata

    public init(status: Status, metadata: Metadata = Metadata()) {
        self.status = status
        self.metadata = metadata
    }

    /// The payload message, as written on the wire.
    public var payload: TrailersPayload {
        var payload = TrailersPayload()
        payload.statusCode = self.status.code.rawValue
        payload.statusMessage = self.status.message
        payload.metadata = self.metadata.wireEntries
        return payload
    }

    /// Checks a decoded payload. Any status number is kept (a newer peer may send codes this build does not know).
    init(validating payload: TrailersPayload) throws(PayloadError) {
        self.status = Status(code: Status.Code(rawValue: payload.statusCode), message: payload.statusMessage)
        self.metadata = try Metadata(wireEntries: payload.metadata)
    }
}
