// A hand-written message for transport tests: a number and some bytes, enough to check order and size without the
// generated API types (VigilRPCTests depends on VigilRPC only).

import Synchronization
import VigilRPC
import VigilWire

struct TestMessage: WireMessage, Sendable, Hashable {
    static let protoMessageName = "vigil.test.TestMessage"
    static let wireFields: [WireFieldDescriptor] = [
        WireFieldDescriptor(name: "number", number: 1, type: .uint64, label: .singular),
        WireFieldDescriptor(name: "payload", number: 2, type: .bytes, label: .singular),
    ]

    var number: UInt64 = 0
    var payload: [UInt8] = []
    var unknownFields = UnknownFields()

    init() {}

    init(_ number: UInt64, payload: [UInt8] = []) {
        self.number = number
        self.payload = payload
    }

    func serializedSize() -> Int {
        var size = 0
        if self.number != 0 { size += 1 + ProtoUInt64.size(of: self.number) }
        if !self.payload.isEmpty { size += 1 + ProtoBytes.size(of: self.payload) }
        return size + self.unknownFields.bytes.count
    }

    func write(to writer: inout WireWriter) {
        if self.number != 0 { writer.write(ProtoUInt64.self, self.number, field: 1) }
        if !self.payload.isEmpty { writer.write(ProtoBytes.self, self.payload, field: 2) }
        writer.writeUnknownFields(self.unknownFields)
    }

    mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader)
        throws(WireDecodingError)
    {
        switch tag.fieldNumber {
        case 1: self.number = try reader.read(ProtoUInt64.self, tag)
        case 2: self.payload = try reader.read(ProtoBytes.self, tag)
        default: try reader.skip(tag, keepingIn: &self.unknownFields)
        }
    }
}

/// A value shared between a handler and the test body.
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func get() -> Value { self.value.withLock { $0 } }
    func update<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        self.value.withLock { body(&$0) }
    }

    /// Polls until `condition` holds (handlers finish on their own tasks, after the client saw the outcome).
    func wait(timeout: Duration = .seconds(20), until condition: (Value) -> Bool) async -> Bool {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if condition(self.get()) { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return condition(self.get())
    }
}
