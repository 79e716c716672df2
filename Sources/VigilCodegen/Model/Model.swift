// The schema as the emitters see it: every name already converted to Swift, every type reference resolved,
// every comment attached. Built once by `ModelBuilder`, so the Swift, random-value and Markdown emitters cannot
// disagree about a name or a rule.
import VigilWire

/// A message or enum named by its protobuf and Swift names.
struct TypeRef: Hashable {
    /// Fully qualified, no leading dot: `vigil.v1.Event`.
    let fullName: String
    /// As Swift spells it from anywhere in the module: `Event`, `Nested.Inner`.
    let swiftName: String
}

/// What one value of a field is (an element, for repeated fields and map values).
enum ValueType: Hashable {
    /// A numeric, bool, string or bytes type.
    case scalar(WireFieldDescriptor.FieldType)
    /// An enum; `numbers` are the declared values, `zeroCase` the Swift case of value 0.
    case enumeration(TypeRef, numbers: [Int32], zeroCase: String?)
    case message(TypeRef)

    var typeRef: TypeRef? {
        switch self {
        case .scalar: nil
        case .enumeration(let ref, _, _), .message(let ref): ref
        }
    }

    var swiftType: String {
        switch self {
        case .scalar(let type): type.swiftType
        case .enumeration(let ref, _, _), .message(let ref): ref.swiftName
        }
    }

    /// The VigilWire codec; messages have none (they are nested with `readMessage`/`writeMessage`).
    var codec: String {
        switch self {
        case .scalar(let type): type.codec
        case .enumeration(let ref, _, _): "ProtoEnum<\(ref.swiftName)>"
        case .message(let ref): ref.swiftName
        }
    }

    var isMessage: Bool {
        if case .message = self { return true }
        return false
    }

    /// Packed when repeated: every numeric type, bools and enums.
    var isPackable: Bool {
        switch self {
        case .scalar(let type): type != .string && type != .bytes
        case .enumeration: true
        case .message: false
        }
    }

    /// Bytes of a value when it does not depend on the value (fixed-width numbers, bool).
    var fixedSize: Int? {
        if case .scalar(let type) = self { return type.fixedSize }
        return nil
    }

    /// The proto3 default, as a Swift expression.
    var defaultValue: String {
        switch self {
        case .scalar(let type): type.defaultLiteral
        case .enumeration(let ref, _, let zeroCase): zeroCase.map { ".\($0)" } ?? "\(ref.swiftName)(rawValue: 0)"
        case .message(let ref): "\(ref.swiftName)()"
        }
    }

    /// A Swift condition that is true when `expression` is not the proto3 default (so the field is written).
    func nonDefaultCondition(_ expression: String) -> String {
        switch self {
        case .scalar(let type): type.nonDefaultCondition(expression)
        case .enumeration: "\(expression).rawValue != 0"
        case .message: "\(expression) != nil"
        }
    }

    /// The type as docs/API.md shows it: `int64`, `Severity`, `google.protobuf.Timestamp`.
    var protoName: String {
        switch self {
        case .scalar(let type): type.protoName
        case .enumeration(let ref, _, _), .message(let ref): ref.fullName
        }
    }
}

/// How many values a field holds and how presence is tracked.
enum Cardinality: Hashable {
    /// Proto3 implicit presence: a scalar or enum left off the wire when it holds its default.
    case singular
    /// A Swift Optional: proto3 `optional` scalars and enums, and every singular message field.
    case optional
    case repeated
    /// `map<K, V>`; `entry` is protoc's synthetic entry message (`vigil.testing.v1.Maps.CountsEntry`).
    case map(key: WireFieldDescriptor.FieldType, entry: String)
    /// A member of `MessageModel.oneofs[index]`.
    case oneofMember(Int)
}

struct FieldModel {
    /// As written in the .proto file: `occurred_at`.
    let protoName: String
    let number: Int
    /// lowerCamelCase, escaped: `occurredAt`; also the case name of a oneof member.
    let swiftName: String
    /// The element type for repeated fields, the value type for maps.
    let value: ValueType
    let cardinality: Cardinality
    /// The label protoc reports, for `wireFields`.
    let label: WireFieldDescriptor.Label
    let comment: String?

    var isOneofMember: Bool {
        if case .oneofMember = self.cardinality { return true }
        return false
    }

    /// Singular `string` fields are stored as a `WireString` behind their `String` property, so decoding borrows
    /// the input's bytes instead of allocating a `String` per field (see VigilWire's `WireString`).
    var storesWireString: Bool {
        guard case .singular = self.cardinality, case .scalar(.string) = self.value else { return false }
        return true
    }

    /// The stored property the codec reads and writes: `sourceNameUTF8` for a `WireString`-backed field.
    var storageName: String {
        self.storesWireString ? self.swiftName.filter { $0 != "`" } + "UTF8" : self.swiftName
    }

    /// The VigilWire codec of one value of this field.
    var codec: String { self.storesWireString ? "ProtoWireString" : self.value.codec }

    /// The wire type protoc gives this field in `wireFields`.
    var wireType: WireFieldDescriptor.FieldType {
        switch self.value {
        case .scalar(let type): if case .map = self.cardinality { .message } else { type }
        case .enumeration: if case .map = self.cardinality { .message } else { .enumeration }
        case .message: .message
        }
    }

    /// `typeName` of `wireFields`: the referenced type, or the map entry for maps.
    var wireTypeName: String {
        if case .map(_, let entry) = self.cardinality { return entry }
        return self.value.typeRef?.fullName ?? ""
    }
}

struct OneofModel {
    let protoName: String
    /// The nested Swift enum: `Value` (or `ValueCase` when a nested type is already called `Value`).
    let typeName: String
    /// The property holding the choice: `value`.
    let propertyName: String
    let comment: String?
    let members: [FieldModel]
}

struct MessageModel {
    let ref: TypeRef
    /// The last component of `ref.swiftName`, used in declarations.
    let localName: String
    let comment: String?
    /// Declaration order, oneof members included.
    let fields: [FieldModel]
    let oneofs: [OneofModel]
    let messages: [MessageModel]
    let enums: [EnumModel]

    /// This message and every message nested in it, depth first.
    var flattened: [MessageModel] { [self] + self.messages.flatMap(\.flattened) }
    var allEnums: [EnumModel] { self.enums + self.messages.flatMap(\.allEnums) }
}

struct EnumValueModel {
    let protoName: String
    let number: Int32
    /// lowerCamelCase without the enum-name prefix, escaped: `high`.
    let caseName: String
    let comment: String?
}

struct EnumModel {
    let ref: TypeRef
    let localName: String
    let comment: String?
    let values: [EnumValueModel]
}

struct MethodModel {
    let name: String
    /// lowerCamelCase, escaped: `listAlerts`.
    let swiftName: String
    let input: TypeRef
    let output: TypeRef
    let clientStreaming: Bool
    let serverStreaming: Bool
    let comment: String?

    /// The `MethodKind` case.
    var kind: String {
        switch (self.clientStreaming, self.serverStreaming) {
        case (false, false): "unary"
        case (true, false): "clientStreaming"
        case (false, true): "serverStreaming"
        case (true, true): "bidirectionalStreaming"
        }
    }
}

struct ServiceModel {
    let name: String
    /// `vigil.v1.Vigil`.
    let fullName: String
    /// `VigilService`.
    let swiftName: String
    let comment: String?
    let methods: [MethodModel]
}

struct FileModel {
    /// `vigil/v1/event.proto`.
    let name: String
    let package: String
    let messages: [MessageModel]
    let enums: [EnumModel]
    let services: [ServiceModel]

    var allMessages: [MessageModel] { self.messages.flatMap(\.flattened) }
    var allEnums: [EnumModel] { self.enums + self.messages.flatMap(\.allEnums) }
}
