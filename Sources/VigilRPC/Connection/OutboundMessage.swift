// One message waiting to be sent, cut into DATA frames as credit allows. Senders cut by the windows, not only by the
// frame size, so a message larger than the window goes out as credit arrives instead of waiting for credit that a
// receiver could only give after reading the whole message.

/// A message (or a bare half-close) being written as DATA frames.
public struct OutboundMessage: Sendable {
    let bytes: [UInt8]
    /// Bytes of `bytes` already framed.
    var offset = 0
    var begun = false
    let isMessage: Bool
    let endStream: Bool

    /// A message; `endStream` half-closes with its last frame.
    public init(message: [UInt8], endStream: Bool) {
        self.bytes = message
        self.isMessage = true
        self.endStream = endStream
    }

    /// A bare half-close: one empty DATA frame with END_STREAM, which costs no credit.
    public static let endOfStream = OutboundMessage(halfClose: ())

    init(halfClose: Void) {
        self.bytes = []
        self.isMessage = false
        self.endStream = true
    }

    /// True once every frame has been produced.
    public private(set) var isComplete = false

    /// The next frame costing at most `credit` flow-controlled bytes and carrying at most `maxFrameSize` payload
    /// bytes; nil when the credit is too small (a first frame needs room for the 4-byte length prefix) or nothing
    /// is left.
    public mutating func nextFrame(credit: Int, maxFrameSize: Int) -> DataFrame? {
        guard !self.isComplete else { return nil }
        guard self.isMessage else {
            self.isComplete = true
            return .endOfStream
        }
        let prefix = self.begun ? 0 : 4
        let room = min(credit, maxFrameSize) - prefix
        let remaining = self.bytes.count - self.offset
        // An empty continuation would cost nothing and say nothing: wait for credit instead.
        guard room > 0 || (room == 0 && remaining == 0) else { return nil }
        let end = self.offset + min(room, remaining)
        let last = end == self.bytes.count
        let frame = DataFrame(
            messageLength: self.begun ? nil : UInt32(clamping: self.bytes.count),
            bytes: Array(self.bytes[self.offset..<end]),
            endMessage: last,
            endStream: last && self.endStream
        )
        self.offset = end
        self.begun = true
        self.isComplete = last
        return frame
    }
}
