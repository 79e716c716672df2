// Every way a peer can send bad bytes gives its own typed error with the right consequence, whole or byte by byte,
// and the length limit is enforced before any payload is waited for.

import Testing
import VigilRPC
import VigilWire

/// One malformed input and what the decoder must say about it.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    var preface = false
    var settings = ConnectionSettings()
    let code: FrameError.Code
    let consequence: FrameError.Consequence

    var testDescription: String { self.name }
}

/// A frame written by hand, so tests can write what the encoder refuses to.
func rawFrame(length: Int? = nil, type: UInt8, flags: UInt8 = 0, stream: UInt32 = 0, _ payload: [UInt8] = []) -> [UInt8]
{
    let length = length ?? payload.count
    return [
        UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8),
        UInt8(truncatingIfNeeded: length),
        type, flags,
        UInt8(truncatingIfNeeded: stream >> 24), UInt8(truncatingIfNeeded: stream >> 16),
        UInt8(truncatingIfNeeded: stream >> 8), UInt8(truncatingIfNeeded: stream),
    ] + payload
}

func headersPayload(key: String, value: String = "", binary: [UInt8] = []) -> [UInt8] {
    var entry = MetadataEntry()
    entry.key = key
    entry.value = value
    entry.binaryValue = binary
    var payload = HeadersPayload()
    payload.methodPath = "/a/b"
    payload.metadata = [entry]
    return payload.serializedBytes()
}

func settingsPayload(_ edit: (inout SettingsPayload) -> Void) -> [UInt8] {
    var payload = SettingsPayload()
    edit(&payload)
    return payload.serializedBytes()
}

let settingsFrame = rawFrame(type: 7, settingsPayload { _ in })
let protocolError = FrameError.Consequence.closeConnection(.protocolError)
let frameSizeError = FrameError.Consequence.closeConnection(.frameSizeError)
let flowControlError = FrameError.Consequence.closeConnection(.flowControlError)

let malformedCases: [MalformedCase] = [
    MalformedCase(
        name: "HTTP/1 request instead of the preface",
        bytes: Array("GET / HTTP/1.1\r\n\r\n".utf8),
        preface: true,
        code: .badPreface,
        consequence: protocolError
    ),
    MalformedCase(
        name: "TLS ClientHello instead of the preface",
        bytes: [0x16, 0x03, 0x01, 0x02, 0x00],
        preface: true,
        code: .badPreface,
        consequence: protocolError
    ),
    MalformedCase(
        name: "preface of version 2",
        bytes: Array("VIGIL\r\n".utf8) + [2],
        preface: true,
        code: .unsupportedVersion,
        consequence: .closeConnection(.unsupportedVersion)
    ),
    MalformedCase(
        name: "first frame is not SETTINGS",
        bytes: Array("VIGIL\r\n".utf8) + [1] + rawFrame(type: 5, Array(repeating: 0, count: 8)),
        preface: true,
        code: .settingsExpected,
        consequence: protocolError
    ),
    MalformedCase(
        name: "second SETTINGS",
        bytes: Array("VIGIL\r\n".utf8) + [1] + settingsFrame + settingsFrame,
        preface: true,
        code: .duplicateSettings,
        consequence: protocolError
    ),
    MalformedCase(
        name: "length one above max frame size",
        bytes: rawFrame(length: 65_537, type: 0, stream: 1),
        code: .frameTooLarge,
        consequence: frameSizeError
    ),
    MalformedCase(
        name: "unknown type 8", bytes: rawFrame(type: 8), code: .unknownFrameType, consequence: protocolError),
    MalformedCase(
        name: "HEADERS with flag 0x02",
        bytes: rawFrame(type: 1, flags: 0x02, stream: 1),
        code: .invalidFlags,
        consequence: protocolError
    ),
    MalformedCase(
        name: "TRAILERS with END_STREAM",
        bytes: rawFrame(type: 2, flags: 0x01, stream: 1),
        code: .invalidFlags,
        consequence: protocolError
    ),
    MalformedCase(
        name: "DATA on stream 0", bytes: rawFrame(type: 0), code: .streamIDRequired, consequence: protocolError),
    MalformedCase(
        name: "RST_STREAM on stream 0",
        bytes: rawFrame(type: 3, [0, 0, 0, 1]),
        code: .streamIDRequired,
        consequence: protocolError
    ),
    MalformedCase(
        name: "PING on stream 1",
        bytes: rawFrame(type: 5, stream: 1, Array(repeating: 0, count: 8)),
        code: .streamIDForbidden,
        consequence: protocolError
    ),
    MalformedCase(
        name: "SETTINGS on stream 3",
        bytes: rawFrame(type: 7, stream: 3),
        code: .streamIDForbidden,
        consequence: protocolError
    ),
    MalformedCase(
        name: "even stream id",
        bytes: rawFrame(type: 0, stream: 2),
        code: .invalidStreamID,
        consequence: protocolError
    ),
    MalformedCase(
        name: "reserved stream-id bit",
        bytes: rawFrame(type: 0, stream: 0x8000_0001),
        code: .invalidStreamID,
        consequence: protocolError
    ),
    MalformedCase(
        name: "PING of 7 bytes",
        bytes: rawFrame(type: 5, Array(repeating: 0, count: 7)),
        code: .invalidPayloadLength,
        consequence: frameSizeError
    ),
    MalformedCase(
        name: "RST_STREAM of 5 bytes",
        bytes: rawFrame(type: 3, stream: 1, [0, 0, 0, 1, 0]),
        code: .invalidPayloadLength,
        consequence: frameSizeError
    ),
    MalformedCase(
        name: "SETTINGS ACK with a payload",
        bytes: rawFrame(type: 7, flags: 0x01, [0]),
        code: .invalidPayloadLength,
        consequence: frameSizeError
    ),
    MalformedCase(
        name: "DATA beginning a message with a 3-byte prefix",
        bytes: rawFrame(type: 0, flags: 0x04, stream: 1, [0, 0, 1]),
        code: .invalidPayloadLength,
        consequence: frameSizeError
    ),
    MalformedCase(
        name: "PACKED DATA with BEGIN_MESSAGE",
        bytes: rawFrame(type: 0, flags: 0x0C, stream: 1, [0, 0, 0, 1, 9]),
        code: .invalidFlags,
        consequence: protocolError
    ),
    MalformedCase(
        name: "PACKED DATA with END_MESSAGE",
        bytes: rawFrame(type: 0, flags: 0x0A, stream: 1, [0, 0, 0, 1, 9]),
        code: .invalidFlags,
        consequence: protocolError
    ),
    MalformedCase(
        name: "PACKED DATA without a message",
        bytes: rawFrame(type: 0, flags: 0x09, stream: 1),
        code: .messageLengthMismatch,
        consequence: protocolError
    ),
    MalformedCase(
        name: "PACKED DATA ending inside a length prefix",
        bytes: rawFrame(type: 0, flags: 0x08, stream: 1, [0, 0, 0, 1, 9, 0, 0]),
        code: .messageLengthMismatch,
        consequence: protocolError
    ),
    MalformedCase(
        name: "PACKED DATA whose last message is longer than what is left",
        bytes: rawFrame(type: 0, flags: 0x08, stream: 1, [0, 0, 0, 1, 9, 0, 0, 0, 3, 1, 2]),
        code: .messageLengthMismatch,
        consequence: protocolError
    ),
    MalformedCase(
        name: "PACKED DATA with a message above max message bytes",
        bytes: rawFrame(type: 0, flags: 0x08, stream: 7, [0, 0, 0, 1, 9, 0, 0x40, 0, 1, 9]),
        code: .messageTooLarge,
        consequence: .endStream(StreamID(7), .resourceExhausted)
    ),
    MalformedCase(
        name: "WINDOW_UPDATE of 0",
        bytes: rawFrame(type: 4, stream: 1, [0, 0, 0, 0]),
        code: .zeroWindowIncrement,
        consequence: protocolError
    ),
    MalformedCase(
        name: "WINDOW_UPDATE with the reserved bit",
        bytes: rawFrame(type: 4, [0x80, 0, 0, 1]),
        code: .windowOverflow,
        consequence: flowControlError
    ),
    MalformedCase(
        name: "whole message shorter than its prefix",
        bytes: rawFrame(type: 0, flags: 0x06, stream: 1, [0, 0, 0, 5, 1, 2, 3]),
        code: .messageLengthMismatch,
        consequence: protocolError
    ),
    MalformedCase(
        name: "first frame longer than its message",
        bytes: rawFrame(type: 0, flags: 0x04, stream: 1, [0, 0, 0, 2, 1, 2, 3]),
        code: .messageLengthMismatch,
        consequence: protocolError
    ),
    MalformedCase(
        name: "HEADERS payload is not protobuf",
        bytes: rawFrame(type: 1, stream: 1, [0xFF, 0xFF]),
        code: .malformedPayload,
        consequence: .endStream(StreamID(1), .internal)
    ),
    MalformedCase(
        name: "TRAILERS message is not UTF-8",
        bytes: rawFrame(type: 2, stream: 3, [0x12, 0x02, 0xC3, 0x28]),
        code: .malformedPayload,
        consequence: .endStream(StreamID(3), .internal)
    ),
    MalformedCase(
        name: "metadata key in upper case",
        bytes: rawFrame(type: 1, stream: 1, headersPayload(key: "X-Upper", value: "v")),
        code: .invalidMetadata,
        consequence: .endStream(StreamID(1), .internal)
    ),
    MalformedCase(
        name: "binary metadata key with a text value",
        bytes: rawFrame(type: 1, stream: 1, headersPayload(key: "trace-bin", value: "v")),
        code: .invalidMetadata,
        consequence: .endStream(StreamID(1), .internal)
    ),
    MalformedCase(
        name: "text metadata key with a binary value",
        bytes: rawFrame(type: 1, stream: 1, headersPayload(key: "trace", binary: [1])),
        code: .invalidMetadata,
        consequence: .endStream(StreamID(1), .internal)
    ),
    MalformedCase(
        name: "SETTINGS payload is not protobuf",
        bytes: rawFrame(type: 7, [0x08]),
        code: .malformedPayload,
        consequence: protocolError
    ),
    MalformedCase(
        name: "max frame size below 16384",
        bytes: rawFrame(type: 7, settingsPayload { $0.maxFrameSize = 100 }),
        code: .invalidSetting,
        consequence: protocolError
    ),
    MalformedCase(
        name: "initial stream window above 2^31 - 1",
        bytes: rawFrame(type: 7, settingsPayload { $0.initialStreamWindow = 0x8000_0000 }),
        code: .windowOverflow,
        consequence: flowControlError
    ),
    MalformedCase(
        name: "GOAWAY last stream id with the reserved bit",
        bytes: rawFrame(type: 6, [0x08, 0x80, 0x80, 0x80, 0x80, 0x08]),
        code: .invalidStreamID,
        consequence: protocolError
    ),
    MalformedCase(
        name: "HEADERS above max header bytes",
        bytes: rawFrame(type: 1, stream: 5, headersPayload(key: "k", value: String(repeating: "v", count: 100))),
        settings: {
            var settings = ConnectionSettings()
            settings.maxHeaderBytes = 64
            return settings
        }(),
        code: .headersTooLarge,
        consequence: .endStream(StreamID(5), .resourceExhausted)
    ),
    MalformedCase(
        name: "message above max message bytes",
        bytes: rawFrame(type: 0, flags: 0x04, stream: 7, [0, 0x40, 0, 1, 9]),
        code: .messageTooLarge,
        consequence: .endStream(StreamID(7), .resourceExhausted)
    ),
]

@Suite("Frame decoder errors")
struct FrameDecoderErrorTests {
    @Test("each malformed input gives its typed error, fed whole or byte by byte", arguments: malformedCases)
    func malformed(_ testCase: MalformedCase) throws {
        for byteByByte in [false, true] {
            var decoder = FrameDecoder(settings: testCase.settings, expectingPreface: testCase.preface)
            let error = #expect(throws: FrameError.self, "byte by byte: \(byteByByte)") {
                if byteByByte {
                    for byte in testCase.bytes {
                        decoder.feed(CollectionOfOne(byte))
                        _ = try FrameSamples.drain(&decoder)
                    }
                } else {
                    decoder.feed(testCase.bytes)
                    _ = try FrameSamples.drain(&decoder)
                }
            }
            #expect(error?.code == testCase.code, "byte by byte: \(byteByByte), \(String(describing: error))")
            #expect(error?.consequence == testCase.consequence, "byte by byte: \(byteByByte)")
        }
    }

    @Test("an oversized frame is refused from its header alone, before any payload arrives")
    func lengthBeforeAllocation() {
        var decoder = FrameDecoder(expectingPreface: false)
        decoder.feed(rawFrame(length: 0xFF_FFFF, type: 0, stream: 1))
        let error = #expect(throws: FrameError.self) { try decoder.nextFrame() }
        #expect(error?.code == .frameTooLarge)
        #expect(decoder.bufferedByteCount == FrameEncoder.headerSize)
        // The connection is done for: later calls throw the same error, whatever arrives.
        decoder.feed([0, 0, 0])
        let again = #expect(throws: FrameError.self) { try decoder.nextFrame() }
        #expect(again == error)
    }

    @Test("a stream error consumes its frame and decoding goes on")
    func streamErrorContinues() throws {
        var decoder = FrameDecoder(expectingPreface: false)
        decoder.feed(rawFrame(type: 0, flags: 0x04, stream: 7, [0xFF, 0, 0, 0, 9, 9]))
        decoder.feed(rawFrame(type: 5, Array(repeating: 1, count: 8)))
        let error = #expect(throws: FrameError.self) { try decoder.nextFrame() }
        #expect(error?.code == .messageTooLarge)
        #expect(error?.flowControlledBytes == 6)
        #expect(error?.statusCode == .resourceExhausted)
        #expect(try decoder.nextFrame() == .ping(0x0101_0101_0101_0101))
    }

    @Test("a connection that ends inside a frame or the preface is truncated")
    func truncated() throws {
        var decoder = FrameDecoder(expectingPreface: false)
        decoder.feed(rawFrame(type: 5, Array(repeating: 1, count: 8)).dropLast())
        #expect(try decoder.nextFrame() == nil)
        let error = #expect(throws: FrameError.self) { try decoder.finish() }
        #expect(error?.code == .truncatedFrame)

        var prefaced = FrameDecoder()
        prefaced.feed(Array("VIGIL".utf8))
        #expect(try prefaced.nextFrame() == nil)
        #expect(throws: FrameError.self) { try prefaced.finish() }
    }

    @Test("a lowered max frame size applies to the next header")
    func loweredLimit() throws {
        var decoder = FrameDecoder(expectingPreface: false)
        decoder.settings.maxFrameSize = 16_384
        decoder.feed(rawFrame(length: 16_385, type: 0, stream: 1))
        let error = #expect(throws: FrameError.self) { try decoder.nextFrame() }
        #expect(error?.goAwayCode == .frameSizeError)
    }
}
