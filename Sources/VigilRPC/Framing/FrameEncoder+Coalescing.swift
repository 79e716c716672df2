// One message at a time, many small messages still share frames: when a whole message follows another on the same
// stream and the frame before it has not left the send buffer yet, it joins that frame, which becomes PACKED
// (docs/PROTOCOL.md §5.1). A single-message frame's payload (prefix, bytes) is already a PACKED payload, so joining
// rewrites the header's length and flags and appends the message with its prefix. Flow control is unchanged: each
// message was charged when it was sent, and the joined frame costs the sum.

/// The last DATA frame written into a send buffer, while a whole message on the same stream may still join it.
public struct CoalescableFrame: Sendable, Hashable {
    public let stream: StreamID
    /// Where its 9-byte header starts in the buffer.
    public let headerOffset: Int
    /// Its payload length so far.
    public internal(set) var payloadLength: Int
    /// The buffer's length right after it: if the buffer is longer or shorter now (something followed it, or the
    /// buffer was handed to the socket and a new one started), the frame can no longer grow.
    public internal(set) var end: Int
}

extension FrameEncoder {
    /// Appends `data` on `stream`: into the frame `previous` marks when that frame is still the last thing in
    /// `bytes`, is on the same stream and has room, else as a frame of its own. Returns the mark for what follows:
    /// only frames of whole messages that do not end the stream can be joined.
    public func appendCoalescing(
        _ data: DataFrame, on stream: StreamID, after previous: CoalescableFrame?, into bytes: inout [UInt8]
    ) throws(FrameError) -> CoalescableFrame? {
        let wholeMessage = data.messageLength != nil && data.endMessage && !data.endStream
        let joinable = wholeMessage || (data.isPacked && !data.endStream)
        if wholeMessage, var previous, previous.stream == stream, previous.end == bytes.count,
            previous.payloadLength + data.flowControlledLength <= self.maxFrameSize
        {
            let length = previous.payloadLength + data.flowControlledLength
            let header = previous.headerOffset
            bytes[header] = UInt8(truncatingIfNeeded: length >> 16)
            bytes[header + 1] = UInt8(truncatingIfNeeded: length >> 8)
            bytes[header + 2] = UInt8(truncatingIfNeeded: length)
            bytes[header + 4] = FrameFlags.packed.rawValue
            Self.appendBigEndian(UInt64(data.bytes.count), byteCount: 4, &bytes)
            bytes.append(contentsOf: data.bytes)
            previous.payloadLength = length
            previous.end = bytes.count
            return previous
        }
        let start = bytes.count
        try self.encode(.data(stream, data), into: &bytes)
        guard joinable else { return nil }
        return CoalescableFrame(
            stream: stream, headerOffset: start, payloadLength: data.flowControlledLength, end: bytes.count)
    }
}
