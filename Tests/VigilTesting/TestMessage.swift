// A hand-written message for transport tests: a number and some bytes, enough to check order and size without the
// generated API types (the RPC and network test targets depend on VigilRPC, not VigilAPI).
public import VigilWire

public struct TestMessage: WireMessage, Sendable, Hashable {
    public static let protoMessageName = "vigil.test.TestMessage"
    public static let wireFields: [WireFieldDescriptor] = [
        WireFieldDescriptor(name: "number", number: 1, type: .uint64, label: .singular),
        WireFieldDescriptor(name: "payload", number: 2, type: .bytes, label: .singular),
    ]

    public var number: UInt64 = 0
    public var payload: [UInt8] = []
    public var unknownFields = UnknownFields()

    public init() {}

    public init(_ number: UInt64, payload: [UInt8] = []) {
        self.number = number
        self.payload = payload
    }

    public func serializedSize() -> Int {
        var size = 0
        if self.number != 0 { size += 1 + ProtoUInt64.size(of: self.number) }
        if !self.payload.isEmpty { size += 1 + ProtoBytes.size(of: self.payload) }
        return size + self.unknownFields.bytes.count
    }

    public func write(to writer: inout WireWriter) {
        if self.number != 0 { writer.write(ProtoUInt64.self, self.number, field: 1) }
        if !self.payload.isEmpty { writer.write(ProtoBytes.self, self.payload, field: 2) }
        writer.writeUnknownFields(self.unknownFields)
    }

    public mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader) throws(WireDecodingError) {
        switch tag.fieldNumber {
        case 1: self.number = try reader.read(ProtoUInt64.self, tag)
        case 2: self.payload = try reader.read(ProtoBytes.self, tag)
        default: try reader.skip(tag, keepingIn: &self.unknownFields)
        }
    }
}
