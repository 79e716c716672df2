// Turns a byte stream into frames, incrementally: feed whatever the socket (or TLS) produced, then take frames until
// `nextFrame()` returns nil, which means "need more bytes"; a throw means the bytes can never be valid. The frame
// length is checked against the limit as soon as the 9-byte header is in, before waiting for (or buffering) the
// payload, so a peer cannot make us hold more than one frame's worth of bytes by announcing a huge frame.
// Checks happen in a fixed order on the header alone first, so the same bytes give the same result however they
// were split across reads (docs/PROTOCOL.md has the rules; this file enforces the framing ones).

import VigilWire

/// Incremental frame decoder for one direction of one connection.
public struct FrameDecoder: Sendable {
    /// Our own limits: what the peer may send us. Lower them only once the peer has acknowledged our SETTINGS.
    public var settings: ConnectionSettings

    /// Bytes fed and not yet consumed live in `buffer[readIndex...]`.
    var buffer: [UInt8] = []
    var readIndex = 0
    /// Preface bytes still to check; 0 once it has been read (or when none is expected).
    var prefaceRemaining: Int
    /// True until the first frame after the preface, which must be SETTINGS.
    var expectingSettings: Bool
    var sawSettings = false
    /// A connection error, once thrown, is thrown again: the byte stream has lost its framing for good.
    var failure: FrameError?

    /// A decoder checking the peer's preface, then requiring SETTINGS as the first frame; pass `expectingPreface:
    /// false` to decode bare frames (tests, tools).
    public init(settings: ConnectionSettings = .defaults, expectingPreface: Bool = true) {
        self.settings = settings
        self.prefaceRemaining = expectingPreface ? ConnectionPreface.count : 0
        self.expectingSettings = expectingPreface
    }

    /// Bytes fed but not yet decoded.
    public var bufferedByteCount: Int { self.buffer.count - self.readIndex }

    /// Adds bytes read from the peer.
    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        self.compact()
        self.buffer.append(contentsOf: bytes)
    }

    /// Adds bytes read from the peer; when everything before them was decoded, takes the array over instead of
    /// copying it (a large message arrives in reads of up to 64 KiB).
    public mutating func feed(_ bytes: [UInt8]) {
        if self.readIndex == self.buffer.count {
            self.buffer = bytes
            self.readIndex = 0
        } else {
            self.compact()
            self.buffer.append(contentsOf: bytes)
        }
    }

    /// Adds bytes read from the peer, from memory the caller owns for the duration of the call.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        self.compact()
        self.buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil when more bytes are needed. A connection error is thrown again by every later
    /// call; after a stream error (`.endStream`) the frame has been consumed and decoding can go on.
    public mutating func nextFrame() throws(FrameError) -> Frame? {
        if let failure = self.failure { throw failure }
        do {
            return try self.decodeNext()
        } catch {
            if error.isConnectionError { self.failure = error }
            throw error
        }
    }

    /// Call when the peer closed its side: throws `.truncatedFrame` when a partial preface or frame is left over.
    public mutating func finish() throws(FrameError) {
        if let failure = self.failure { throw failure }
        let prefaceStarted = self.prefaceRemaining > 0 && self.prefaceRemaining < ConnectionPreface.count
        guard self.bufferedByteCount > 0 || prefaceStarted else { return }
        let error = FrameError.connection(
            .truncatedFrame,
            .protocolError,
            prefaceStarted
                ? "connection ended inside the preface"
                : "connection ended \(self.bufferedByteCount) bytes into a frame"
        )
        self.failure = error
        throw error
    }

    // MARK: Decoding

    mutating func decodeNext() throws(FrameError) -> Frame? {
        if self.prefaceRemaining > 0 {
            guard try self.readPreface() else { return nil }
        }
        guard self.bufferedByteCount >= FrameEncoder.headerSize else { return nil }
        let header = try self.checkedHeader()
        guard self.bufferedByteCount >= FrameEncoder.headerSize + header.length else { return nil }
        let start = self.readIndex + FrameEncoder.headerSize
        self.readIndex = start + header.length
        if header.type == .settings && !header.flags.contains(.ack) { self.sawSettings = true }
        self.expectingSettings = false
        return try self.decodePayload(header, self.buffer[start..<self.readIndex])
    }

    /// Checks the preface byte by byte as it arrives, so a peer speaking another protocol is refused on its first
    /// wrong byte; true once all 8 bytes have been read.
    mutating func readPreface() throws(FrameError) -> Bool {
        while self.prefaceRemaining > 0 && self.readIndex < self.buffer.count {
            let position = ConnectionPreface.count - self.prefaceRemaining
            let byte = self.buffer[self.readIndex]
            if position < ConnectionPreface.magic.count {
                guard byte == ConnectionPreface.magic[position] else {
                    throw FrameError.connection(
                        .badPreface,
                        .protocolError,
                        "not a Vigil peer: expected the preface \"VIGIL\\r\\n\" followed by version "
                            + "\(ConnectionPreface.version)"
                    )
                }
            } else if byte != ConnectionPreface.version {
                throw FrameError.connection(
                    .unsupportedVersion,
                    .unsupportedVersion,
                    "peer speaks Vigil protocol version \(byte); this endpoint speaks version \(ConnectionPreface.version)"
                )
            }
            self.readIndex += 1
            self.prefaceRemaining -= 1
        }
        return self.prefaceRemaining == 0
    }

    struct Header {
        let length: Int
        let type: FrameType
        let flags: FrameFlags
        let stream: StreamID
    }

    /// Reads and checks the 9-byte header without consuming it: length limit first (nothing is buffered for an
    /// oversized frame), then type, flags, stream id, and the SETTINGS-first rules.
    func checkedHeader() throws(FrameError) -> Header {
        let at = self.readIndex
        let length = Int(self.buffer[at]) << 16 | Int(self.buffer[at + 1]) << 8 | Int(self.buffer[at + 2])
        let type = FrameType(rawValue: self.buffer[at + 3])
        let flags = FrameFlags(rawValue: self.buffer[at + 4])
        var rawStream: UInt32 = 0
        for offset in 5..<9 { rawStream = rawStream << 8 | UInt32(self.buffer[at + offset]) }

        guard length <= self.settings.maxFrameSize else {
            throw FrameError.connection(
                .frameTooLarge,
                .frameSizeError,
                "\(type) frame of \(length) bytes exceeds max frame size \(self.settings.maxFrameSize)"
            )
        }
        guard type.isKnown else {
            throw FrameError.connection(.unknownFrameType, .protocolError, "unknown frame type \(type.rawValue)")
        }
        let undefined = flags.subtracting(type.definedFlags)
        guard undefined.isEmpty else {
            throw FrameError.connection(
                .invalidFlags,
                .protocolError,
                "\(type) frame has undefined flags 0x\(String(undefined.rawValue, radix: 16))"
            )
        }
        guard rawStream <= StreamID.maxRawValue else {
            throw FrameError.connection(
                .invalidStreamID, .protocolError, "\(type) frame's stream id has the reserved bit")
        }
        let stream = StreamID(rawStream)
        switch type.streamRule {
        case .stream where stream.isConnection:
            throw FrameError.connection(.streamIDRequired, .protocolError, "\(type) frame on stream 0")
        case .connection where !stream.isConnection:
            throw FrameError.connection(.streamIDForbidden, .protocolError, "\(type) frame on \(stream)")
        default:
            break
        }
        guard stream.isConnection || stream.isClientInitiated else {
            throw FrameError.connection(.invalidStreamID, .protocolError, "\(type) frame on even \(stream)")
        }
        if self.expectingSettings && (type != .settings || flags.contains(.ack)) {
            throw FrameError.connection(.settingsExpected, .protocolError, "first frame is \(type), not SETTINGS")
        }
        if self.sawSettings && type == .settings && !flags.contains(.ack) {
            throw FrameError.connection(.duplicateSettings, .protocolError, "second SETTINGS frame")
        }
        return Header(length: length, type: type, flags: flags, stream: stream)
    }

    /// Drops consumed bytes when that is cheap relative to what remains, so the buffer never grows with the total
    /// bytes a connection has carried.
    mutating func compact() {
        if self.readIndex == self.buffer.count {
            self.buffer.removeAll(keepingCapacity: true)
            self.readIndex = 0
        } else if self.readIndex >= 4096 && self.readIndex * 2 >= self.buffer.count {
            self.buffer.removeSubrange(0..<self.readIndex)
            self.readIndex = 0
        }
    }
}
