// Emits one protobuf enum as an open Swift enum: a case per declared value plus `unrecognized(Int32)`, so a
// number this build does not know survives a decode and re-encode. Equality and hashing go by number, so
// `.unrecognized(1)` equals the case declared as 1.

struct SwiftEnumEmitter {
    let enumeration: EnumModel

    func emit(into w: inout CodeWriter) {
        let name = self.enumeration.localName
        let values = self.enumeration.values
        w.doc(self.enumeration.comment)
        w.open("public enum \(name): WireEnum")
        for value in values {
            w.doc(value.comment)
            w.line("case \(value.caseName)")
        }
        w.line("/// A number the schema does not name, kept so it encodes back unchanged.")
        w.line("case unrecognized(Int32)")
        w.line()
        w.line("/// Every declared value, in declaration order.")
        w.list("public static let knownCases: [\(name)] = ", values.map { ".\($0.caseName)" })
        w.line()

        w.open("public init(rawValue: Int32)")
        w.line("switch rawValue {")
        var seen: Set<Int32> = []
        // With `allow_alias`, the first name of a number wins.
        for value in values where seen.insert(value.number).inserted {
            w.line("case \(value.number): self = .\(value.caseName)")
        }
        w.line("default: self = .unrecognized(rawValue)")
        w.line("}")
        w.close()
        w.line()

        w.open("public var rawValue: Int32")
        w.line("switch self {")
        for value in values { w.line("case .\(value.caseName): \(value.number)") }
        w.line("case .unrecognized(let number): number")
        w.line("}")
        w.close()
        w.line()

        w.line("/// The value's name in the .proto file (`\(values[0].protoName)`), or its number when undeclared.")
        w.open("public var protoName: String")
        w.line("switch self {")
        for value in values { w.line("case .\(value.caseName): \(Naming.stringLiteral(value.protoName))") }
        w.line("case .unrecognized(let number): String(number)")
        w.line("}")
        w.close()
        w.line()

        w.line("/// The case declared with this name in the .proto file, nil for any other text.")
        w.open("public init?(protoName: String)")
        w.line("switch protoName {")
        for value in values { w.line("case \(Naming.stringLiteral(value.protoName)): self = .\(value.caseName)") }
        w.line("default: return nil")
        w.line("}")
        w.close()
        w.line()

        w.line("public static func == (lhs: \(name), rhs: \(name)) -> Bool { lhs.rawValue == rhs.rawValue }")
        w.line("public func hash(into hasher: inout Hasher) { hasher.combine(self.rawValue) }")
        w.close()
    }
}
