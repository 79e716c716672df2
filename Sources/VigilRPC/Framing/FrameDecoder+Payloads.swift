// The second half of decoding: a complete payload, whose header has been checked, becomes a typed frame. Fixed
// layouts are checked by length, protobuf payloads by VigilWire and then by the Swift type's own validation; the
// scope of each failure (connection or stream) is decided here, per frame type.

import VigilWire

extension FrameDecoder {
    mutating func decodePayload(_ header: Header, _ payload: ArraySlice<UInt8>) throws(FrameError) -> Frame {
        let stream = header.stream
        switch header.type {
        case .data:
            return .data(stream, try self.decodeData(header, payload))

        case .headers:
            try self.checkHeaderSize(header)
            let wire = try Self.decodeMessage(HeadersPayload.self, payload, header)
            let headers = try Self.validate(header) { () throws(PayloadError) in try CallHeaders(validating: wire) }
            return .headers(stream, headers, endStream: header.flags.contains(.endStream))

        case .trailers:
            try self.checkHeaderSize(header)
            let wire = try Self.decodeMessage(TrailersPayload.self, payload, header)
            return .trailers(
                stream,
                try Self.validate(header) { () throws(PayloadError) in
                    try CallTrailers(validating: wire)
                })

        case .rstStream:
            try Self.requireLength(4, header)
            return .reset(stream, Status.Code(rawValue: UInt32(Self.readBigEndian(payload, 4))))

        case .windowUpdate:
            try Self.requireLength(4, header)
            let increment = UInt32(Self.readBigEndian(payload, 4))
            guard increment != 0 else {
                throw FrameError.connection(.zeroWindowIncrement, .protocolError, "WINDOW_UPDATE of 0 on \(stream)")
            }
            guard increment <= ConnectionSettings.maxWindow else {
                throw FrameError.connection(
                    .windowOverflow,
                    .flowControlError,
                    "WINDOW_UPDATE increment \(increment) above 2^31 - 1 on \(stream)"
                )
            }
            return .windowUpdate(stream, increment: increment)

        case .ping:
            try Self.requireLength(8, header)
            let value = Self.readBigEndian(payload, 8)
            return header.flags.contains(.ack) ? .pong(value) : .ping(value)

        case .goAway:
            let wire = try Self.decodeMessage(GoAwayPayload.self, payload, header)
            return .goAway(try Self.validate(header) { () throws(PayloadError) in try GoAway(validating: wire) })

        default:  // .settings: the header check admits no other type.
            if header.flags.contains(.ack) {
                try Self.requireLength(0, header)
                return .settingsAck
            }
            let wire = try Self.decodeMessage(SettingsPayload.self, payload, header)
            return .settings(
                try Self.validate(header) { () throws(PayloadError) in
                    try ConnectionSettings(validating: wire)
                })
        }
    }

    /// DATA: the length prefix of a message's first frame is checked against our max message bytes before anything
    /// is accumulated for it, and against the frame's own bytes.
    func decodeData(_ header: Header, _ payload: ArraySlice<UInt8>) throws(FrameError) -> DataFrame {
        let endMessage = header.flags.contains(.endMessage)
        let endStream = header.flags.contains(.endStream)
        if header.flags.contains(.packed) { return try self.decodePacked(header, payload, endStream: endStream) }
        guard header.flags.contains(.beginMessage) else {
            return DataFrame(bytes: Array(payload), endMessage: endMessage, endStream: endStream)
        }
        guard payload.count >= 4 else {
            throw FrameError.connection(
                .invalidPayloadLength,
                .frameSizeError,
                "DATA beginning a message has \(payload.count) bytes, fewer than its 4-byte length prefix"
            )
        }
        let length = UInt32(Self.readBigEndian(payload, 4))
        let chunk = payload.dropFirst(4)
        guard Int(length) <= self.settings.maxMessageBytes else {
            throw FrameError(
                .messageTooLarge,
                .endStream(header.stream, .resourceExhausted),
                "message of \(length) bytes exceeds max message bytes \(self.settings.maxMessageBytes)",
                flowControlledBytes: header.length
            )
        }
        let consistent = endMessage ? chunk.count == Int(length) : chunk.count <= Int(length)
        guard consistent else {
            throw FrameError.connection(
                .messageLengthMismatch,
                .protocolError,
                "DATA on \(header.stream) carries \(chunk.count) bytes of a \(length)-byte message"
                    + (endMessage ? " with END_MESSAGE" : "")
            )
        }
        return DataFrame(messageLength: length, bytes: Array(chunk), endMessage: endMessage, endStream: endStream)
    }

    /// PACKED DATA: whole messages, each with its prefix, filling the payload exactly. Every prefix is checked
    /// against our max message bytes; one over it refuses the whole frame, ending the stream as a long prefix does.
    func decodePacked(_ header: Header, _ payload: ArraySlice<UInt8>, endStream: Bool) throws(FrameError)
        -> DataFrame
    {
        guard !header.flags.contains(.beginMessage), !header.flags.contains(.endMessage) else {
            throw FrameError.connection(
                .invalidFlags, .protocolError, "PACKED DATA on \(header.stream) with BEGIN_MESSAGE or END_MESSAGE")
        }
        // Indices into the payload, not re-sliced per message: each slice would retain and release the buffer.
        func prefix(at index: Int) -> Int {
            Int(payload[index]) << 24 | Int(payload[index + 1]) << 16 | Int(payload[index + 2]) << 8
                | Int(payload[index + 3])
        }
        var count = 0
        var index = payload.startIndex
        repeat {
            guard payload.endIndex - index >= 4 else {
                throw FrameError.connection(
                    .messageLengthMismatch, .protocolError,
                    "PACKED DATA on \(header.stream) ends inside a length prefix "
                        + "(\(payload.endIndex - index) of 4 bytes)")
            }
            let length = prefix(at: index)
            guard length <= self.settings.maxMessageBytes else {
                throw FrameError(
                    .messageTooLarge,
                    .endStream(header.stream, .resourceExhausted),
                    "message of \(length) bytes exceeds max message bytes \(self.settings.maxMessageBytes)",
                    flowControlledBytes: header.length
                )
            }
            guard length <= payload.endIndex - index - 4 else {
                throw FrameError.connection(
                    .messageLengthMismatch, .protocolError,
                    "PACKED DATA on \(header.stream) declares a \(length)-byte message with "
                        + "\(payload.endIndex - index - 4) bytes left")
            }
            index += 4 + length
            count += 1
        } while index < payload.endIndex
        // Checked whole: now cut, into an array sized once.
        var messages: [[UInt8]] = []
        messages.reserveCapacity(count)
        index = payload.startIndex
        while index < payload.endIndex {
            let end = index + 4 + prefix(at: index)
            messages.append(Array(payload[(index + 4)..<end]))
            index = end
        }
        return .packed(messages, wireLength: payload.count, endStream: endStream)
    }

    /// HEADERS and TRAILERS above our max header bytes end their stream with RESOURCE_EXHAUSTED; the connection is
    /// fine, as the frame itself was within the frame size.
    func checkHeaderSize(_ header: Header) throws(FrameError) {
        guard header.length <= self.settings.maxHeaderBytes else {
            throw FrameError(
                .headersTooLarge,
                .endStream(header.stream, .resourceExhausted),
                "\(header.type) of \(header.length) bytes exceeds max header bytes \(self.settings.maxHeaderBytes)"
            )
        }
    }

    /// Decodes a protobuf payload. A failure on a stream frame ends that stream with INTERNAL (no state is shared
    /// between streams, so the connection can go on); on a connection frame it closes the connection.
    static func decodeMessage<Message: WireMessage>(
        _ type: Message.Type,
        _ payload: ArraySlice<UInt8>,
        _ header: Header
    ) throws(FrameError) -> Message {
        do {
            return try Message(serializedBytes: payload)
        } catch {
            throw Self.scoped(.malformedPayload, "\(header.type) payload: \(error.message)", header)
        }
    }

    /// Runs a payload type's validation, scoping its failure as `decodeMessage` does.
    static func validate<Value>(
        _ header: Header,
        _ body: () throws(PayloadError) -> Value
    ) throws(FrameError) -> Value {
        do {
            return try body()
        } catch {
            throw Self.scoped(error.code, error.message, header)
        }
    }

    static func scoped(_ code: FrameError.Code, _ message: String, _ header: Header) -> FrameError {
        if header.stream.isConnection {
            let goAway: GoAwayCode = code == .windowOverflow ? .flowControlError : .protocolError
            return FrameError(code, .closeConnection(goAway), message)
        }
        return FrameError(code, .endStream(header.stream, .internal), message)
    }

    static func requireLength(_ length: Int, _ header: Header) throws(FrameError) {
        guard header.length == length else {
            throw FrameError.connection(
                .invalidPayloadLength,
                .frameSizeError,
                "\(header.type) payload is \(header.length) bytes, not \(length)"
            )
        }
    }

    /// The first `count` bytes of `bytes` (whose length the caller has checked) as a big-endian number.
    static func readBigEndian(_ bytes: ArraySlice<UInt8>, _ count: Int) -> UInt64 {
        var value: UInt64 = 0
        for byte in bytes.prefix(count) { value = value << 8 | UInt64(byte) }
        return value
    }
}
