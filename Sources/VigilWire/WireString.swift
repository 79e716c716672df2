// A string field as the decoder leaves it: UTF-8 already validated, still inside the buffer it was decoded from,
// until someone asks for a Swift `String`. Building a `String` per field means a heap allocation, a copy and a
// later free for every string longer than 15 bytes, which the profile of `vigilbench codec` showed to be the
// largest cost of decoding an event batch. A slice costs one reference count on the input buffer instead, and a
// consumer that only needs the bytes (a SQLite bind, a re-encode) never pays for a `String` at all.
//
// The price: a decoded message keeps its whole input buffer alive while any of its string fields does.

/// The value of a protobuf `string` field: a Swift `String`, or validated UTF-8 borrowed from a decoded buffer.
/// Equality and hashing compare the UTF-8 bytes, whichever form either side is in.
public struct WireString: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    @usableFromInline
    enum Storage: Sendable {
        case string(String)
        /// Valid UTF-8 (checked by the decoder before this was made).
        case utf8(ArraySlice<UInt8>)
    }

    @usableFromInline var storage: Storage

    @inlinable
    public init() { self.storage = .string("") }

    @inlinable
    public init(_ string: String) { self.storage = .string(string) }

    @inlinable
    public init(stringLiteral value: String) { self.storage = .string(value) }

    /// Wraps bytes the caller has checked with `UTF8Validation.isValid`.
    @inlinable
    init(validatedUTF8 bytes: ArraySlice<UInt8>) { self.storage = .utf8(bytes) }

    /// The value as a Swift string (made on each call when the value is still borrowed bytes).
    @inlinable
    public var string: String {
        switch self.storage {
        case .string(let string): string
        case .utf8(let bytes): bytes.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
        }
    }

    @inlinable
    public var utf8Count: Int {
        switch self.storage {
        case .string(let string): string.utf8.count
        case .utf8(let bytes): bytes.count
        }
    }

    @inlinable
    public var isEmpty: Bool { self.utf8Count == 0 }

    /// Calls `body` with the UTF-8 bytes, without making a `String` (nor, for a native string, a copy).
    @inlinable
    public func withUTF8<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        switch self.storage {
        case .utf8(let bytes):
            return try bytes.withUnsafeBytes(body)
        case .string(let string):
            if let result = try string.utf8.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
                return result
            }
            var copy = string
            return try copy.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
        }
    }

    @inlinable
    public static func == (lhs: WireString, rhs: WireString) -> Bool {
        // Bytes, not `String ==`, which treats canonically equivalent text (é as one or two scalars) as equal:
        // protobuf strings are equal when their bytes are, and hashing must agree with equality.
        if case .string(let left) = lhs.storage, case .string(let right) = rhs.storage {
            return left.utf8.elementsEqual(right.utf8)
        }
        return lhs.withUTF8 { left in rhs.withUTF8 { right in left.elementsEqual(right) } }
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        self.withUTF8 { hasher.combine(bytes: $0) }
        hasher.combine(0xFF as UInt8)  // terminator, so ("ab", "c") and ("a", "bc") hash apart in a composite
    }

    public var description: String { self.string }
}

/// `string` fields kept as `WireString`: decoding borrows the input's bytes instead of building a `String`.
public enum ProtoWireString: WireCodec {
    @inlinable public static var wireType: WireType { .lengthDelimited }
    @inlinable public static var defaultValue: WireString { WireString() }
    @inlinable public static func size(of value: WireString) -> Int { WireSize.lengthDelimited(value.utf8Count) }
    @inlinable public static func write(_ value: WireString, to writer: inout WireWriter) {
        writer.writeVarint(UInt64(value.utf8Count))
        value.withUTF8 { writer.writeRawBytes($0) }
    }
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> WireString {
        try reader.readWireString()
    }
}
