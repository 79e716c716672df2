// The Swift face of a HEADERS frame: a method path, metadata and a deadline as a `Duration`, not the wire's
// microsecond count, so no caller does unit arithmetic. The conversion to and from `HeadersPayload` lives here,
// beside the type, so the wire mapping of each field is written once.

/// What a HEADERS frame carries: the call's method, metadata and timeout (client), or initial metadata (server).
public struct CallHeaders: Sendable, Hashable {
    /// `/<package>.<Service>/<Method>` in the client's headers; empty in the server's.
    public var methodPath: String
    public var metadata: Metadata
    /// How long the server may take, from when it reads the headers; nil for no deadline. Travels in whole
    /// microseconds, rounded up, so a deadline is never extended by rounding.
    public var timeout: Duration?

    public init(methodPath: String, metadata: Metadata = Metadata(), timeout: Duration? = nil) {
        self.methodPath = methodPath
        self.metadata = metadata
        self.timeout = timeout
    }

    /// A server's initial metadata.
    public static func response(metadata: Metadata) -> CallHeaders {
        CallHeaders(methodPath: "", metadata: metadata)
    }

    /// The timeout as the wire's microseconds: 0 for none, at least 1 for a deadline that has already passed.
    public var timeoutMicroseconds: UInt64 {
        guard let timeout else { return 0 }
        let (seconds, attoseconds) = timeout.components
        guard seconds > 0 || (seconds == 0 && attoseconds > 0) else { return 1 }
        let whole = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000)
        let fraction = UInt64((attoseconds + 999_999_999_999) / 1_000_000_000_000)
        guard !whole.overflow else { return UInt64.max }
        let (total, overflow) = whole.partialValue.addingReportingOverflow(fraction)
        return overflow ? UInt64.max : total
    }

    /// At least the size of the encoded `payload`, found without building it: every field's tag and length counted
    /// at their largest. A sender compares this with the peer's header limit first and computes the exact size
    /// only when it is close (building the payload twice per call, to check and to encode, was 1.5 % of a unary
    /// client's CPU).
    public var payloadSizeBound: Int {
        // Tags are one byte (field numbers under 16), lengths at most five (a 32-bit varint), the timeout ten.
        var bound = 1 + 5 + self.methodPath.utf8.count + 1 + 10
        for entry in self.metadata {
            let valueCount: Int
            switch entry.value {
            case .string(let text): valueCount = text.utf8.count
            case .binary(let bytes): valueCount = bytes.count
            }
            bound += (1 + 5) + (1 + 5 + entry.key.utf8.count) + (1 + 5 + valueCount)
        }
        return bound
    }

    /// The payload message, as written on the wire.
    public var payload: HeadersPayload {
        var payload = HeadersPayload()
        payload.methodPath = self.methodPath
        payload.metadata = self.metadata.wireEntries
        payload.timeoutMicros = self.timeoutMicroseconds
        return payload
    }

    /// Checks a decoded payload: metadata keys and value fields (see `Metadata.init(wireEntries:)`).
    init(validating payload: HeadersPayload) throws(PayloadError) {
        self.methodPath = payload.methodPath
        self.metadata = try Metadata(wireEntries: payload.metadata)
        self.timeout = payload.timeoutMicros == 0 ? nil : .microseconds(Int64(clamping: payload.timeoutMicros))
    }
}

/// Why a decoded protobuf payload is still not acceptable; the decoder turns it into a `FrameError` with the scope
/// of the frame it came from.
struct PayloadError: Error {
    let code: FrameError.Code
    let message: String

    init(_ code: FrameError.Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension Metadata {
    /// The entries as the wire's `MetadataEntry` list, in order.
    var wireEntries: [MetadataEntry] {
        self.map { entry in
            var wire = MetadataEntry()
            wire.key = entry.key
            switch entry.value {
            case .string(let text): wire.value = text
            case .binary(let bytes): wire.binaryValue = bytes
            }
            return wire
        }
    }

    /// Metadata from the wire, refused unless every key is valid as sent (lowercase already: normalising here would
    /// let two peers disagree on what a key is) and each value sits in the field its key calls for.
    init(wireEntries: [MetadataEntry]) throws(PayloadError) {
        var entries: [Entry] = []
        entries.reserveCapacity(wireEntries.count)
        for wire in wireEntries {
            guard Metadata.isValidKey(wire.key) else {
                throw PayloadError(.invalidMetadata, "metadata key \(wire.key.debugDescription) is not valid")
            }
            if Metadata.isBinaryKey(wire.key) {
                guard wire.value.isEmpty else {
                    throw PayloadError(.invalidMetadata, "binary metadata key \(wire.key) has a text value")
                }
                entries.append(Entry(key: wire.key, value: .binary(wire.binaryValue)))
            } else {
                guard wire.binaryValue.isEmpty else {
                    throw PayloadError(.invalidMetadata, "text metadata key \(wire.key) has a binary value")
                }
                entries.append(Entry(key: wire.key, value: .string(wire.value)))
            }
        }
        self.init(validatedEntries: entries)
    }
}
