// Frames covering every type and every flag combination a test needs, shared by the round-trip and chunking tests.

import VigilRPC

enum FrameSamples {
    static let stream1 = StreamID(1)
    static let stream3 = StreamID(3)

    static var metadata: Metadata {
        var metadata = Metadata(["x-request-id": "42", "authorization": "Bearer abc.def.ghi"])
        metadata.append("trace-bin", binary: [0, 1, 2, 255])
        metadata.append("x-request-id", "43")
        return metadata
    }

    static var settings: ConnectionSettings {
        var settings = ConnectionSettings()
        settings.maxFrameSize = 32_768
        settings.initialStreamWindow = 1 << 20
        settings.maxConcurrentStreams = 7
        return settings
    }

    /// One frame of each type and shape, the first being SETTINGS so a decoder expecting a preface accepts them.
    static var all: [Frame] {
        [
            .settings(Self.settings),
            .settingsAck,
            .headers(
                Self.stream1,
                CallHeaders(methodPath: "/vigil.v1.Vigil/Echo", metadata: Self.metadata, timeout: .milliseconds(1500)),
                endStream: false
            ),
            .headers(Self.stream3, CallHeaders(methodPath: "/vigil.v1.Vigil/WhoAmI"), endStream: true),
            .headers(Self.stream1, .response(metadata: Metadata(["server": "vigild"])), endStream: false),
            .data(Self.stream1, .message([1, 2, 3, 4, 5])),
            .data(Self.stream1, .message([], endStream: true)),
            .data(Self.stream1, DataFrame(messageLength: 10, bytes: [1, 2, 3])),
            .data(Self.stream1, DataFrame(bytes: [4, 5, 6, 7])),
            .data(Self.stream1, DataFrame(bytes: [8, 9, 10], endMessage: true, endStream: true)),
            .data(Self.stream3, .endOfStream),
            .data(Self.stream3, .packed([[1, 2], [], [3, 4, 5]])),
            .data(Self.stream3, .packed([[9]], endStream: true)),
            .trailers(Self.stream1, CallTrailers(status: .ok)),
            .trailers(
                Self.stream3,
                CallTrailers(status: Status(code: .notFound, message: "no such alert"), metadata: Self.metadata)
            ),
            .trailers(Self.stream3, CallTrailers(status: Status(code: Status.Code(rawValue: 99)))),
            .reset(Self.stream1, .cancelled),
            .windowUpdate(.connection, increment: 65_536),
            .windowUpdate(Self.stream3, increment: 0x7FFF_FFFF),
            .ping(0x0102_0304_0506_0708),
            .pong(0x0102_0304_0506_0708),
            .goAway(GoAway(lastStreamID: Self.stream3, code: .noError, debugMessage: "server shutting down")),
            .goAway(GoAway(lastStreamID: .connection, code: GoAwayCode(rawValue: 42))),
        ]
    }

    /// The preface followed by every sample frame.
    static func encodedConnection() throws -> [UInt8] {
        var bytes: [UInt8] = []
        FrameEncoder.writePreface(into: &bytes)
        let encoder = FrameEncoder()
        for frame in Self.all { try encoder.encode(frame, into: &bytes) }
        return bytes
    }

    /// Decodes everything `decoder` can produce.
    static func drain(_ decoder: inout FrameDecoder) throws -> [Frame] {
        var frames: [Frame] = []
        while let frame = try decoder.nextFrame() { frames.append(frame) }
        return frames
    }
}
