// Shared plumbing for the hand-written descriptor.proto messages in this folder. descriptor.proto is proto2, so
// its scalars have presence; the generator only reads them, so the Swift side keeps the proto3 shape (a default
// means absent) except where absence carries meaning (`oneof_index`, options), and re-encoding writes set values.
import VigilWire

enum DescriptorCoding {
    static func size(_ value: String, field: Int) -> Int {
        value.isEmpty ? 0 : WireSize.tag(field) &+ ProtoString.size(of: value)
    }

    static func size(_ value: Int32, field: Int) -> Int {
        value == 0 ? 0 : WireSize.tag(field) &+ ProtoInt32.size(of: value)
    }

    static func size(_ value: Int32?, field: Int) -> Int {
        value.map { WireSize.tag(field) &+ ProtoInt32.size(of: $0) } ?? 0
    }

    static func size(_ value: Bool, field: Int) -> Int {
        value ? WireSize.tag(field) &+ 1 : 0
    }

    static func size<Message: WireMessage>(_ value: Message?, field: Int) -> Int {
        value.map { WireSize.message($0, field: field) } ?? 0
    }

    static func write(_ value: String, field: Int, to writer: inout WireWriter) {
        if !value.isEmpty { writer.write(ProtoString.self, value, field: field) }
    }

    static func write(_ value: Int32, field: Int, to writer: inout WireWriter) {
        if value != 0 { writer.write(ProtoInt32.self, value, field: field) }
    }

    static func write(_ value: Int32?, field: Int, to writer: inout WireWriter) {
        if let value { writer.write(ProtoInt32.self, value, field: field) }
    }

    static func write(_ value: Bool, field: Int, to writer: inout WireWriter) {
        if value { writer.write(ProtoBool.self, value, field: field) }
    }

    static func write<Message: WireMessage>(_ value: Message?, field: Int, to writer: inout WireWriter) {
        if let value { writer.writeMessage(value, field: field) }
    }

    /// Merges a singular message field into an optional one, as protobuf merges repeated occurrences.
    static func readMessage<Message: WireMessage>(
        _ tag: FieldTag,
        into value: inout Message?,
        from reader: inout WireReader
    ) throws(WireDecodingError) {
        var message = value ?? Message()
        try reader.readMessage(tag, into: &message)
        value = message
    }
}

/// Builds the `wireFields` tables of the descriptor messages.
func descriptorField(
    _ name: String,
    _ number: Int,
    _ type: WireFieldDescriptor.FieldType,
    repeated: Bool = false,
    _ typeName: String = ""
) -> WireFieldDescriptor {
    WireFieldDescriptor(
        name: name,
        number: number,
        type: type,
        label: repeated ? .repeated : .optional,
        typeName: typeName.isEmpty ? "" : "google.protobuf." + typeName
    )
}
