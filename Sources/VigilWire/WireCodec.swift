// One codec per protobuf field type. Generated messages name the codec of each field (`ProtoInt64`,
// `ProtoString`, ...), and the generic plumbing in WireWriter/WireReader does the rest, so packed and unpacked
// repeated fields, map entries and size computation are written once for every type.

/// How one protobuf field type is sized, written and read (payload only: the key is the caller's).
public protocol WireCodec {
    associatedtype Value: Sendable & Hashable
    /// The wire type of a single (unpacked) value.
    static var wireType: WireType { get }
    /// Bytes per value for fixed-width types, so packed sizes and capacities need no loop.
    static var fixedWidth: Int? { get }
    /// The proto3 default, which singular fields leave off the wire.
    static var defaultValue: Value { get }
    static func size(of value: Value) -> Int
    static func write(_ value: Value, to writer: inout WireWriter)
    static func read(from reader: inout WireReader) throws(WireDecodingError) -> Value
}

extension WireCodec {
    @inlinable public static var fixedWidth: Int? { nil }
}

// Constants are computed `@inlinable` properties, not `static let`: a stored global read from another module goes
// through an accessor with a lazy-initialisation check on every field written or read.

public enum ProtoInt32: WireCodec {
    @inlinable public static var wireType: WireType { .varint }
    @inlinable public static var defaultValue: Int32 { 0 }
    // Negative int32 values are sign-extended to 64 bits, so they always take 10 bytes (protobuf's rule).
    @inlinable public static func size(of value: Int32) -> Int { WireSize.varint(UInt64(bitPattern: Int64(value))) }
    @inlinable public static func write(_ value: Int32, to writer: inout WireWriter) {
        writer.writeVarint(UInt64(bitPattern: Int64(value)))
    }
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> Int32 {
        Int32(truncatingIfNeeded: try reader.readVarint())
    }
}

public enum ProtoInt64: WireCodec {
    @inlinable public static var wireType: WireType { .varint }
    @inlinable public static var defaultValue: Int64 { 0 }
    @inlinable public static func size(of value: Int64) -> Int { WireSize.varint(UInt64(bitPattern: value)) }
    @inlinable public static func write(_ value: Int64, to writer: inout WireWriter) {
        writer.writeVarint(UInt64(bitPattern: value))
    }
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> Int64 {
        Int64(bitPattern: try reader.readVarint())
    }
}

public enum ProtoUInt32: WireCodec {
    @inlinable public static var wireType: WireType { .varint }
    @inlinable public static var defaultValue: UInt32 { 0 }
    @inlinable public static func size(of value: UInt32) -> Int { WireSize.varint(UInt64(value)) }
    @inlinable public static func write(_ value: UInt32, to writer: inout WireWriter) {
        writer.writeVarint(UInt64(value))
    }
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> UInt32 {
        UInt32(truncatingIfNeeded: try reader.readVarint())
    }
}

public enum ProtoUInt64: WireCodec {
    @inlinable public static var wireType: WireType { .varint }
    @inlinable public static var defaultValue: UInt64 { 0 }
    @inlinable public static func size(of value: UInt64) -> Int { WireSize.varint(value) }
    @inlinable public static func write(_ value: UInt64, to writer: inout WireWriter) { writer.writeVarint(value) }
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> UInt64 {
        try reader.readVarint()
    }
}

public enum ProtoSInt32: WireCodec {
    @inlinable public static var wireType: WireType { .varint }
    @inlinable public static var defaultValue: Int32 { 0 }
    @inlinable public static func size(of value: Int32) -> Int { WireSize.varint(UInt64(ZigZag.encode(value))) }
    @inlinable public static func write(_ value: Int32, to writer: inout WireWriter) {
        writer.writeVarint(UInt64(ZigZag.encode(value)))
    }
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> Int32 {
        ZigZag.decode(UInt32(truncatingIfNeeded: try reader.readVarint()))
    }
}

public enum ProtoSInt64: WireCodec {
    @inlinable public static var wireType: WireType { .varint }
    @inlinable public static var defaultValue: Int64 { 0 }
    @inlinable public static func size(of value: Int64) -> Int { WireSize.varint(ZigZag.encode(value)) }
    @inlinable public static func write(_ value: Int64, to writer: inout WireWriter) {
        writer.writeVarint(ZigZag.encode(value))
    }
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> Int64 {
        ZigZag.decode(try reader.readVarint())
    }
}

public enum ProtoBool: WireCodec {
    @inlinable public static var wireType: WireType { .varint }
    @inlinable public static var defaultValue: Bool { false }
    @inlinable public static func size(of value: Bool) -> Int { 1 }
    @inlinable public static func write(_ value: Bool, to writer: inout WireWriter) {
        writer.writeByte(value ? 1 : 0)
    }
    /// Any non-zero varint is true, as in every protobuf runtime.
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> Bool {
        try reader.readVarint() != 0
    }
}

/// An enum field. Enums are open: a number the schema does not name decodes to `.unrecognized(n)` and encodes back.
public enum ProtoEnum<Enum: WireEnum>: WireCodec {
    public static var wireType: WireType { .varint }
    @inlinable public static var defaultValue: Enum { Enum(rawValue: 0) }
    @inlinable public static func size(of value: Enum) -> Int { ProtoInt32.size(of: value.rawValue) }
    @inlinable public static func write(_ value: Enum, to writer: inout WireWriter) {
        ProtoInt32.write(value.rawValue, to: &writer)
    }
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> Enum {
        Enum(rawValue: try ProtoInt32.read(from: &reader))
    }
}

public enum ProtoFixed32: WireCodec {
    @inlinable public static var wireType: WireType { .fixed32 }
    @inlinable public static var fixedWidth: Int? { 4 }
    @inlinable public static var defaultValue: UInt32 { 0 }
    @inlinable public static func size(of value: UInt32) -> Int { 4 }
    @inlinable public static func write(_ value: UInt32, to writer: inout WireWriter) { writer.writeFixed32(value) }
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> UInt32 {
        try reader.readFixed32()
    }
}

public enum ProtoFixed64: WireCodec {
    @inlinable public static var wireType: WireType { .fixed64 }
    @inlinable public static var fixedWidth: Int? { 8 }
    @inlinable public static var defaultValue: UInt64 { 0 }
    @inlinable public static func size(of value: UInt64) -> Int { 8 }
    @inlinable public static func write(_ value: UInt64, to writer: inout WireWriter) { writer.writeFixed64(value) }
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> UInt64 {
        try reader.readFixed64()
    }
}

public enum ProtoSFixed32: WireCodec {
    @inlinable public static var wireType: WireType { .fixed32 }
    @inlinable public static var fixedWidth: Int? { 4 }
    @inlinable public static var defaultValue: Int32 { 0 }
    @inlinable public static func size(of value: Int32) -> Int { 4 }
    @inlinable public static func write(_ value: Int32, to writer: inout WireWriter) {
        writer.writeFixed32(UInt32(bitPattern: value))
    }
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> Int32 {
        Int32(bitPattern: try reader.readFixed32())
    }
}

public enum ProtoSFixed64: WireCodec {
    @inlinable public static var wireType: WireType { .fixed64 }
    @inlinable public static var fixedWidth: Int? { 8 }
    @inlinable public static var defaultValue: Int64 { 0 }
    @inlinable public static func size(of value: Int64) -> Int { 8 }
    @inlinable public static func write(_ value: Int64, to writer: inout WireWriter) {
        writer.writeFixed64(UInt64(bitPattern: value))
    }
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> Int64 {
        Int64(bitPattern: try reader.readFixed64())
    }
}

public enum ProtoFloat: WireCodec {
    @inlinable public static var wireType: WireType { .fixed32 }
    @inlinable public static var fixedWidth: Int? { 4 }
    @inlinable public static var defaultValue: Float { 0 }
    @inlinable public static func size(of value: Float) -> Int { 4 }
    @inlinable public static func write(_ value: Float, to writer: inout WireWriter) {
        writer.writeFixed32(value.bitPattern)
    }
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> Float {
        Float(bitPattern: try reader.readFixed32())
    }
}

public enum ProtoDouble: WireCodec {
    @inlinable public static var wireType: WireType { .fixed64 }
    @inlinable public static var fixedWidth: Int? { 8 }
    @inlinable public static var defaultValue: Double { 0 }
    @inlinable public static func size(of value: Double) -> Int { 8 }
    @inlinable public static func write(_ value: Double, to writer: inout WireWriter) {
        writer.writeFixed64(value.bitPattern)
    }
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> Double {
        Double(bitPattern: try reader.readFixed64())
    }
}

/// A string field: UTF-8 on the wire, validated on decode (never silently repaired).
public enum ProtoString: WireCodec {
    @inlinable public static var wireType: WireType { .lengthDelimited }
    @inlinable public static var defaultValue: String { "" }
    @inlinable public static func size(of value: String) -> Int { WireSize.lengthDelimited(value.utf8.count) }
    @inlinable public static func write(_ value: String, to writer: inout WireWriter) {
        writer.writeVarint(UInt64(value.utf8.count))
        writer.writeRawUTF8(value)
    }
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> String {
        try reader.readString()
    }
}

public enum ProtoBytes: WireCodec {
    @inlinable public static var wireType: WireType { .lengthDelimited }
    @inlinable public static var defaultValue: [UInt8] { [] }
    @inlinable public static func size(of value: [UInt8]) -> Int { WireSize.lengthDelimited(value.count) }
    @inlinable public static func write(_ value: [UInt8], to writer: inout WireWriter) {
        writer.writeVarint(UInt64(value.count))
        writer.writeRawBytes(value)
    }
    @inlinable public static func read(from reader: inout WireReader) throws(WireDecodingError) -> [UInt8] {
        try reader.readBytes()
    }
}
