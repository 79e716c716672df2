// Encoded sizes, for the first pass of two-pass encoding: a message computes its exact size, the writer then
// allocates once and writes exactly that many bytes.

public enum WireSize {
    /// Bytes a varint of `value` takes: 1 to 10.
    @inlinable @inline(__always)
    public static func varint(_ value: UInt64) -> Int {
        // 7 payload bits per byte; (bits * 9 + 73) / 64 is ceil(bits / 7) for 1...64 bits, without a division.
        let bits = 64 - (value | 1).leadingZeroBitCount
        return (bits * 9 + 64) / 64
    }

    /// Bytes of the key of `fieldNumber` (any wire type).
    @inlinable @inline(__always)
    public static func tag(_ fieldNumber: Int) -> Int {
        self.varint(UInt64(truncatingIfNeeded: fieldNumber) << 3)
    }

    /// Bytes of a length-delimited payload of `length` bytes, prefix included (key excluded).
    @inlinable @inline(__always)
    public static func lengthDelimited(_ length: Int) -> Int {
        self.varint(UInt64(truncatingIfNeeded: length)) + length
    }
}
