// The protobuf wire types and the field key that pairs one with a field number. Groups (3, 4) are named so a
// decoder can refuse them by name: proto3 never writes them.

/// How a field's payload is laid out on the wire (the low three bits of a field key).
public enum WireType: UInt8, Sendable, Hashable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// A decoded field key: which field, and how its payload is encoded.
public struct FieldTag: Sendable, Hashable {
    /// Protobuf's largest field number, 2^29 - 1.
    @inlinable public static var maxFieldNumber: Int { 536_870_911 }

    public let fieldNumber: Int
    public let wireType: WireType

    @inlinable
    public init(fieldNumber: Int, wireType: WireType) {
        self.fieldNumber = fieldNumber
        self.wireType = wireType
    }

    /// The key as it is written: `fieldNumber << 3 | wireType`.
    @inlinable
    public var key: UInt64 { UInt64(self.fieldNumber) << 3 | UInt64(self.wireType.rawValue) }
}
