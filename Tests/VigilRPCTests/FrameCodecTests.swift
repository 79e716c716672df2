// Encoder and decoder agree on every frame type, and decoding does not depend on how the bytes were split.

import Testing
import VigilRPC
import VigilTesting

@Suite("Frame encoder and decoder")
struct FrameCodecTests {
    @Test("every frame type round-trips through encoder and decoder", arguments: FrameSamples.all)
    func roundTrip(_ frame: Frame) throws {
        var bytes: [UInt8] = []
        try FrameEncoder().encode(frame, into: &bytes)
        #expect(bytes.count == FrameEncoder.headerSize + (try FrameEncoder.payloadSize(of: frame)))
        var decoder = FrameDecoder(expectingPreface: false)
        decoder.feed(bytes)
        #expect(try decoder.nextFrame() == frame)
        #expect(try decoder.nextFrame() == nil)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("a HEADERS payload's size bound is never below its encoded size")
    func headersSizeBound() throws {
        var random = SplitMix64(seed: 0x4845_4144)
        for round in 0..<2_000 {
            var metadata = Metadata()
            for index in 0..<Int.random(in: 0...6, using: &random) {
                let key = "k\(index)-" + String(repeating: "x", count: Int.random(in: 0...40, using: &random))
                let size = [0, 1, 127, 128, 300, 16_383, 16_384, 70_000].randomElement(using: &random) ?? 0
                if Bool.random(using: &random) {
                    metadata.append(key, String(repeating: "v", count: size))
                } else {
                    metadata.append(key + "-bin", binary: [UInt8](repeating: 7, count: size))
                }
            }
            let timeout: Duration? =
                Bool.random(using: &random) ? .seconds(Int64.random(in: 0...1_000_000, using: &random)) : nil
            let path = "/svc.S" + String(repeating: "/m", count: Int.random(in: 0...100, using: &random))
            let headers = CallHeaders(methodPath: path, metadata: metadata, timeout: timeout)
            let exact = try FrameEncoder.payloadSize(of: .headers(StreamID(1), headers, endStream: false))
            #expect(headers.payloadSizeBound >= exact, "round \(round)")
        }
    }

    @Test("the header is 9 bytes, big-endian: length, type, flags, stream id")
    func headerLayout() throws {
        var bytes: [UInt8] = []
        try FrameEncoder().encode(.data(StreamID(0x0102_0305), .message([0xAA], endStream: true)), into: &bytes)
        #expect(bytes == [0, 0, 5, 0, 0x07, 0x01, 0x02, 0x03, 0x05, 0, 0, 0, 1, 0xAA])
        bytes = []
        try FrameEncoder().encode(.windowUpdate(.connection, increment: 0x0102_0304), into: &bytes)
        #expect(bytes == [0, 0, 4, 4, 0, 0, 0, 0, 0, 1, 2, 3, 4])
    }

    @Test("the preface is VIGIL CR LF and version 1")
    func preface() {
        var bytes: [UInt8] = []
        FrameEncoder.writePreface(into: &bytes)
        #expect(bytes == [0x56, 0x49, 0x47, 0x49, 0x4C, 0x0D, 0x0A, 0x01])
    }

    @Test("the example of docs/PROTOCOL.md section 12 is what the encoder writes")
    func protocolExample() throws {
        let encoder = FrameEncoder()
        var settings: [UInt8] = []
        try encoder.encode(.settings(.defaults), into: &settings)
        #expect(Array(settings.prefix(9)) == [0, 0, 0x17, 7, 0, 0, 0, 0, 0])
        var ack: [UInt8] = []
        try encoder.encode(.settingsAck, into: &ack)
        #expect(ack == [0, 0, 0, 7, 1, 0, 0, 0, 0])
        var headers: [UInt8] = []
        try encoder.encode(
            .headers(StreamID(1), CallHeaders(methodPath: "/vigil.v1.Vigil/Echo"), endStream: false), into: &headers)
        #expect(Array(headers.prefix(11)) == [0, 0, 0x16, 1, 0, 0, 0, 0, 1, 0x0A, 0x14])
        var data: [UInt8] = []
        try encoder.encode(.data(StreamID(1), .message(Array(repeating: 0, count: 7), endStream: true)), into: &data)
        #expect(Array(data.prefix(13)) == [0, 0, 0x0B, 0, 7, 0, 0, 0, 1, 0, 0, 0, 7])
    }

    @Test("whole, byte by byte and random chunks decode to the same frames")
    func splitting() throws {
        let bytes = try FrameSamples.encodedConnection()
        var whole = FrameDecoder()
        whole.feed(bytes)
        let expected = try FrameSamples.drain(&whole)
        #expect(expected == FrameSamples.all)

        var byByte = FrameDecoder()
        var frames: [Frame] = []
        for byte in bytes {
            byByte.feed(CollectionOfOne(byte))
            frames += try FrameSamples.drain(&byByte)
        }
        #expect(frames == expected)
        try byByte.finish()

        for seed in UInt64(1)...50 {
            var generator = SplitMix64(seed: seed)
            var decoder = FrameDecoder()
            var chunked: [Frame] = []
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + 1 + Int(generator.next() % 97))
                decoder.feed(bytes[offset..<end])
                chunked += try FrameSamples.drain(&decoder)
                offset = end
            }
            #expect(chunked == expected, "random chunks with seed \(seed)")
        }
    }

    @Test("a large message is split at the max frame size and reassembles")
    func largeMessage() throws {
        let message = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var bytes: [UInt8] = []
        let encoder = FrameEncoder(maxFrameSize: 16_384)
        try encoder.encodeMessage(message, on: StreamID(5), endStream: true, into: &bytes)
        var decoder = FrameDecoder(settings: ConnectionSettings(), expectingPreface: false)
        decoder.feed(bytes)
        let frames = try FrameSamples.drain(&decoder)
        var reassembled: [UInt8] = []
        var declared: UInt32?
        for (index, frame) in frames.enumerated() {
            guard case .data(let stream, let data) = frame else {
                Issue.record("unexpected \(frame)")
                return
            }
            #expect(stream == StreamID(5))
            #expect(data.flowControlledLength <= 16_384)
            #expect((data.messageLength != nil) == (index == 0))
            #expect(data.endMessage == (index == frames.count - 1))
            #expect(data.endStream == (index == frames.count - 1))
            if let length = data.messageLength { declared = length }
            reassembled += data.bytes
        }
        #expect(declared == UInt32(message.count))
        #expect(reassembled == message)
    }

    @Test("timeouts travel as whole microseconds, rounded up")
    func timeoutRounding() {
        #expect(CallHeaders(methodPath: "/a/b").timeoutMicroseconds == 0)
        #expect(CallHeaders(methodPath: "/a/b", timeout: .nanoseconds(1)).timeoutMicroseconds == 1)
        #expect(CallHeaders(methodPath: "/a/b", timeout: .nanoseconds(1_001)).timeoutMicroseconds == 2)
        #expect(CallHeaders(methodPath: "/a/b", timeout: .seconds(-3)).timeoutMicroseconds == 1)
        #expect(CallHeaders(methodPath: "/a/b", timeout: .seconds(2)).timeoutMicroseconds == 2_000_000)
    }

    @Test("the encoder refuses a payload above the peer's max frame size and writes nothing")
    func encoderLimit() throws {
        var bytes: [UInt8] = [9]
        let encoder = FrameEncoder(maxFrameSize: 16_384)
        #expect(throws: FrameError.self) {
            try encoder.encode(.data(StreamID(1), .message(Array(repeating: 0, count: 16_381))), into: &bytes)
        }
        #expect(bytes == [9])
    }
}
