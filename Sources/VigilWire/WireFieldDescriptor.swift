// A field's declaration as data, emitted by the generator next to each message. It exists so a test can compare
// every Swift message with what protoc reads from Proto/ (number, type, label), catching drift between the two.

public struct WireFieldDescriptor: Sendable, Hashable {
    /// Protobuf's field types, numbered as in descriptor.proto's `FieldDescriptorProto.Type`.
    public enum FieldType: Int, Sendable, Hashable {
        case double = 1, float, int64, uint64, int32, fixed64, fixed32, bool, string, group, message, bytes, uint32
        case enumeration = 14, sfixed32, sfixed64, sint32, sint64
    }

    /// Numbered as in descriptor.proto's `FieldDescriptorProto.Label`, plus proto3 `optional` (explicit presence).
    public enum Label: Sendable, Hashable {
        case singular
        case optional
        case repeated
    }

    public let name: String
    public let number: Int
    public let type: FieldType
    public let label: Label
    /// Fully qualified type name for message and enum fields (`vigil.v1.Event`), empty otherwise.
    public let typeName: String
    /// The oneof this field belongs to, if any.
    public let oneof: String?

    public init(name: String, number: Int, type: FieldType, label: Label, typeName: String = "", oneof: String? = nil) {
        self.name = name
        self.number = number
        self.type = type
        self.label = label
        self.typeName = typeName
        self.oneof = oneof
    }
}
