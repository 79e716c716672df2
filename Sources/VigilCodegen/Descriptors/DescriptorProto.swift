// Messages of descriptor.proto that describe a message type: its fields, oneofs, nested types and the one option
// the generator needs (`map_entry`, which marks the synthetic entry type of a `map<K, V>` field).
public import VigilWire

/// `google.protobuf.DescriptorProto`: one message type.
public struct DescriptorProto: WireMessage, Sendable, Hashable {
    public static let protoMessageName = "google.protobuf.DescriptorProto"
    public static let wireFields = [
        descriptorField("name", 1, .string),
        descriptorField("field", 2, .message, repeated: true, "FieldDescriptorProto"),
        descriptorField("nested_type", 3, .message, repeated: true, "DescriptorProto"),
        descriptorField("enum_type", 4, .message, repeated: true, "EnumDescriptorProto"),
        descriptorField("options", 7, .message, "MessageOptions"),
        descriptorField("oneof_decl", 8, .message, repeated: true, "OneofDescriptorProto"),
    ]

    public var name = ""
    public var field: [FieldDescriptorProto] = []
    public var nestedType: [DescriptorProto] = []
    public var enumType: [EnumDescriptorProto] = []
    public var options: MessageOptions?
    public var oneofDecl: [OneofDescriptorProto] = []
    public var unknownFields = UnknownFields()

    public init() {}

    /// True for the entry type protoc synthesises for a `map<K, V>` field.
    public var isMapEntry: Bool { self.options?.mapEntry ?? false }

    public func serializedSize() -> Int {
        var size = DescriptorCoding.size(self.name, field: 1)
        size &+= WireSize.repeatedMessages(self.field, field: 2)
        size &+= WireSize.repeatedMessages(self.nestedType, field: 3)
        size &+= WireSize.repeatedMessages(self.enumType, field: 4)
        size &+= DescriptorCoding.size(self.options, field: 7)
        size &+= WireSize.repeatedMessages(self.oneofDecl, field: 8)
        return size &+ self.unknownFields.bytes.count
    }

    public func write(to writer: inout WireWriter) {
        DescriptorCoding.write(self.name, field: 1, to: &writer)
        writer.writeRepeatedMessages(self.field, field: 2)
        writer.writeRepeatedMessages(self.nestedType, field: 3)
        writer.writeRepeatedMessages(self.enumType, field: 4)
        DescriptorCoding.write(self.options, field: 7, to: &writer)
        writer.writeRepeatedMessages(self.oneofDecl, field: 8)
        writer.writeUnknownFields(self.unknownFields)
    }

    public mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader) throws(WireDecodingError) {
        switch tag.fieldNumber {
        case 1: self.name = try reader.read(ProtoString.self, tag)
        case 2: self.field.append(try reader.readMessage(FieldDescriptorProto.self, tag))
        case 3: self.nestedType.append(try reader.readMessage(DescriptorProto.self, tag))
        case 4: self.enumType.append(try reader.readMessage(EnumDescriptorProto.self, tag))
        case 7: try DescriptorCoding.readMessage(tag, into: &self.options, from: &reader)
        case 8: self.oneofDecl.append(try reader.readMessage(OneofDescriptorProto.self, tag))
        default: try reader.skip(tag, keepingIn: &self.unknownFields)
        }
    }
}

/// `google.protobuf.MessageOptions`: only `map_entry` is read; every other option is kept as unknown bytes.
public struct MessageOptions: WireMessage, Sendable, Hashable {
    public static let protoMessageName = "google.protobuf.MessageOptions"
    public static let wireFields = [descriptorField("map_entry", 7, .bool)]

    public var mapEntry = false
    public var unknownFields = UnknownFields()

    public init() {}

    public func serializedSize() -> Int {
        DescriptorCoding.size(self.mapEntry, field: 7) &+ self.unknownFields.bytes.count
    }

    public func write(to writer: inout WireWriter) {
        DescriptorCoding.write(self.mapEntry, field: 7, to: &writer)
        writer.writeUnknownFields(self.unknownFields)
    }

    public mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader) throws(WireDecodingError) {
        switch tag.fieldNumber {
        case 7: self.mapEntry = try reader.read(ProtoBool.self, tag)
        default: try reader.skip(tag, keepingIn: &self.unknownFields)
        }
    }
}

/// `google.protobuf.FieldDescriptorProto`: one field. `type` and `label` keep descriptor.proto's numbers.
public struct FieldDescriptorProto: WireMessage, Sendable, Hashable {
    public static let protoMessageName = "google.protobuf.FieldDescriptorProto"
    public static let wireFields = [
        descriptorField("name", 1, .string),
        descriptorField("number", 3, .int32),
        descriptorField("label", 4, .enumeration, "FieldDescriptorProto.Label"),
        descriptorField("type", 5, .enumeration, "FieldDescriptorProto.Type"),
        descriptorField("type_name", 6, .string),
        descriptorField("oneof_index", 9, .int32),
        descriptorField("json_name", 10, .string),
        descriptorField("proto3_optional", 17, .bool),
    ]

    /// `LABEL_OPTIONAL`, `LABEL_REQUIRED`, `LABEL_REPEATED`.
    public static let labelOptional: Int32 = 1
    public static let labelRequired: Int32 = 2
    public static let labelRepeated: Int32 = 3

    public var name = ""
    public var number: Int32 = 0
    public var label: Int32 = 0
    /// `FieldDescriptorProto.Type`, numbered as `WireFieldDescriptor.FieldType`.
    public var type: Int32 = 0
    /// Fully qualified with a leading dot (`.vigil.v1.Event`) for message and enum fields.
    public var typeName = ""
    /// Index into the containing message's `oneof_decl`; nil when the field is in no oneof.
    public var oneofIndex: Int32?
    public var jsonName = ""
    /// A proto3 `optional` field: it sits alone in a synthetic oneof, which generators skip.
    public var proto3Optional = false
    public var unknownFields = UnknownFields()

    public init() {}

    public var isRepeated: Bool { self.label == Self.labelRepeated }

    /// The field's type as VigilWire names it, nil for a number descriptor.proto does not define.
    public var fieldType: WireFieldDescriptor.FieldType? { WireFieldDescriptor.FieldType(rawValue: Int(self.type)) }

    public func serializedSize() -> Int {
        var size = DescriptorCoding.size(self.name, field: 1)
        size &+= DescriptorCoding.size(self.number, field: 3)
        size &+= DescriptorCoding.size(self.label, field: 4)
        size &+= DescriptorCoding.size(self.type, field: 5)
        size &+= DescriptorCoding.size(self.typeName, field: 6)
        size &+= DescriptorCoding.size(self.oneofIndex, field: 9)
        size &+= DescriptorCoding.size(self.jsonName, field: 10)
        size &+= DescriptorCoding.size(self.proto3Optional, field: 17)
        return size &+ self.unknownFields.bytes.count
    }

    public func write(to writer: inout WireWriter) {
        DescriptorCoding.write(self.name, field: 1, to: &writer)
        DescriptorCoding.write(self.number, field: 3, to: &writer)
        DescriptorCoding.write(self.label, field: 4, to: &writer)
        DescriptorCoding.write(self.type, field: 5, to: &writer)
        DescriptorCoding.write(self.typeName, field: 6, to: &writer)
        DescriptorCoding.write(self.oneofIndex, field: 9, to: &writer)
        DescriptorCoding.write(self.jsonName, field: 10, to: &writer)
        DescriptorCoding.write(self.proto3Optional, field: 17, to: &writer)
        writer.writeUnknownFields(self.unknownFields)
    }

    public mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader) throws(WireDecodingError) {
        switch tag.fieldNumber {
        case 1: self.name = try reader.read(ProtoString.self, tag)
        case 3: self.number = try reader.read(ProtoInt32.self, tag)
        case 4: self.label = try reader.read(ProtoInt32.self, tag)
        case 5: self.type = try reader.read(ProtoInt32.self, tag)
        case 6: self.typeName = try reader.read(ProtoString.self, tag)
        case 9: self.oneofIndex = try reader.read(ProtoInt32.self, tag)
        case 10: self.jsonName = try reader.read(ProtoString.self, tag)
        case 17: self.proto3Optional = try reader.read(ProtoBool.self, tag)
        default: try reader.skip(tag, keepingIn: &self.unknownFields)
        }
    }
}

/// `google.protobuf.OneofDescriptorProto`. Options (2) are kept as unknown fields.
public struct OneofDescriptorProto: WireMessage, Sendable, Hashable {
    public static let protoMessageName = "google.protobuf.OneofDescriptorProto"
    public static let wireFields = [descriptorField("name", 1, .string)]

    public var name = ""
    public var unknownFields = UnknownFields()

    public init() {}

    public func serializedSize() -> Int {
        DescriptorCoding.size(self.name, field: 1) &+ self.unknownFields.bytes.count
    }

    public func write(to writer: inout WireWriter) {
        DescriptorCoding.write(self.name, field: 1, to: &writer)
        writer.writeUnknownFields(self.unknownFields)
    }

    public mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader) throws(WireDecodingError) {
        switch tag.fieldNumber {
        case 1: self.name = try reader.read(ProtoString.self, tag)
        default: try reader.skip(tag, keepingIn: &self.unknownFields)
        }
    }
}
