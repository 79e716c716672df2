// How protobuf names become Swift names, in one place, so every emitter (types, random values, docs) agrees:
// snake_case fields become lowerCamelCase properties, UPPER_SNAKE enum values lose their enum-name prefix, and
// anything that collides with a Swift keyword is escaped with backticks.

enum Naming {
    /// Swift keywords and contextual words that cannot be declared as plain identifiers.
    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
        "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public", "rethrows",
        "static", "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue", "default", "defer",
        "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "throw", "switch", "where",
        "while", "Any", "as", "await", "false", "is", "nil", "self", "Self", "super", "throws", "true", "try",
        "Type", "Protocol", "some", "any", "consume", "copy", "borrowing", "consuming", "discard", "package",
    ]

    /// `f_int32` → `fInt32`, `occurred_at` → `occurredAt`; a name already in camel case keeps its humps.
    static func lowerCamelCase(_ name: String) -> String {
        let parts = name.split(separator: "_", omittingEmptySubsequences: true).map(String.init)
        guard let first = parts.first else { return name }
        var result = self.lowercasingFirst(first)
        for part in parts.dropFirst() { result += self.uppercasingFirst(part) }
        return result
    }

    /// `value` → `Value`, `event_kind` → `EventKind`.
    static func upperCamelCase(_ name: String) -> String {
        self.uppercasingFirst(self.lowerCamelCase(name))
    }

    /// `AlertState` → `ALERT_STATE`: the prefix protobuf style puts on every value of an enum.
    static func upperSnakeCase(_ name: String) -> String {
        var result = ""
        var previous: Character?
        for character in name {
            if character.isUppercase, let previous, previous.isLowercase || previous.isNumber {
                result += "_"
            }
            result += character.uppercased()
            previous = character
        }
        return result
    }

    /// `SEVERITY_HIGH` in enum `Severity` → `high`; `COLOR_LIGHT_BLUE` → `lightBlue`. Without the prefix, or when
    /// stripping it would leave nothing usable (`SEVERITY_1`), the whole name is converted instead.
    static func enumCaseName(_ valueName: String, enumName: String) -> String {
        let prefix = self.upperSnakeCase(enumName) + "_"
        var stem = valueName
        if valueName.hasPrefix(prefix) {
            let rest = String(valueName.dropFirst(prefix.count))
            if let first = rest.first, first.isLetter { stem = rest }
        }
        return self.lowerCamelCase(stem.lowercased())
    }

    /// Backticks around a keyword, so it can name a property or case.
    static func escaped(_ identifier: String) -> String {
        self.keywords.contains(identifier) ? "`\(identifier)`" : identifier
    }

    /// `vigil/v1/events.proto` → `vigil_v1_events`: the stem of the generated file names.
    static func fileStem(_ protoFile: String) -> String {
        var stem = protoFile
        if stem.hasSuffix(".proto") { stem.removeLast(".proto".count) }
        return String(stem.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// A Swift string literal holding `text`.
    static func stringLiteral(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    result += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    private static func lowercasingFirst(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.lowercased() + text.dropFirst()
    }

    private static func uppercasingFirst(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.uppercased() + text.dropFirst()
    }
}
