// Writes frames in two passes, as the codec writes messages: first the payload's exact size (so limits are checked
// and the 9-byte header written before a byte of payload), then the payload straight into the output buffer, with
// no intermediate array per frame. Everything a connection sends goes through here, so the wire layout is written
// once (docs/PROTOCOL.md, "Frame layout").

import VigilWire

/// Appends frames to a byte buffer.
public struct FrameEncoder: Sendable {
    /// Frame header: length (24 bits), type (8), flags (8), stream id (32, top bit reserved), big-endian.
    public static let headerSize = 9

    /// The peer's max frame size: no frame written is longer, and `encodeMessage` splits at it.
    public var maxFrameSize: Int

    public init(maxFrameSize: Int = ConnectionSettings.defaults.maxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    /// Appends the connection preface (8 bytes): the first thing each side sends.
    public static func writePreface(into bytes: inout [UInt8]) {
        bytes.append(contentsOf: ConnectionPreface.bytes)
    }

    /// The payload of a frame in wire form: `.raw` for fixed layouts, `.message` for protobuf payloads, sized once
    /// here and written once in `encode`.
    enum Payload {
        case empty
        case fixed32(UInt32)
        case fixed64(UInt64)
        case data(DataFrame)
        case headers(HeadersPayload)
        case trailers(TrailersPayload)
        case settings(SettingsPayload)
        case goAway(GoAwayPayload)

        /// First pass: the exact payload length.
        var size: Int {
            switch self {
            case .empty: 0
            case .fixed32: 4
            case .fixed64: 8
            case .data(let data): data.flowControlledLength
            case .headers(let message): message.serializedSize()
            case .trailers(let message): message.serializedSize()
            case .settings(let message): message.serializedSize()
            case .goAway(let message): message.serializedSize()
            }
        }
    }

    /// Appends one frame. Throws, leaving `bytes` untouched, when the frame cannot be sent: a payload longer than
    /// `maxFrameSize`, invalid settings, a DATA frame whose bytes contradict its message length, or a window
    /// increment outside 1...2^31-1. Senders check `payloadSize(of:)` against the peer's header limit first.
    public func encode(_ frame: Frame, into bytes: inout [UInt8]) throws(FrameError) {
        let payload = try Self.payload(of: frame)
        let size = payload.size
        guard size <= self.maxFrameSize else {
            throw FrameError(
                .frameTooLarge,
                .endStream(frame.streamID, .resourceExhausted),
                "\(frame.type) payload of \(size) bytes exceeds the peer's max frame size \(self.maxFrameSize)"
            )
        }
        // Grown geometrically: `bytes` may be a connection's whole send queue, and reserving exactly what one more
        // frame needs would reallocate and copy the queue for every frame.
        let needed = bytes.count + Self.headerSize + size
        if bytes.capacity < needed { bytes.reserveCapacity(max(needed, 2 * bytes.capacity)) }
        Self.writeHeader(length: size, type: frame.type, flags: Self.flags(of: frame), stream: frame.streamID, &bytes)
        let start = bytes.count
        switch payload {
        case .empty: break
        case .fixed32(let value): Self.appendBigEndian(UInt64(value), byteCount: 4, &bytes)
        case .fixed64(let value): Self.appendBigEndian(value, byteCount: 8, &bytes)
        case .data(let data) where data.isPacked:
            for index in data.packedMessages.indices {
                Self.appendBigEndian(UInt64(data.packedMessages[index].count), byteCount: 4, &bytes)
                bytes.append(contentsOf: data.packedMessages[index])
            }
        case .data(let data):
            if let length = data.messageLength { Self.appendBigEndian(UInt64(length), byteCount: 4, &bytes) }
            bytes.append(contentsOf: data.bytes)
        case .headers(let message): message.appendSerialized(to: &bytes)
        case .trailers(let message): message.appendSerialized(to: &bytes)
        case .settings(let message): message.appendSerialized(to: &bytes)
        case .goAway(let message): message.appendSerialized(to: &bytes)
        }
        assert(bytes.count - start == size, "FrameEncoder: \(frame.type) wrote a size other than it computed")
    }

    /// The payload length `frame` would be written with; HEADERS and TRAILERS senders compare it with the peer's
    /// max header bytes before encoding.
    public static func payloadSize(of frame: Frame) throws(FrameError) -> Int {
        try Self.payload(of: frame).size
    }

    /// Appends one message as DATA frames of at most `maxFrameSize` bytes: BEGIN_MESSAGE and the length prefix on
    /// the first, END_MESSAGE (and END_STREAM when asked) on the last. Flow control is the caller's: it sends only
    /// what the windows allow, or splits with `DataFrame` itself.
    public func encodeMessage(
        _ message: [UInt8],
        on stream: StreamID,
        endStream: Bool = false,
        into bytes: inout [UInt8]
    ) throws(FrameError) {
        guard message.count <= Int(UInt32.max) else {
            throw FrameError(
                .messageTooLarge,
                .endStream(stream, .resourceExhausted),
                "message of \(message.count) bytes does not fit the 4-byte length prefix"
            )
        }
        var offset = 0
        var first = true
        repeat {
            let room = self.maxFrameSize - (first ? 4 : 0)
            let end = min(message.count, offset + room)
            let last = end == message.count
            let frame = DataFrame(
                messageLength: first ? UInt32(message.count) : nil,
                bytes: Array(message[offset..<end]),
                endMessage: last,
                endStream: last && endStream
            )
            try self.encode(.data(stream, frame), into: &bytes)
            offset = end
            first = false
        } while offset < message.count
    }

    // MARK: Pieces

    static func payload(of frame: Frame) throws(FrameError) -> Payload {
        switch frame {
        case .headers(_, let headers, _): return .headers(headers.payload)
        case .data(let stream, let data) where data.isPacked:
            // Each message fits its prefix (it is under the frame size), so only the other fields can contradict.
            guard data.messageLength == nil, data.bytes.isEmpty, !data.endMessage else {
                throw FrameError(
                    .messageLengthMismatch, .endStream(stream, .internal),
                    "PACKED DATA also carries a message length, bytes or END_MESSAGE")
            }
            return .data(data)
        case .data(let stream, let data):
            if let length = data.messageLength {
                let fits = data.endMessage ? data.bytes.count == Int(length) : data.bytes.count <= Int(length)
                guard fits else {
                    throw FrameError(
                        .messageLengthMismatch,
                        .endStream(stream, .internal),
                        "DATA carries \(data.bytes.count) bytes of a \(length)-byte message"
                    )
                }
            }
            return .data(data)
        case .trailers(_, let trailers): return .trailers(trailers.payload)
        case .reset(_, let code): return .fixed32(code.rawValue)
        case .windowUpdate(let stream, let increment):
            guard (1...UInt32(ConnectionSettings.maxWindow)).contains(increment) else {
                throw FrameError(
                    .windowOverflow,
                    .endStream(stream, .internal),
                    "window increment \(increment) outside 1...2^31-1"
                )
            }
            return .fixed32(increment)
        case .ping(let value), .pong(let value): return .fixed64(value)
        case .goAway(let goAway): return .goAway(goAway.payload)
        case .settings(let settings):
            if let problem = settings.problem {
                throw FrameError(problem.code, .closeConnection(.internalError), problem.message)
            }
            return .settings(settings.payload)
        case .settingsAck: return .empty
        }
    }

    static func flags(of frame: Frame) -> FrameFlags {
        switch frame {
        case .headers(_, _, let endStream): endStream ? .endStream : []
        case .data(_, let data): data.flags
        case .pong, .settingsAck: .ack
        default: []
        }
    }

    static func writeHeader(length: Int, type: FrameType, flags: FrameFlags, stream: StreamID, _ bytes: inout [UInt8]) {
        Self.appendBigEndian(UInt64(length), byteCount: 3, &bytes)
        bytes.append(type.rawValue)
        bytes.append(flags.rawValue)
        Self.appendBigEndian(UInt64(stream.rawValue), byteCount: 4, &bytes)
    }

    @inline(__always)
    static func appendBigEndian(_ value: UInt64, byteCount: Int, _ bytes: inout [UInt8]) {
        var shift = (byteCount - 1) * 8
        while shift >= 0 {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            shift -= 8
        }
    }
}
