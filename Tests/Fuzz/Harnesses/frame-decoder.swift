// libFuzzer harness for `FrameDecoder` (docs/PROTOCOL.md framing): the first thing every byte a peer sends meets.
// Input: one control byte, then the byte stream. Control bit 0 says whether the decoder expects the preface; the
// other bits pick a chunk size (1...128) for a second decoding of the same stream. Checked properties:
// - no trap or sanitizer report on any stream (lengths, flags, stream ids, nested protobuf payloads);
// - the same frames and errors whether the stream arrives whole or in chunks (the decoder's documented contract);
// - every frame it returns encodes with `FrameEncoder` and decodes back to an equal frame.
// Huge allocations from length fields are caught by libFuzzer's -malloc_limit_mb (see fuzz.sh).

import VigilRPC
import VigilWire

/// What one call of the decoder produced, in order.
enum Outcome: Hashable {
    case frame(Frame)
    case error(FrameError)
    case finished(FrameError?)
}

/// Decodes `stream` fed `chunkSize` bytes at a time, draining frames after every feed, stopping at a connection
/// error as a connection would.
func decode(_ stream: [UInt8], preface: Bool, chunkSize: Int) -> [Outcome] {
    var decoder = FrameDecoder(expectingPreface: preface)
    var outcomes: [Outcome] = []
    var offset = 0
    repeat {
        let end = min(stream.count, offset + max(chunkSize, 1))
        decoder.feed(stream[offset..<end])
        offset = end
        while true {
            do {
                guard let frame = try decoder.nextFrame() else { break }
                outcomes.append(.frame(frame))
            } catch {
                outcomes.append(.error(error))
                if error.isConnectionError { return outcomes }
            }
        }
    } while offset < stream.count
    do {
        try decoder.finish()
        outcomes.append(.finished(nil))
    } catch {
        outcomes.append(.finished(error))
    }
    return outcomes
}

/// Re-encodes a decoded frame and decodes it alone (no preface, fresh decoder): it must come back unchanged.
func checkRoundTrip(_ frame: Frame) {
    var bytes: [UInt8] = []
    do {
        try FrameEncoder().encode(frame, into: &bytes)
    } catch {
        fuzzCheck(false, "decoded frame \(frame) does not re-encode: \(error)")
        return
    }
    var decoder = FrameDecoder(expectingPreface: false)
    decoder.feed(bytes)
    do {
        let again = try decoder.nextFrame()
        fuzzCheck(again == frame, "round trip changed \(frame) into \(String(describing: again))")
        fuzzCheck(decoder.bufferedByteCount == 0, "re-encoded \(frame) left \(decoder.bufferedByteCount) bytes")
    } catch {
        fuzzCheck(false, "re-encoded \(frame) does not decode: \(error)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzBytes(data, size)
    guard let control = input.first else { return 0 }
    let stream = Array(input.dropFirst())
    let preface = control & 1 == 1
    let whole = decode(stream, preface: preface, chunkSize: stream.count)
    let chunked = decode(stream, preface: preface, chunkSize: Int(control >> 1) + 1)
    fuzzCheck(whole == chunked, "whole stream gave \(whole), chunks of \(Int(control >> 1) + 1) gave \(chunked)")
    for case .frame(let frame) in whole { checkRoundTrip(frame) }
    return 0
}
