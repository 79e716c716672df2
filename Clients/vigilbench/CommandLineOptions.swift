// A minimal `--flag value` parser for the benchmark's subcommands: the package takes no dependencies, and the
// few flags each subcommand has do not justify more.
import Foundation

struct CommandLineOptions {
    private var values: [String: String] = [:]
    private var flags: Set<String> = []

    /// Parses `arguments` (after the subcommand); `booleanFlags` take no value.
    init(_ arguments: ArraySlice<String>, booleanFlags: Set<String> = []) throws(UsageError) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            guard argument.hasPrefix("--") else { throw UsageError("unexpected argument '\(argument)'") }
            let name = String(argument.dropFirst(2))
            if let equals = name.firstIndex(of: "=") {
                self.values[String(name[..<equals])] = String(name[name.index(after: equals)...])
            } else if booleanFlags.contains(name) {
                self.flags.insert(name)
            } else {
                guard let value = iterator.next() else { throw UsageError("--\(name) needs a value") }
                self.values[name] = value
            }
        }
    }

    func string(_ name: String) -> String? { self.values[name] }

    func flag(_ name: String) -> Bool { self.flags.contains(name) }

    func int(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let text = self.values[name] else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError("--\(name) must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func double(_ name: String, default defaultValue: Double) throws(UsageError) -> Double {
        guard let text = self.values[name] else { return defaultValue }
        guard let value = Double(text), value > 0 else { throw UsageError("--\(name) must be a positive number") }
        return value
    }

    /// Names given that `known` does not list, so a typo is an error rather than a silently ignored flag.
    func rejectUnknown(_ known: Set<String>) throws(UsageError) {
        let unknown = Set(self.values.keys).union(self.flags).subtracting(known)
        if let first = unknown.sorted().first { throw UsageError("unknown option --\(first)") }
    }
}

struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
