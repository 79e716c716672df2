// Whole messages sent one at a time join the frame before them while it waits in the send buffer: what the decoder
// then reads is one PACKED frame holding every message, in order, and nothing joins across streams, past the frame
// size, after END_STREAM, or once the buffer moved on.
import Synchronization
import Testing
import VigilRPC

/// A connection's send buffer that the socket has not taken yet: bytes stay until the test takes them.
final class HeldSendBuffer: RPCByteSink {
    private let bytes = Mutex<[UInt8]>([])

    func enqueue(_ bytes: [UInt8]) { self.bytes.withLock { $0.append(contentsOf: bytes) } }
    func enqueue(encoding encode: (inout [UInt8]) -> Void) { self.bytes.withLock { encode(&$0) } }
    func drain() {}

    /// What the socket would send now; the buffer starts over.
    func take() -> [UInt8] { self.bytes.withLock { bytes in defer { bytes = [] }; return bytes } }
}

@Suite("Frame coalescing")
struct FrameCoalescingTests {
    static let one = StreamID(1)
    static let three = StreamID(3)

    static func decode(_ bytes: [UInt8], maxFrameSize: Int = 65_536) throws -> [Frame] {
        var settings = ConnectionSettings()
        settings.maxFrameSize = maxFrameSize
        var decoder = FrameDecoder(settings: settings, expectingPreface: false)
        decoder.feed(bytes)
        return try FrameSamples.drain(&decoder)
    }

    @Test("messages on one stream written one after another become one PACKED frame, in order")
    func joinsInOrder() throws {
        let encoder = FrameEncoder()
        var bytes: [UInt8] = []
        var mark: CoalescableFrame?
        for message in [[1, 2, 3], [], [4]] as [[UInt8]] {
            mark = try encoder.appendCoalescing(.message(message), on: Self.one, after: mark, into: &bytes)
        }
        #expect(try Self.decode(bytes) == [.data(Self.one, .packed([[1, 2, 3], [], [4]]))])
        // A PACKED frame written as such takes more messages too.
        mark = try encoder.appendCoalescing(.packed([[5], [6]]), on: Self.one, after: mark, into: &bytes)
        mark = try encoder.appendCoalescing(.message([7]), on: Self.one, after: mark, into: &bytes)
        #expect(
            try Self.decode(bytes) == [
                .data(Self.one, .packed([[1, 2, 3], [], [4]])), .data(Self.one, .packed([[5], [6], [7]])),
            ])
    }

    @Test("an endpoint's messages sent one at a time share the frame waiting in its send buffer, until it is sent")
    func endpointJoinsWaitingFrame() async throws {
        let buffer = HeldSendBuffer()
        let endpoint = RPCEndpoint(role: .client, peer: "test", output: buffer)
        let method = MethodDescriptor(service: "vigil.test.Test", method: "Sum", kind: .clientStreaming)
        let call = try await endpoint.makeCall(method, metadata: Metadata(), deadline: nil)
        defer { call.finish() }
        for number in 1...10 { try await call.send([UInt8(number)], endStream: false) }
        var decoder = FrameDecoder()
        decoder.feed(buffer.take())
        let frames = try FrameSamples.drain(&decoder)
        #expect(frames.count == 3, "\(frames)")  // SETTINGS, HEADERS, DATA
        #expect(frames.last == .data(StreamID(1), .packed((1...10).map { [UInt8($0)] })))

        // Once the buffer went to the socket, the next message starts a frame of its own.
        try await call.send([11], endStream: false)
        try await call.send([12], endStream: false)
        var next = FrameDecoder(expectingPreface: false)
        next.feed(buffer.take())
        #expect(try FrameSamples.drain(&next) == [.data(StreamID(1), .packed([[11], [12]]))])
    }

    @Test("a lone message stays an ordinary frame")
    func loneMessage() throws {
        var bytes: [UInt8] = []
        _ = try FrameEncoder().appendCoalescing(.message([9, 9]), on: Self.one, after: nil, into: &bytes)
        #expect(try Self.decode(bytes) == [.data(Self.one, .message([9, 9]))])
    }

    @Test("nothing joins across streams, past the frame size, after END_STREAM or a part of a message")
    func boundaries() throws {
        var encoder = FrameEncoder()
        encoder.maxFrameSize = 16_384
        var bytes: [UInt8] = []
        var mark: CoalescableFrame?
        let big = [UInt8](repeating: 7, count: 10_000)
        mark = try encoder.appendCoalescing(.message(big), on: Self.one, after: mark, into: &bytes)
        mark = try encoder.appendCoalescing(.message([1]), on: Self.three, after: mark, into: &bytes)
        mark = try encoder.appendCoalescing(.message(big), on: Self.three, after: mark, into: &bytes)
        mark = try encoder.appendCoalescing(.message(big), on: Self.three, after: mark, into: &bytes)
        mark = try encoder.appendCoalescing(.message([2], endStream: true), on: Self.three, after: mark, into: &bytes)
        #expect(mark == nil)
        mark = try encoder.appendCoalescing(.message([3]), on: Self.three, after: mark, into: &bytes)
        mark = try encoder.appendCoalescing(
            DataFrame(messageLength: 20_000, bytes: big), on: Self.three, after: mark, into: &bytes)
        #expect(mark == nil)
        #expect(
            try Self.decode(bytes, maxFrameSize: 16_384) == [
                .data(Self.one, .message(big)),
                .data(Self.three, .packed([[1], big])),
                .data(Self.three, .message(big)),
                .data(Self.three, .message([2], endStream: true)),
                .data(Self.three, .message([3])),
                .data(Self.three, DataFrame(messageLength: 20_000, bytes: big)),
            ])
    }

    @Test("once anything else is in the buffer, or the buffer was sent, the next message starts a frame")
    func bufferMovedOn() throws {
        let encoder = FrameEncoder()
        var bytes: [UInt8] = []
        var mark = try encoder.appendCoalescing(.message([1]), on: Self.one, after: nil, into: &bytes)
        try encoder.encode(.windowUpdate(Self.three, increment: 5), into: &bytes)
        mark = try encoder.appendCoalescing(.message([2]), on: Self.one, after: mark, into: &bytes)
        #expect(
            try Self.decode(bytes) == [
                .data(Self.one, .message([1])), .windowUpdate(Self.three, increment: 5), .data(Self.one, .message([2])),
            ])
        // Sent: the connection took the buffer and a new one began.
        var next: [UInt8] = []
        _ = try encoder.appendCoalescing(.message([3]), on: Self.one, after: mark, into: &next)
        #expect(try Self.decode(next) == [.data(Self.one, .message([3]))])
    }
}
