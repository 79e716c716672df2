// The protobuf decoding rules beyond single fields: packed and unpacked repetition, last-one-wins scalars,
// merged messages, oneof switching, open enums, presence, and unknown fields kept byte for byte.
import Testing
import VigilWire

@Suite struct CodecSemanticsTests {
    @Test("repeated numbers are written packed and read both packed and unpacked")
    func packedAndUnpacked() throws {
        var value = Repeated()
        value.rInt32 = [1, 2, 300]
        #expect(value.serializedBytes() == [0x0A, 0x04, 0x01, 0x02, 0xAC, 0x02])
        let unpacked: [UInt8] = [0x08, 0x01, 0x08, 0x02, 0x08, 0xAC, 0x02]
        #expect(try Repeated(serializedBytes: unpacked).rInt32 == [1, 2, 300])
        // Packed and unpacked runs of one field concatenate.
        let mixed: [UInt8] = [0x0A, 0x02, 0x01, 0x02, 0x08, 0x03]
        #expect(try Repeated(serializedBytes: mixed).rInt32 == [1, 2, 3])
        // Packed fixed-width values.
        let fixed: [UInt8] = [0x4A, 0x08, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(try Repeated(serializedBytes: fixed).rFixed32 == [1, UInt32.max])
    }

    @Test("a repeated scalar field appearing twice keeps the last value")
    func lastOneWins() throws {
        #expect(try Scalars(serializedBytes: [0x08, 0x01, 0x08, 0x02]).fInt32 == 2)
        #expect(try Scalars(serializedBytes: [0x7A, 0x01, 0x61, 0x7A, 0x01, 0x62]).fString == "b")
    }

    @Test("a singular message field appearing twice merges")
    func messagesMerge() throws {
        var first = Nested()
        first.inner = Nested.Inner()
        first.inner?.note = "n"
        var second = Nested()
        second.inner = Nested.Inner()
        second.inner?.level = .deep
        let merged = try Nested(serializedBytes: first.serializedBytes() + second.serializedBytes())
        #expect(merged.inner?.note == "n")
        #expect(merged.inner?.level == .deep)
    }

    @Test("a later oneof member replaces an earlier one")
    func oneofSwitch() throws {
        var number = Choice()
        number.value = .number(5)
        var text = Choice()
        text.value = .text("t")
        #expect(try Choice(serializedBytes: number.serializedBytes() + text.serializedBytes()).value == .text("t"))
        #expect(try Choice(serializedBytes: text.serializedBytes() + number.serializedBytes()).value == .number(5))
    }

    @Test("a oneof member holding its default is still written")
    func oneofDefault() throws {
        var value = Choice()
        value.value = .number(0)
        #expect(value.serializedBytes() == [0x10, 0x00])
        #expect(try Choice(serializedBytes: [0x10, 0x00]).value == .number(0))
        #expect(try Choice(serializedBytes: []).value == nil)
    }

    @Test("proto3 optional fields keep presence of zero values")
    func presence() throws {
        var value = Presence()
        value.maybeInt64 = 0
        value.maybeString = ""
        #expect(value.serializedBytes() == [0x08, 0x00, 0x12, 0x00])
        let decoded = try Presence(serializedBytes: value.serializedBytes())
        #expect(decoded.maybeInt64 == 0)
        #expect(decoded.maybeString == "")
        #expect(decoded.maybeBool == nil)
        #expect(Presence().serializedBytes().isEmpty)
    }

    @Test("singular defaults are omitted, but negative zero is not")
    func defaultsOmitted() {
        var value = Scalars()
        value.fInt32 = 0
        value.fString = ""
        value.fEnum = .unspecified
        #expect(value.serializedBytes().isEmpty)
        value.fDouble = -0.0
        #expect(value.serializedBytes() == [0x71, 0, 0, 0, 0, 0, 0, 0, 0x80])
    }

    @Test("enums are open: an unknown number survives a round trip")
    func openEnum() throws {
        let decoded = try Scalars(serializedBytes: [0x40, 0x4D])
        #expect(decoded.fEnum == .unrecognized(77))
        #expect(decoded.fEnum.rawValue == 77)
        #expect(decoded.serializedBytes() == [0x40, 0x4D])
        #expect(Color(rawValue: 10) == .blue)
        #expect(Color.unrecognized(10) == .blue)
        #expect(Color.blue.protoName == "COLOR_BLUE")
        #expect(Color(protoName: "COLOR_GREEN") == .green)
    }

    @Test("unknown fields of every wire type are kept and written back")
    func unknownFields() throws {
        var known = Choice()
        known.label = "x"
        let unknown: [UInt8] = [
            0xA0, 0x06, 0x96, 0x01,  // field 100, varint 150
            0xA9, 0x06, 1, 2, 3, 4, 5, 6, 7, 8,  // field 101, fixed64
            0xB2, 0x06, 0x02, 0xFF, 0x00,  // field 102, length-delimited (not UTF-8: nobody looks)
            0xBD, 0x06, 9, 9, 9, 9,  // field 103, fixed32
        ]
        let bytes = known.serializedBytes() + unknown
        let decoded = try Choice(serializedBytes: bytes)
        #expect(decoded.label == "x")
        #expect(decoded.unknownFields.bytes == unknown)
        #expect(decoded.serializedBytes() == bytes)
    }

    @Test("a map entry missing its key or value takes the defaults")
    func mapEntryDefaults() throws {
        // counts (field 1): an empty entry, then an entry with only a value.
        let bytes: [UInt8] = [0x0A, 0x00, 0x0A, 0x02, 0x10, 0x07]
        #expect(try Maps(serializedBytes: bytes).counts == ["": 7])
    }

    @Test("map entries with unknown fields inside decode")
    func mapEntryUnknown() throws {
        let bytes: [UInt8] = [0x0A, 0x07, 0x0A, 0x01, 0x61, 0x10, 0x02, 0x18, 0x05]
        #expect(try Maps(serializedBytes: bytes).counts == ["a": 2])
    }

    @Test("decoding from a slice reads only the slice")
    func sliceDecoding() throws {
        let bytes: [UInt8] = [0xFF, 0x08, 0x05, 0xFF]
        #expect(try Scalars(serializedBytes: bytes[1..<3]).fInt32 == 5)
    }

    @Test("appendSerialized appends exactly the message's bytes")
    func appendSerialized() {
        var value = Scalars()
        value.fString = "abc"
        var buffer: [UInt8] = [1, 2]
        value.appendSerialized(to: &buffer)
        #expect(buffer == [1, 2] + value.serializedBytes())
    }
}

/// Nested bodies of 128 bytes or more move forward by their extra length-prefix bytes after being written; the
/// move overlaps itself, at every nesting level and in map entries.
@Suite struct LongNestedMessageTests {
    @Test("nested messages of every length-prefix width encode as protoc's rules say and decode back", arguments: [
        0, 1, 126, 127, 128, 129, 300, 16_382, 16_383, 16_384, 70_000,
    ])
    func longNested(noteLength: Int) throws {
        var inner = Nested.Inner()
        inner.note = String(repeating: "n", count: noteLength)
        var scalars = Scalars()
        scalars.fString = String(repeating: "s", count: noteLength)
        var maps = Maps()
        maps.messages = ["k": scalars, "j": Scalars()]
        var choice = Choice()
        choice.value = .scalars(scalars)
        var value = Nested()
        value.inner = inner
        value.inners = [inner, Nested.Inner(), inner]
        value.choice = choice
        value.maps = maps
        let bytes = value.serializedBytes()
        #expect(bytes.count == value.serializedSize())
        #expect(try Nested(serializedBytes: bytes) == value)
        // The length prefix of `inner` (field 1, first on the wire) is the varint of the body size.
        let body = inner.serializedSize()
        #expect(bytes[0] == 0x0A)
        var reader = [UInt8]()
        var rest = UInt64(body)
        while rest >= 0x80 { reader.append(UInt8(truncatingIfNeeded: rest) | 0x80); rest >>= 7 }
        reader.append(UInt8(rest))
        #expect(Array(bytes[1..<(1 + reader.count)]) == reader)
    }
}

@Suite struct RepeatedMessageGrowthTests {
    @Test("a repeated message field reserves room for similar elements, never more than the input can fill")
    func reservationIsBoundedByInput() throws {
        var small = Nested.Inner()
        small.note = "s"
        var large = Nested.Inner()
        large.note = String(repeating: "L", count: 200_000)
        var value = Nested()
        value.inners = [small, large]
        let bytes = value.serializedBytes()
        let decoded = try Nested(serializedBytes: bytes)
        #expect(decoded == value)
        let reservedBytes = decoded.inners.capacity * MemoryLayout<Nested.Inner>.stride
        #expect(reservedBytes <= 4 * bytes.count + 4096, "reserved \(reservedBytes) bytes for a \(bytes.count)-byte input")

        var batch = Nested()
        batch.inners = Array(repeating: small, count: 1000)
        let decodedBatch = try Nested(serializedBytes: batch.serializedBytes())
        #expect(decodedBatch.inners.count == 1000)
        #expect(decodedBatch.inners.capacity < 2000, "similar elements are reserved for once, not by doubling past")
    }
}
