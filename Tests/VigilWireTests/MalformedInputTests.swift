// A table of malformed inputs, each with the typed error it must produce. Decoding never traps and never
// allocates for bytes that are not there.
import Testing
import VigilWire

@Suite struct MalformedInputTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let bytes: [UInt8]
        let code: WireDecodingError.Code
        var description: String { self.name }
    }

    static let cases: [Case] = [
        Case(name: "truncated varint", bytes: [0x08, 0x80], code: .truncated),
        Case(name: "key alone", bytes: [0x08], code: .truncated),
        Case(name: "truncated key", bytes: [0x80], code: .truncated),
        Case(name: "eleven-byte varint", bytes: [0x08] + [UInt8](repeating: 0xFF, count: 10) + [0x01],
             code: .varintTooLong),
        Case(name: "length past end", bytes: [0x7A, 0x05, 0x61], code: .lengthPastEnd),
        Case(name: "huge length", bytes: [0x7A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], code: .lengthPastEnd),
        Case(name: "length of 2^64-1", bytes: [0x7A] + [UInt8](repeating: 0xFF, count: 9) + [0x01],
             code: .lengthPastEnd),
        Case(name: "int32 field sent as fixed32", bytes: [0x0D, 0, 0, 0, 0], code: .wrongWireType),
        Case(name: "string field sent as varint", bytes: [0x78, 0x01], code: .wrongWireType),
        Case(name: "fixed64 field sent as length-delimited", bytes: [0x52, 0x00], code: .wrongWireType),
        Case(name: "invalid UTF-8 continuation", bytes: [0x7A, 0x02, 0xC3, 0x28], code: .invalidUTF8),
        Case(name: "overlong UTF-8 encoding of NUL", bytes: [0x7A, 0x02, 0xC0, 0x80], code: .invalidUTF8),
        Case(name: "UTF-16 surrogate in UTF-8", bytes: [0x7A, 0x03, 0xED, 0xA0, 0x80], code: .invalidUTF8),
        Case(name: "lone continuation byte", bytes: [0x7A, 0x01, 0x80], code: .invalidUTF8),
        Case(name: "code point above U+10FFFF", bytes: [0x7A, 0x04, 0xF4, 0x90, 0x80, 0x80], code: .invalidUTF8),
        Case(name: "start group on a known field", bytes: [0x0B, 0x0C], code: .groupNotSupported),
        Case(name: "start group on an unknown field", bytes: [0xA3, 0x06], code: .groupNotSupported),
        Case(name: "end group", bytes: [0x0C], code: .groupNotSupported),
        Case(name: "wire type 6", bytes: [0x0E], code: .invalidWireType),
        Case(name: "wire type 7", bytes: [0x0F, 0x00], code: .invalidWireType),
        Case(name: "field number 0", bytes: [0x00, 0x00], code: .invalidFieldNumber),
        Case(name: "field number 2^29", bytes: [0x80, 0x80, 0x80, 0x80, 0x10, 0x00], code: .invalidFieldNumber),
        Case(name: "truncated fixed64", bytes: [0x51, 1, 2, 3], code: .truncated),
        Case(name: "truncated fixed32", bytes: [0x4D, 1], code: .truncated),
        Case(name: "truncated unknown fixed64", bytes: [0xA1, 0x06, 1, 2], code: .truncated),
        Case(name: "unknown length past end", bytes: [0xA2, 0x06, 0x03, 0x00], code: .lengthPastEnd),
    ]

    @Test("malformed Scalars input gives its typed error", arguments: cases)
    func malformedScalars(_ input: Case) {
        #expect(throws: WireDecodingError.self) { try Scalars(serializedBytes: input.bytes) }
        do {
            _ = try Scalars(serializedBytes: input.bytes)
        } catch {
            #expect(error.code == input.code, "\(input.name): \(error)")
        }
    }

    @Test("a packed fixed32 field whose length is not a multiple of 4 is refused")
    func packedLength() {
        #expect(throws: WireDecodingError(.invalidPackedLength, offset: 2, fieldNumber: 9)) {
            try Repeated(serializedBytes: [0x4A, 0x03, 1, 2, 3])
        }
    }

    @Test("a packed varint run that ends mid-varint is truncated")
    func packedTruncated() {
        #expect(throws: WireDecodingError.self) { try Repeated(serializedBytes: [0x0A, 0x02, 0x01, 0x80]) }
        do { _ = try Repeated(serializedBytes: [0x0A, 0x02, 0x01, 0x80]) } catch {
            #expect(error.code == .truncated)
        }
    }

    @Test("a field inside a nested message cannot reach past the nested message's end")
    func nestedBounds() {
        // Nested.inner (field 1) of length 3 holding note (field 1) with length 5: the 5 bytes exist in the outer
        // buffer, but not inside the inner message.
        let bytes: [UInt8] = [0x0A, 0x03, 0x0A, 0x05, 0x61, 0x62, 0x63, 0x64, 0x65]
        do {
            _ = try Nested(serializedBytes: bytes)
            Issue.record("decoded past a nested message's end")
        } catch {
            #expect(error.code == .lengthPastEnd)
        }
    }

    @Test("nesting past the depth limit is refused, and within it accepted")
    func depthLimit() throws {
        var value = Nested()
        var choice = Choice()
        var scalars = Scalars()
        scalars.fBool = true
        choice.value = .scalars(scalars)
        value.choice = choice
        let bytes = value.serializedBytes()
        #expect(try Nested(serializedBytes: bytes, maxDepth: 2) == value)
        do {
            _ = try Nested(serializedBytes: bytes, maxDepth: 1)
            Issue.record("depth limit not applied")
        } catch {
            #expect(error.code == .nestingTooDeep)
        }
    }

    @Test("errors say what and where, never the payload")
    func errorMessage() {
        let error = WireDecodingError(.invalidUTF8, offset: 17, fieldNumber: 15)
        #expect(error.message == "malformed protobuf: invalidUTF8 in field 15 at byte 17")
    }
}
