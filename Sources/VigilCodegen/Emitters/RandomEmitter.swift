// Emits `RandomMessage` conformances for the tests: every field of every message gets a random value (presence
// fields and oneofs sometimes nothing, nested messages only while `depth` lasts), so round-trip property tests
// exercise the whole schema without anyone listing fields by hand.

struct RandomEmitter {
    let file: FileModel
    /// Modules declaring the types (none when the conformances live in the same module as the types).
    let imports: [String]

    func emit() -> String {
        var w = CodeWriter()
        w.line(SwiftFileEmitter.header(self.file.name))
        for module in ["VigilTesting"] + self.imports { w.line("public import \(module)") }
        for message in self.file.allMessages {
            w.line()
            self.emit(message, into: &w)
        }
        return w.text
    }

    private func emit(_ message: MessageModel, into w: inout CodeWriter) {
        let type = message.ref.swiftName
        w.open("extension \(type): RandomMessage")
        w.open("public static func random(using g: inout SplitMix64, depth: Int) -> \(type)")
        guard !message.fields.isEmpty else {
            w.line("\(type)()")
            w.close()
            w.close()
            return
        }
        w.line("var message = \(type)()")
        var emittedOneofs: Set<Int> = []
        for field in message.fields {
            let property = "message.\(field.swiftName)"
            switch field.cardinality {
            case .singular:
                w.line("\(property) = \(self.value(field.value))")
            case .optional:
                if field.value.isMessage {
                    w.line("\(property) =")
                    w.line("    depth > 0 && RandomValues.bool(&g) ? \(self.value(field.value)) : nil")
                } else {
                    w.line("\(property) = RandomValues.bool(&g) ? \(self.value(field.value)) : nil")
                }
            case .repeated:
                let elements = "(0..<RandomValues.count(&g)).map { _ in \(self.value(field.value)) }"
                if field.value.isMessage {
                    w.line("\(property) = depth > 0 ? \(elements) : []")
                } else {
                    w.line("\(property) = \(elements)")
                }
            case .map(let key, _):
                if field.value.isMessage { w.open("if depth > 0") }
                w.open("for _ in 0..<RandomValues.count(&g)")
                w.line("let key = \(key.randomExpression)")
                w.line("\(property)[key] = \(self.value(field.value))")
                w.close()
                if field.value.isMessage { w.close() }
            case .oneofMember(let index):
                guard emittedOneofs.insert(index).inserted else { continue }
                let oneof = message.oneofs[index]
                w.line("switch g.next() % \(oneof.members.count + 1) {")
                for (number, member) in oneof.members.enumerated() {
                    let value = member.value.isMessage
                        ? "\(member.value.swiftType).random(using: &g, depth: max(depth - 1, 0))"
                        : self.value(member.value)
                    w.line("case \(number): message.\(oneof.propertyName) = .\(member.swiftName)(\(value))")
                }
                w.line("default: message.\(oneof.propertyName) = nil")
                w.line("}")
            }
        }
        w.line("return message")
        w.close()
        w.close()
    }

    /// An expression for one random value of `type`.
    private func value(_ type: ValueType) -> String {
        switch type {
        case .scalar(let scalar):
            return scalar.randomExpression
        case .enumeration(let ref, let numbers, _):
            let known = numbers.map(String.init).joined(separator: ", ")
            return "\(ref.swiftName)(rawValue: RandomValues.enumValue(&g, known: [\(known)]))"
        case .message(let ref):
            return "\(ref.swiftName).random(using: &g, depth: depth - 1)"
        }
    }
}
