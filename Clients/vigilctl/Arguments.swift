// vigilctl's command line: global options (`--server`, `--ca`, `--json`, also from VIGIL_SERVER / VIGIL_CA), then
// the command words, then the command's own `--flag value` options and positional arguments. Small on purpose:
// every command states the flags it takes, and anything else is refused with the command's usage.

struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct Arguments {
    var server = "127.0.0.1:7443"
    var ca = "./vigil-data/tls/cert.pem"
    var json = false
    /// Command words and positional arguments, in order.
    var words: [String] = []
    /// `--name value` options after the command, and boolean `--name` flags (value "").
    var options: [String: String] = [:]

    /// Boolean flags: they take no value.
    static let flags: Set<String> = [
        "json", "all", "password-stdin", "key-from-line", "disable", "enable", "reset-password", "help", "no-progress",
    ]

    init(_ arguments: [String], environment: [String: String]) throws(UsageError) {
        if let server = environment["VIGIL_SERVER"], !server.isEmpty { self.server = server }
        if let ca = environment["VIGIL_CA"], !ca.isEmpty { self.ca = ca }
        var index = 0
        while index < arguments.count {
            var argument = arguments[index]
            index += 1
            if argument == "-h" { argument = "--help" }
            guard argument.hasPrefix("--"), argument.count > 2 else {
                self.words.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if Self.flags.contains(name) {
                if name == "json" { self.json = true } else { self.options[name] = "" }
                continue
            }
            if value == nil {
                guard index < arguments.count else { throw UsageError("--\(name) needs a value") }
                value = arguments[index]
                index += 1
            }
            switch name {
            case "server": self.server = value ?? ""
            case "ca": self.ca = value ?? ""
            default: self.options[name] = value
            }
        }
    }

    /// Refuses options the command does not take.
    func allow(_ names: Set<String>) throws(UsageError) {
        if let unknown = self.options.keys.sorted().first(where: { !names.contains($0) }) {
            throw UsageError("this command takes no --\(unknown)")
        }
    }

    func option(_ name: String) -> String? { self.options[name] }
    func has(_ name: String) -> Bool { self.options[name] != nil }

    func integer(_ name: String) throws(UsageError) -> Int64? {
        guard let text = self.options[name] else { return nil }
        guard let value = Int64(text) else { throw UsageError("--\(name): \"\(text)\" is not a whole number") }
        return value
    }

    /// The server's host and port.
    func endpoint() throws(UsageError) -> (host: String, port: UInt16) {
        let text = self.server
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw UsageError("--server: \"\(text)\" is not HOST:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}
