// The root of what `protoc --descriptor_set_out --include_imports --include_source_info` writes, decoded with
// VigilWire itself: the generator depends on nothing but the codec it generates for.
public import VigilWire

/// `google.protobuf.FileDescriptorSet`: every file of a compilation, imports first.
public struct FileDescriptorSet: WireMessage, Sendable, Hashable {
    public static let protoMessageName = "google.protobuf.FileDescriptorSet"
    public static let wireFields = [descriptorField("file", 1, .message, repeated: true, "FileDescriptorProto")]

    public var file: [FileDescriptorProto] = []
    public var unknownFields = UnknownFields()

    public init() {}

    public func serializedSize() -> Int {
        WireSize.repeatedMessages(self.file, field: 1) &+ self.unknownFields.bytes.count
    }

    public func write(to writer: inout WireWriter) {
        writer.writeRepeatedMessages(self.file, field: 1)
        writer.writeUnknownFields(self.unknownFields)
    }

    public mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader) throws(WireDecodingError) {
        switch tag.fieldNumber {
        case 1: self.file.append(try reader.readMessage(FileDescriptorProto.self, tag))
        default: try reader.skip(tag, keepingIn: &self.unknownFields)
        }
    }
}

/// `google.protobuf.FileDescriptorProto`: one .proto file. Options (8) are kept as unknown fields.
public struct FileDescriptorProto: WireMessage, Sendable, Hashable {
    public static let protoMessageName = "google.protobuf.FileDescriptorProto"
    public static let wireFields = [
        descriptorField("name", 1, .string),
        descriptorField("package", 2, .string),
        descriptorField("dependency", 3, .string, repeated: true),
        descriptorField("message_type", 4, .message, repeated: true, "DescriptorProto"),
        descriptorField("enum_type", 5, .message, repeated: true, "EnumDescriptorProto"),
        descriptorField("service", 6, .message, repeated: true, "ServiceDescriptorProto"),
        descriptorField("source_code_info", 9, .message, "SourceCodeInfo"),
        descriptorField("syntax", 12, .string),
    ]

    /// Path relative to the include root, for example `vigil/v1/events.proto`.
    public var name = ""
    public var package = ""
    public var dependency: [String] = []
    public var messageType: [DescriptorProto] = []
    public var enumType: [EnumDescriptorProto] = []
    public var service: [ServiceDescriptorProto] = []
    public var sourceCodeInfo: SourceCodeInfo?
    /// `proto3`, or empty for proto2.
    public var syntax = ""
    public var unknownFields = UnknownFields()

    public init() {}

    public func serializedSize() -> Int {
        var size = DescriptorCoding.size(self.name, field: 1)
        size &+= DescriptorCoding.size(self.package, field: 2)
        size &+= WireSize.repeated(ProtoString.self, self.dependency, field: 3)
        size &+= WireSize.repeatedMessages(self.messageType, field: 4)
        size &+= WireSize.repeatedMessages(self.enumType, field: 5)
        size &+= WireSize.repeatedMessages(self.service, field: 6)
        size &+= DescriptorCoding.size(self.sourceCodeInfo, field: 9)
        size &+= DescriptorCoding.size(self.syntax, field: 12)
        return size &+ self.unknownFields.bytes.count
    }

    public func write(to writer: inout WireWriter) {
        DescriptorCoding.write(self.name, field: 1, to: &writer)
        DescriptorCoding.write(self.package, field: 2, to: &writer)
        writer.writeRepeated(ProtoString.self, self.dependency, field: 3)
        writer.writeRepeatedMessages(self.messageType, field: 4)
        writer.writeRepeatedMessages(self.enumType, field: 5)
        writer.writeRepeatedMessages(self.service, field: 6)
        DescriptorCoding.write(self.sourceCodeInfo, field: 9, to: &writer)
        DescriptorCoding.write(self.syntax, field: 12, to: &writer)
        writer.writeUnknownFields(self.unknownFields)
    }

    public mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader) throws(WireDecodingError) {
        switch tag.fieldNumber {
        case 1: self.name = try reader.read(ProtoString.self, tag)
        case 2: self.package = try reader.read(ProtoString.self, tag)
        case 3: try reader.readRepeated(ProtoString.self, tag, into: &self.dependency)
        case 4: self.messageType.append(try reader.readMessage(DescriptorProto.self, tag))
        case 5: self.enumType.append(try reader.readMessage(EnumDescriptorProto.self, tag))
        case 6: self.service.append(try reader.readMessage(ServiceDescriptorProto.self, tag))
        case 9: try DescriptorCoding.readMessage(tag, into: &self.sourceCodeInfo, from: &reader)
        case 12: self.syntax = try reader.read(ProtoString.self, tag)
        default: try reader.skip(tag, keepingIn: &self.unknownFields)
        }
    }
}
