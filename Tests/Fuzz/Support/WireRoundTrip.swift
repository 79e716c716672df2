// The properties every protobuf message decoder must keep, whatever the bytes (shared by the api-requests and
// rpc-payloads harnesses):
// - no trap or sanitizer report (varints, lengths past the end, nesting, UTF-8, packed fields, unknown fields);
// - decoding from an array and from borrowed memory agree (they are two reader set-ups over the same code);
// - a decoded message re-encodes with exactly its reported size (the writer traps otherwise), decodes back to an
//   equal value, and encodes to the same bytes again (the encoding is deterministic).

import VigilWire

/// Runs the properties above for `raw` read as `Message`; returns the message when the bytes decode. `raw` should
/// be the fuzzer's own copy of the input, which ends exactly where the input does, so AddressSanitizer reports a
/// read one byte past the end (an array's spare capacity would hide it).
@discardableResult
func checkWireRoundTrip<Message: WireMessage>(_ type: Message.Type, _ raw: UnsafeRawBufferPointer) -> Message? {
    let bytes = Array(raw)
    let owned = Result { () throws(WireDecodingError) in try Message(serializedBytes: bytes) }
    let borrowed = Result { () throws(WireDecodingError) in try Message(unsafeSerializedBytes: raw) }
    switch (owned, borrowed) {
    case (.success(let left), .success(let right)):
        fuzzCheck(left == right, "\(Message.self): owned and borrowed decoding differ")
    case (.failure(let left), .failure(let right)):
        fuzzCheck(left == right, "\(Message.self): owned decoding threw \(left), borrowed threw \(right)")
    default:
        fuzzCheck(false, "\(Message.self): owned decoding gave \(owned), borrowed gave \(borrowed)")
    }
    guard case .success(let message) = owned else { return nil }

    let encoded = message.serializedBytes()
    var appended: [UInt8] = [0xFF]
    message.appendSerialized(to: &appended)
    fuzzCheck(appended.dropFirst().elementsEqual(encoded), "\(Message.self): appendSerialized differs")
    do {
        let again = try Message(serializedBytes: encoded)
        fuzzCheck(again == message, "\(Message.self): decode(encode(m)) != m for input \(bytes)")
        fuzzCheck(again.serializedBytes() == encoded, "\(Message.self): encoding is not deterministic")
    } catch {
        fuzzCheck(false, "\(Message.self): its own encoding \(encoded) does not decode: \(error)")
    }
    return message
}

/// Opens an existential message type so the generic checks run on it.
func checkWireRoundTrip(any type: any WireMessage.Type, _ raw: UnsafeRawBufferPointer) {
    checkWireRoundTrip(type, raw)
}

/// The fuzzer's input after its first (selector) byte, in the fuzzer's own memory.
func fuzzPayload(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
    guard let data, size > 1 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: data + 1, count: size - 1)
}
