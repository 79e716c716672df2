// Where each declaration sits in its .proto file and the comments around it: the generator's source for doc
// comments and for the descriptions in docs/API.md.
public import VigilWire

/// `google.protobuf.SourceCodeInfo`.
public struct SourceCodeInfo: WireMessage, Sendable, Hashable {
    public static let protoMessageName = "google.protobuf.SourceCodeInfo"
    public static let wireFields = [descriptorField("location", 1, .message, repeated: true, "SourceCodeInfo.Location")]

    /// `google.protobuf.SourceCodeInfo.Location`: a declaration, named by its path of field numbers and indexes
    /// from the file (`[4, 0, 2, 1]` is field 1 of message 0), with its comments.
    public struct Location: WireMessage, Sendable, Hashable {
        public static let protoMessageName = "google.protobuf.SourceCodeInfo.Location"
        public static let wireFields = [
            descriptorField("path", 1, .int32, repeated: true),
            descriptorField("span", 2, .int32, repeated: true),
            descriptorField("leading_comments", 3, .string),
            descriptorField("trailing_comments", 4, .string),
            descriptorField("leading_detached_comments", 6, .string, repeated: true),
        ]

        public var path: [Int32] = []
        public var span: [Int32] = []
        public var leadingComments = ""
        public var trailingComments = ""
        public var leadingDetachedComments: [String] = []
        public var unknownFields = UnknownFields()

        public init() {}

        public func serializedSize() -> Int {
            var size = WireSize.packed(ProtoInt32.self, self.path, field: 1)
            size &+= WireSize.packed(ProtoInt32.self, self.span, field: 2)
            size &+= DescriptorCoding.size(self.leadingComments, field: 3)
            size &+= DescriptorCoding.size(self.trailingComments, field: 4)
            size &+= WireSize.repeated(ProtoString.self, self.leadingDetachedComments, field: 6)
            return size &+ self.unknownFields.bytes.count
        }

        public func write(to writer: inout WireWriter) {
            writer.writePacked(ProtoInt32.self, self.path, field: 1)
            writer.writePacked(ProtoInt32.self, self.span, field: 2)
            DescriptorCoding.write(self.leadingComments, field: 3, to: &writer)
            DescriptorCoding.write(self.trailingComments, field: 4, to: &writer)
            writer.writeRepeated(ProtoString.self, self.leadingDetachedComments, field: 6)
            writer.writeUnknownFields(self.unknownFields)
        }

        public mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader) throws(WireDecodingError) {
            switch tag.fieldNumber {
            case 1: try reader.readRepeated(ProtoInt32.self, tag, into: &self.path)
            case 2: try reader.readRepeated(ProtoInt32.self, tag, into: &self.span)
            case 3: self.leadingComments = try reader.read(ProtoString.self, tag)
            case 4: self.trailingComments = try reader.read(ProtoString.self, tag)
            case 6: try reader.readRepeated(ProtoString.self, tag, into: &self.leadingDetachedComments)
            default: try reader.skip(tag, keepingIn: &self.unknownFields)
            }
        }
    }

    public var location: [Location] = []
    public var unknownFields = UnknownFields()

    public init() {}

    public func serializedSize() -> Int {
        WireSize.repeatedMessages(self.location, field: 1) &+ self.unknownFields.bytes.count
    }

    public func write(to writer: inout WireWriter) {
        writer.writeRepeatedMessages(self.location, field: 1)
        writer.writeUnknownFields(self.unknownFields)
    }

    public mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader) throws(WireDecodingError) {
        switch tag.fieldNumber {
        case 1: self.location.append(try reader.readMessage(Location.self, tag))
        default: try reader.skip(tag, keepingIn: &self.unknownFields)
        }
    }
}
