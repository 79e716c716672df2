// Varint and ZigZag primitives against values worked out by hand from the protobuf encoding spec.
import Testing
import VigilWire

@Suite struct VarintTests {
    static let varintSizes: [(value: UInt64, size: Int)] = [
        (0, 1), (1, 1), (127, 1), (128, 2), (16_383, 2), (16_384, 3), (2_097_151, 3), (2_097_152, 4),
        (UInt64(UInt32.max), 5), (1 << 35, 6), (1 << 42, 7), (1 << 49, 8), (1 << 56, 9), (1 << 63, 10),
        (UInt64.max, 10),
    ]

    @Test("varint size matches the number of 7-bit groups", arguments: Self.varintSizes)
    func varintSize(value: UInt64, size: Int) {
        #expect(WireSize.varint(value) == size)
    }

    static let zigzagPairs: [(value: Int64, encoded: UInt64)] = [
        (0, 0), (-1, 1), (1, 2), (-2, 3), (2_147_483_647, 4_294_967_294), (-2_147_483_648, 4_294_967_295),
        (Int64.max, UInt64.max - 1), (Int64.min, UInt64.max),
    ]

    @Test("zigzag maps small magnitudes to small numbers", arguments: Self.zigzagPairs)
    func zigzag64(value: Int64, encoded: UInt64) {
        #expect(ZigZag.encode(value) == encoded)
        #expect(ZigZag.decode(encoded) == value)
    }

    @Test("zigzag32 round-trips the extremes")
    func zigzag32() {
        for value: Int32 in [0, -1, 1, .min, .max, -64, 63] {
            #expect(ZigZag.decode(ZigZag.encode(value)) == value)
        }
        #expect(ZigZag.encode(Int32.min) == UInt32.max)
    }

    @Test("the spec's example: 150 in field 1 is 08 96 01")
    func specExample() throws {
        var value = Scalars()
        value.fInt32 = 150
        #expect(value.serializedBytes() == [0x08, 0x96, 0x01])
        #expect(try Scalars(serializedBytes: [0x08, 0x96, 0x01]).fInt32 == 150)
    }

    @Test("negative int32 takes ten bytes, as int64 would")
    func negativeInt32() throws {
        var value = Scalars()
        value.fInt32 = -1
        let bytes = value.serializedBytes()
        #expect(bytes == [0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
        #expect(try Scalars(serializedBytes: bytes).fInt32 == -1)
    }

    @Test("a varint with non-minimal padding still decodes")
    func paddedVarint() throws {
        // 1 written as 81 80 80 00: legal, if wasteful.
        #expect(try Scalars(serializedBytes: [0x08, 0x81, 0x80, 0x80, 0x00]).fInt32 == 1)
    }

    @Test("a field number above 15 takes a two-byte key")
    func highFieldNumber() throws {
        var value = Scalars()
        value.fHighNumber = 1
        // 2000 << 3 = 16000 = 0x3E80 -> 80 7D.
        #expect(value.serializedBytes() == [0x80, 0x7D, 0x01])
    }
}
