// Emits one message as a Swift struct conforming to WireMessage: stored properties in declaration order, then the
// codec (size, write, decode) in field-number order so the bytes match `protoc --encode` exactly. The codec is
// straight-line code over VigilWire's generic helpers, which specialise per field type: no tables, no reflection.
import VigilWire

struct SwiftMessageEmitter {
    let message: MessageModel

    func emit(into w: inout CodeWriter) {
        let message = self.message
        w.doc(message.comment)
        w.open("public struct \(message.localName): WireMessage, Sendable, Hashable")
        w.line("public static let protoMessageName = \(Naming.stringLiteral(message.ref.fullName))")
        self.emitWireFields(into: &w)
        w.line()
        self.emitProperties(into: &w)
        w.line("public var unknownFields = UnknownFields()")
        w.line()
        w.line("public init() {}")
        for oneof in message.oneofs {
            w.line()
            w.doc(oneof.comment)
            w.open("public enum \(oneof.typeName): Sendable, Hashable")
            for member in oneof.members {
                w.doc(member.comment)
                w.line("case \(member.swiftName)(\(member.value.swiftType))")
            }
            w.close()
        }
        w.line()
        self.emitSerializedSize(into: &w)
        w.line()
        self.emitWrite(into: &w)
        w.line()
        self.emitDecodeField(into: &w)
        for enumeration in message.enums {
            w.line()
            SwiftEnumEmitter(enumeration: enumeration).emit(into: &w)
        }
        for nested in message.messages {
            w.line()
            SwiftMessageEmitter(message: nested).emit(into: &w)
        }
        w.close()
    }

    // MARK: Declarations

    private func emitWireFields(into w: inout CodeWriter) {
        let fields = self.message.fields
        guard !fields.isEmpty else {
            w.line("public static let wireFields: [WireFieldDescriptor] = []")
            return
        }
        w.line("public static let wireFields: [WireFieldDescriptor] = [")
        w.indent()
        for field in fields {
            var arguments = [
                "name: \(Naming.stringLiteral(field.protoName))",
                "number: \(field.number)",
                "type: .\(field.wireType.caseName)",
                "label: .\(field.label)",
            ]
            if !field.wireTypeName.isEmpty { arguments.append("typeName: \(Naming.stringLiteral(field.wireTypeName))") }
            if case .oneofMember(let index) = field.cardinality {
                arguments.append("oneof: \(Naming.stringLiteral(self.message.oneofs[index].protoName))")
            }
            w.call("WireFieldDescriptor", arguments, ",")
        }
        w.outdent()
        w.line("]")
    }

    private func emitProperties(into w: inout CodeWriter) {
        var emittedOneofs: Set<Int> = []
        for field in self.message.fields {
            switch field.cardinality {
            case .oneofMember(let index):
                guard emittedOneofs.insert(index).inserted else { continue }
                let oneof = self.message.oneofs[index]
                w.doc(oneof.comment)
                w.line("public var \(oneof.propertyName): \(oneof.typeName)?")
            case .singular where field.storesWireString:
                w.doc(field.comment)
                w.open("public var \(field.swiftName): String")
                w.line("get { self.\(field.storageName).string }")
                w.line("set { self.\(field.storageName) = WireString(newValue) }")
                w.close()
                w.line("/// `\(field.swiftName)` as stored: once decoded, validated UTF-8 borrowed from the input buffer.")
                w.line("public var \(field.storageName) = WireString()")
            case .singular:
                w.doc(field.comment)
                w.line("public var \(field.swiftName): \(field.value.swiftType) = \(field.value.defaultValue)")
            case .optional:
                w.doc(field.comment)
                w.line("public var \(field.swiftName): \(field.value.swiftType)?")
            case .repeated:
                w.doc(field.comment)
                w.line("public var \(field.swiftName): [\(field.value.swiftType)] = []")
            case .map(let key, _):
                w.doc(field.comment)
                w.line("public var \(field.swiftName): [\(key.swiftType): \(field.value.swiftType)] = [:]")
            }
        }
    }

    // MARK: Codec

    /// Fields in number order, consecutive members of one oneof grouped so one `switch` covers them.
    private enum Step {
        case field(FieldModel)
        case oneof(OneofModel, [FieldModel])
    }

    private var steps: [Step] {
        var steps: [Step] = []
        for field in self.message.fields.sorted(by: { $0.number < $1.number }) {
            guard case .oneofMember(let index) = field.cardinality else {
                steps.append(.field(field))
                continue
            }
            if case .oneof(let oneof, let members)? = steps.last, oneof.protoName == self.message.oneofs[index].protoName {
                steps[steps.count - 1] = .oneof(oneof, members + [field])
            } else {
                steps.append(.oneof(self.message.oneofs[index], [field]))
            }
        }
        return steps
    }

    private func emitSerializedSize(into w: inout CodeWriter) {
        w.open("public func serializedSize() -> Int")
        guard !self.message.fields.isEmpty else {
            w.line("self.unknownFields.bytes.count")
            w.close()
            return
        }
        w.line("var size = 0")
        for step in self.steps {
            switch step {
            case .field(let field):
                self.emitSize(of: field, into: &w)
            case .oneof(let oneof, let members):
                w.open("switch self.\(oneof.propertyName)")
                for member in members {
                    let tag = WireSize.tag(member.number)
                    if let fixed = member.value.fixedSize {
                        w.line("case .\(member.swiftName)?: size &+= \(tag + fixed)")
                    } else {
                        w.line("case .\(member.swiftName)(let value)?: size &+= \(self.sizeExpression(member, "value"))")
                    }
                }
                w.line("default: break")
                w.close()
            }
        }
        w.line("size &+= self.unknownFields.bytes.count")
        w.line("return size")
        w.close()
    }

    /// Key and payload bytes of one value of `field` held in `value`.
    private func sizeExpression(_ field: FieldModel, _ value: String) -> String {
        let tag = WireSize.tag(field.number)
        if let fixed = field.value.fixedSize { return "\(tag + fixed)" }
        if field.value.isMessage { return "\(tag) &+ WireSize.lengthDelimited(\(value).serializedSize())" }
        return "\(tag) &+ \(field.codec).size(of: \(value))"
    }

    private func emitSize(of field: FieldModel, into w: inout CodeWriter) {
        let property = "self.\(field.storageName)"
        let number = field.number
        let codec = field.codec
        switch field.cardinality {
        case .singular:
            let condition = field.value.nonDefaultCondition(property)
            self.emitIf(condition, "size &+= \(self.sizeExpression(field, property))", into: &w)
        case .optional:
            if let fixed = field.value.fixedSize {
                self.emitIf("\(property) != nil", "size &+= \(WireSize.tag(number) + fixed)", into: &w)
            } else {
                self.emitIf("let value = \(property)", "size &+= \(self.sizeExpression(field, "value"))", into: &w)
            }
        case .repeated:
            if field.value.isMessage {
                w.line("size &+= WireSize.repeatedMessages(\(property), field: \(number))")
            } else if field.value.isPackable {
                w.line("size &+= WireSize.packed(\(codec).self, \(property), field: \(number))")
            } else {
                w.line("size &+= WireSize.repeated(\(codec).self, \(property), field: \(number))")
            }
        case .map(let key, _):
            if field.value.isMessage {
                w.line("size &+= WireSize.map(\(key.codec).self, \(property), field: \(number))")
            } else {
                w.line("size &+= WireSize.map(\(key.codec).self, \(codec).self, \(property), field: \(number))")
            }
        case .oneofMember:
            break
        }
    }

    private func emitWrite(into w: inout CodeWriter) {
        w.open("public func write(to writer: inout WireWriter)")
        for step in self.steps {
            switch step {
            case .field(let field):
                self.emitWrite(of: field, into: &w)
            case .oneof(let oneof, let members):
                w.open("switch self.\(oneof.propertyName)")
                for member in members {
                    w.line("case .\(member.swiftName)(let value)?: \(self.writeStatement(member, "value"))")
                }
                w.line("default: break")
                w.close()
            }
        }
        w.line("writer.writeUnknownFields(self.unknownFields)")
        w.close()
    }

    /// Writes one value of `field` held in `value`, key included.
    private func writeStatement(_ field: FieldModel, _ value: String) -> String {
        if field.value.isMessage { return "writer.writeMessage(\(value), field: \(field.number))" }
        return "writer.write(\(field.codec).self, \(value), field: \(field.number))"
    }

    private func emitWrite(of field: FieldModel, into w: inout CodeWriter) {
        let property = "self.\(field.storageName)"
        let number = field.number
        let codec = field.codec
        switch field.cardinality {
        case .singular:
            self.emitIf(field.value.nonDefaultCondition(property), self.writeStatement(field, property), into: &w)
        case .optional:
            self.emitIf("let value = \(property)", self.writeStatement(field, "value"), into: &w)
        case .repeated:
            if field.value.isMessage {
                w.line("writer.writeRepeatedMessages(\(property), field: \(number))")
            } else if field.value.isPackable {
                w.line("writer.writePacked(\(codec).self, \(property), field: \(number))")
            } else {
                w.line("writer.writeRepeated(\(codec).self, \(property), field: \(number))")
            }
        case .map(let key, _):
            if field.value.isMessage {
                w.line("writer.writeMap(\(key.codec).self, \(property), field: \(number))")
            } else {
                w.line("writer.writeMap(\(key.codec).self, \(codec).self, \(property), field: \(number))")
            }
        case .oneofMember:
            break
        }
    }

    private func emitDecodeField(into w: inout CodeWriter) {
        w.open("public mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader) throws(WireDecodingError)")
        guard !self.message.fields.isEmpty else {
            w.line("try reader.skip(tag, keepingIn: &self.unknownFields)")
            w.close()
            return
        }
        w.line("switch tag.fieldNumber {")
        for field in self.message.fields.sorted(by: { $0.number < $1.number }) {
            let label = "case \(field.number):"
            let lines = self.decodeStatements(field)
            if lines.count == 1, w.indentation.count + label.count + 1 + lines[0].count <= CodeWriter.width {
                w.line(label + " " + lines[0])
            } else {
                w.line(label)
                for line in lines { w.line("    " + line) }
            }
        }
        w.line("default: try reader.skip(tag, keepingIn: &self.unknownFields)")
        w.line("}")
        w.close()
    }

    private func decodeStatements(_ field: FieldModel) -> [String] {
        let property = "self.\(field.storageName)"
        let codec = field.codec
        let type = field.value.swiftType
        switch field.cardinality {
        case .singular:
            return ["\(property) = try reader.read(\(codec).self, tag)"]
        case .optional:
            guard field.value.isMessage else { return ["\(property) = try reader.read(\(codec).self, tag)"] }
            return ["try reader.readMessage(tag, into: &\(property))"]
        case .repeated:
            if field.value.isMessage { return ["try reader.readRepeatedMessage(tag, into: &\(property))"] }
            return ["try reader.readRepeated(\(codec).self, tag, into: &\(property))"]
        case .map(let key, _):
            if field.value.isMessage { return ["try reader.readMapEntry(\(key.codec).self, tag, into: &\(property))"] }
            return ["try reader.readMapEntry(\(key.codec).self, \(codec).self, tag, into: &\(property))"]
        case .oneofMember(let index):
            let oneof = "self.\(self.message.oneofs[index].propertyName)"
            let member = field.swiftName
            guard field.value.isMessage else { return ["\(oneof) = .\(member)(try reader.read(\(codec).self, tag))"] }
            return [
                "var value: \(type)",
                "if case .\(member)(let existing)? = \(oneof) { value = existing } else { value = \(type)() }",
                "try reader.readMessage(tag, into: &value)",
                "\(oneof) = .\(member)(value)",
            ]
        }
    }

    /// `if condition { statement }` on one line when it fits.
    private func emitIf(_ condition: String, _ statement: String, into w: inout CodeWriter) {
        let single = "if \(condition) { \(statement) }"
        if w.indentation.count + single.count <= CodeWriter.width {
            w.line(single)
        } else {
            w.open("if \(condition)")
            w.line(statement)
            w.close()
        }
    }
}
