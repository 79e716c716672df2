// A line buffer with indentation, so emitters say what to write and not how many spaces go before it.

struct CodeWriter {
    private(set) var text = ""
    private var level = 0

    /// Maximum line length of generated code, as in the rest of the repository.
    static let width = 120

    var indentation: String { String(repeating: " ", count: self.level * 4) }

    mutating func line(_ line: String = "") {
        self.text += line.isEmpty ? "\n" : self.indentation + line + "\n"
    }

    /// Writes `header {`, and indents until the matching `close()`.
    mutating func open(_ header: String) {
        self.line(header + " {")
        self.level += 1
    }

    mutating func indent() { self.level += 1 }
    mutating func outdent() { self.level -= 1 }

    mutating func close(_ trailer: String = "}") {
        self.level -= 1
        self.line(trailer)
    }

    /// `///` lines of a doc comment; nothing when there is no comment.
    mutating func doc(_ comment: String?) {
        guard let comment else { return }
        for line in comment.split(separator: "\n", omittingEmptySubsequences: false) {
            self.line(line.isEmpty ? "///" : "/// " + line)
        }
    }

    /// `prefix(a, b, c)suffix` on one line when it fits, else one argument per line.
    mutating func call(_ prefix: String, _ arguments: [String], _ suffix: String = "") {
        let single = prefix + "(" + arguments.joined(separator: ", ") + ")" + suffix
        if self.indentation.count + single.count <= Self.width || arguments.count < 2 {
            self.line(single)
            return
        }
        self.line(prefix + "(")
        self.level += 1
        for argument in arguments.dropLast() { self.line(argument + ",") }
        self.line(arguments[arguments.count - 1])
        self.level -= 1
        self.line(")" + suffix)
    }

    /// `prefix[a, b, c]suffix` on one line when it fits, else one element per line with trailing commas.
    mutating func list(_ prefix: String, _ elements: [String], _ suffix: String = "") {
        let single = prefix + "[" + elements.joined(separator: ", ") + "]" + suffix
        if self.indentation.count + single.count <= Self.width || elements.isEmpty {
            self.line(single)
            return
        }
        self.line(prefix + "[")
        self.level += 1
        for element in elements { self.line(element + ",") }
        self.level -= 1
        self.line("]" + suffix)
    }
}
