// Messages of descriptor.proto that describe a service and its methods: the source of the generated
// `MethodDescriptor`s and of the RPC section of docs/API.md.
public import VigilWire

/// `google.protobuf.ServiceDescriptorProto`.
public struct ServiceDescriptorProto: WireMessage, Sendable, Hashable {
    public static let protoMessageName = "google.protobuf.ServiceDescriptorProto"
    public static let wireFields = [
        descriptorField("name", 1, .string),
        descriptorField("method", 2, .message, repeated: true, "MethodDescriptorProto"),
    ]

    public var name = ""
    public var method: [MethodDescriptorProto] = []
    public var unknownFields = UnknownFields()

    public init() {}

    public func serializedSize() -> Int {
        DescriptorCoding.size(self.name, field: 1) &+ WireSize.repeatedMessages(self.method, field: 2)
            &+ self.unknownFields.bytes.count
    }

    public func write(to writer: inout WireWriter) {
        DescriptorCoding.write(self.name, field: 1, to: &writer)
        writer.writeRepeatedMessages(self.method, field: 2)
        writer.writeUnknownFields(self.unknownFields)
    }

    public mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader) throws(WireDecodingError) {
        switch tag.fieldNumber {
        case 1: self.name = try reader.read(ProtoString.self, tag)
        case 2: self.method.append(try reader.readMessage(MethodDescriptorProto.self, tag))
        default: try reader.skip(tag, keepingIn: &self.unknownFields)
        }
    }
}

/// `google.protobuf.MethodDescriptorProto`.
public struct MethodDescriptorProto: WireMessage, Sendable, Hashable {
    public static let protoMessageName = "google.protobuf.MethodDescriptorProto"
    public static let wireFields = [
        descriptorField("name", 1, .string),
        descriptorField("input_type", 2, .string),
        descriptorField("output_type", 3, .string),
        descriptorField("client_streaming", 5, .bool),
        descriptorField("server_streaming", 6, .bool),
    ]

    public var name = ""
    /// Fully qualified with a leading dot, like `FieldDescriptorProto.typeName`.
    public var inputType = ""
    public var outputType = ""
    public var clientStreaming = false
    public var serverStreaming = false
    public var unknownFields = UnknownFields()

    public init() {}

    public func serializedSize() -> Int {
        var size = DescriptorCoding.size(self.name, field: 1)
        size &+= DescriptorCoding.size(self.inputType, field: 2)
        size &+= DescriptorCoding.size(self.outputType, field: 3)
        size &+= DescriptorCoding.size(self.clientStreaming, field: 5)
        size &+= DescriptorCoding.size(self.serverStreaming, field: 6)
        return size &+ self.unknownFields.bytes.count
    }

    public func write(to writer: inout WireWriter) {
        DescriptorCoding.write(self.name, field: 1, to: &writer)
        DescriptorCoding.write(self.inputType, field: 2, to: &writer)
        DescriptorCoding.write(self.outputType, field: 3, to: &writer)
        DescriptorCoding.write(self.clientStreaming, field: 5, to: &writer)
        DescriptorCoding.write(self.serverStreaming, field: 6, to: &writer)
        writer.writeUnknownFields(self.unknownFields)
    }

    public mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader) throws(WireDecodingError) {
        switch tag.fieldNumber {
        case 1: self.name = try reader.read(ProtoString.self, tag)
        case 2: self.inputType = try reader.read(ProtoString.self, tag)
        case 3: self.outputType = try reader.read(ProtoString.self, tag)
        case 5: self.clientStreaming = try reader.read(ProtoBool.self, tag)
        case 6: self.serverStreaming = try reader.read(ProtoBool.self, tag)
        default: try reader.skip(tag, keepingIn: &self.unknownFields)
        }
    }
}
