// Messages of descriptor.proto that describe an enum and its values. Options and reserved ranges are kept as
// unknown fields: the generator has no use for them.
public import VigilWire

/// `google.protobuf.EnumDescriptorProto`.
public struct EnumDescriptorProto: WireMessage, Sendable, Hashable {
    public static let protoMessageName = "google.protobuf.EnumDescriptorProto"
    public static let wireFields = [
        descriptorField("name", 1, .string),
        descriptorField("value", 2, .message, repeated: true, "EnumValueDescriptorProto"),
    ]

    public var name = ""
    public var value: [EnumValueDescriptorProto] = []
    public var unknownFields = UnknownFields()

    public init() {}

    public func serializedSize() -> Int {
        DescriptorCoding.size(self.name, field: 1) &+ WireSize.repeatedMessages(self.value, field: 2)
            &+ self.unknownFields.bytes.count
    }

    public func write(to writer: inout WireWriter) {
        DescriptorCoding.write(self.name, field: 1, to: &writer)
        writer.writeRepeatedMessages(self.value, field: 2)
        writer.writeUnknownFields(self.unknownFields)
    }

    public mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader) throws(WireDecodingError) {
        switch tag.fieldNumber {
        case 1: self.name = try reader.read(ProtoString.self, tag)
        case 2: self.value.append(try reader.readMessage(EnumValueDescriptorProto.self, tag))
        default: try reader.skip(tag, keepingIn: &self.unknownFields)
        }
    }
}

/// `google.protobuf.EnumValueDescriptorProto`.
public struct EnumValueDescriptorProto: WireMessage, Sendable, Hashable {
    public static let protoMessageName = "google.protobuf.EnumValueDescriptorProto"
    public static let wireFields = [descriptorField("name", 1, .string), descriptorField("number", 2, .int32)]

    public var name = ""
    public var number: Int32 = 0
    public var unknownFields = UnknownFields()

    public init() {}

    public func serializedSize() -> Int {
        DescriptorCoding.size(self.name, field: 1) &+ DescriptorCoding.size(self.number, field: 2)
            &+ self.unknownFields.bytes.count
    }

    public func write(to writer: inout WireWriter) {
        DescriptorCoding.write(self.name, field: 1, to: &writer)
        DescriptorCoding.write(self.number, field: 2, to: &writer)
        writer.writeUnknownFields(self.unknownFields)
    }

    public mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader) throws(WireDecodingError) {
        switch tag.fieldNumber {
        case 1: self.name = try reader.read(ProtoString.self, tag)
        case 2: self.number = try reader.read(ProtoInt32.self, tag)
        default: try reader.skip(tag, keepingIn: &self.unknownFields)
        }
    }
}
