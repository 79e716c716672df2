// What each protobuf scalar type is in generated Swift: its Swift type, codec, default and how a default is
// recognised. One table, so the struct, the codec calls and the random values always agree.
import VigilWire

extension WireFieldDescriptor.FieldType {
    var swiftType: String {
        switch self {
        case .double: "Double"
        case .float: "Float"
        case .int64, .sint64, .sfixed64: "Int64"
        case .uint64, .fixed64: "UInt64"
        case .int32, .sint32, .sfixed32: "Int32"
        case .uint32, .fixed32: "UInt32"
        case .bool: "Bool"
        case .string: "String"
        case .bytes: "[UInt8]"
        case .group, .message, .enumeration: "Never"
        }
    }

    var codec: String {
        switch self {
        case .double: "ProtoDouble"
        case .float: "ProtoFloat"
        case .int64: "ProtoInt64"
        case .uint64: "ProtoUInt64"
        case .int32: "ProtoInt32"
        case .fixed64: "ProtoFixed64"
        case .fixed32: "ProtoFixed32"
        case .bool: "ProtoBool"
        case .string: "ProtoString"
        case .bytes: "ProtoBytes"
        case .uint32: "ProtoUInt32"
        case .sfixed32: "ProtoSFixed32"
        case .sfixed64: "ProtoSFixed64"
        case .sint32: "ProtoSInt32"
        case .sint64: "ProtoSInt64"
        case .group, .message, .enumeration: "Never"
        }
    }

    /// As written in a .proto file.
    var protoName: String {
        switch self {
        case .double: "double"
        case .float: "float"
        case .int64: "int64"
        case .uint64: "uint64"
        case .int32: "int32"
        case .fixed64: "fixed64"
        case .fixed32: "fixed32"
        case .bool: "bool"
        case .string: "string"
        case .group: "group"
        case .message: "message"
        case .bytes: "bytes"
        case .uint32: "uint32"
        case .enumeration: "enum"
        case .sfixed32: "sfixed32"
        case .sfixed64: "sfixed64"
        case .sint32: "sint32"
        case .sint64: "sint64"
        }
    }

    /// The `.case` spelling in a `WireFieldDescriptor(...)` literal.
    var caseName: String {
        switch self {
        case .double: "double"
        case .float: "float"
        case .int64: "int64"
        case .uint64: "uint64"
        case .int32: "int32"
        case .fixed64: "fixed64"
        case .fixed32: "fixed32"
        case .bool: "bool"
        case .string: "string"
        case .group: "group"
        case .message: "message"
        case .bytes: "bytes"
        case .uint32: "uint32"
        case .enumeration: "enumeration"
        case .sfixed32: "sfixed32"
        case .sfixed64: "sfixed64"
        case .sint32: "sint32"
        case .sint64: "sint64"
        }
    }

    var defaultLiteral: String {
        switch self {
        case .bool: "false"
        case .string: "\"\""
        case .bytes: "[]"
        default: "0"
        }
    }

    /// Bytes of every value of a fixed-width type, so sizes become literals.
    var fixedSize: Int? {
        switch self {
        case .bool: 1
        case .fixed32, .sfixed32, .float: 4
        case .fixed64, .sfixed64, .double: 8
        default: nil
        }
    }

    /// True when `expression` must be written: floats compare bit patterns so -0.0 is written, as protoc does.
    func nonDefaultCondition(_ expression: String) -> String {
        switch self {
        case .bool: expression
        case .string, .bytes: "!\(expression).isEmpty"
        case .float, .double: "\(expression).bitPattern != 0"
        default: "\(expression) != 0"
        }
    }

    /// A `RandomValues` call producing a value of this type: `RandomValues` names its functions after the Swift
    /// type (`int64`, `uint32`, `string`, ...), so the name follows from `swiftType`.
    var randomExpression: String {
        switch self {
        case .bytes: "RandomValues.bytes(&g)"
        case .group, .message, .enumeration: "fatalError()"
        default: "RandomValues.\(self.swiftType.lowercased())(&g)"
        }
    }

    /// Types a map key may have and our writer can sort (bool keys are refused: `Bool` is not `Comparable`).
    var isSupportedMapKey: Bool {
        switch self {
        case .int64, .uint64, .int32, .fixed64, .fixed32, .string, .uint32, .sfixed32, .sfixed64, .sint32, .sint64:
            true
        default: false
        }
    }
}
