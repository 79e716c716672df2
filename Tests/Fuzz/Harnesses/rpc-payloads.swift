// libFuzzer harness for the protobuf payloads of the RPC framing (Sources/VigilRPC/Generated): HEADERS, TRAILERS,
// SETTINGS and GOAWAY payloads and their metadata entries. Input: one selector byte, then the payload. Each payload
// is checked as a message (Support/WireRoundTrip.swift) and then, inside a frame of its type, through
// `FrameDecoder`, so the validation the Swift types add on top of the codec (metadata keys, setting ranges,
// status codes) runs on every input too, and a frame it accepts must round-trip.

import VigilRPC
import VigilWire

/// Selector order; the frame type each payload travels in (nil: MetadataEntry, which travels inside the others).
let payloads: [(type: any WireMessage.Type, frameType: UInt8?, stream: UInt32)] = [
    (HeadersPayload.self, 1, 1),
    (TrailersPayload.self, 2, 1),
    (SettingsPayload.self, 7, 0),
    (GoAwayPayload.self, 6, 0),
    (MetadataEntry.self, nil, 0),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRPCPayloads(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzBytes(data, size)
    guard let selector = input.first else { return 0 }
    let entry = payloads[Int(selector) % payloads.count]
    let payload = Array(input.dropFirst())
    checkWireRoundTrip(any: entry.type, fuzzPayload(data, size))
    guard let frameType = entry.frameType else { return 0 }

    // The frame header, written by hand: the encoder only writes valid frames. Bit 7 of the selector sets the one
    // flag HEADERS and SETTINGS define (END_STREAM / ACK), so both variants are reached.
    let flags: UInt8 = selector & 0x80 != 0 && (frameType == 1 || frameType == 7) ? 1 : 0
    let length = payload.count
    var frame: [UInt8] = [
        UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8),
        UInt8(truncatingIfNeeded: length), frameType, flags, 0, 0, 0, UInt8(entry.stream),
    ]
    frame += payload
    var decoder = FrameDecoder(expectingPreface: false)
    decoder.feed(frame)
    let decoded: Frame?
    do {
        decoded = try decoder.nextFrame()
    } catch {
        return 0
    }
    guard let decoded else {
        fuzzCheck(false, "a complete frame of \(frame.count) bytes did not decode")
        return 0
    }
    var encoded: [UInt8] = []
    do {
        try FrameEncoder().encode(decoded, into: &encoded)
    } catch {
        fuzzCheck(false, "accepted frame \(decoded) does not re-encode: \(error)")
    }
    var again = FrameDecoder(expectingPreface: false)
    again.feed(encoded)
    let second = try? again.nextFrame()
    fuzzCheck(second == decoded, "frame round trip changed \(decoded) into \(String(describing: second))")
    return 0
}
