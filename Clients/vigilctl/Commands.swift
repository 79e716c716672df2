// The commands of vigilctl: this file dispatches and holds what every command shares (ids, passwords, time ranges,
// ordering, paging, output); each command group has its own file. Errors are thrown (RPCError from the server,
// UsageError for the command line, ConflictError for a stale alert update) and reported by main.
import Foundation
import Glibc
import VigilAPI
import VigilClient
import VigilRPC

/// An UpdateAlert refused as ABORTED (stale version), with the alert's current state for the person to decide.
struct ConflictError: Error {
    let error: RPCError
    let current: String
}

struct Commands {
    let arguments: Arguments
    let client: VigilClient
    let sessions: SessionFile
    let environment: [String: String]

    static let commands: [String: Set<String>] = [
        "login": [], "logout": [], "whoami": [], "health": [], "stats": [],
        "events": ["list", "get", "ingest"],
        "alerts": ["list", "get", "update", "ack", "resolve", "reopen"],
        "users": ["create", "update", "list", "get"],
    ]

    /// Refuses an unknown command before anything connects, with the help of its group.
    static func checkUsage(_ arguments: Arguments) throws(UsageError) {
        let words = arguments.words
        guard let group = words.first, let subcommands = Self.commands[group] else {
            throw UsageError("unknown command \"\(words.first ?? "")\"; vigilctl --help lists every command")
        }
        if !subcommands.isEmpty && (words.count < 2 || !subcommands.contains(words[1])) {
            let what = words.count < 2 ? "\(group) needs a command" : "unknown command \"\(group) \(words[1])\""
            throw UsageError("\(what)\n\n\(Help.group(group) ?? Help.full)")
        }
    }

    var json: Bool { self.arguments.json }

    func out(_ text: String) { if !text.isEmpty { print(text) } }
    func out(_ value: JSON) { print(value.text) }

    func run() async throws {
        let words = self.arguments.words
        switch (words.first, words.dropFirst().first) {
        case ("login", _): try await self.login()
        case ("logout", _):  // main handles a plain logout without connecting
            try self.arguments.allow([])
            self.client.logout()
            self.out("logged out of \(self.arguments.server)")
        case ("whoami", _):
            try self.arguments.allow([])
            let response = try await self.client.whoAmI()
            guard let user = response.user else { throw RPCError(code: .internal, message: "no user in the answer") }
            if self.json { self.out(CanonicalJSON.wrapping("user", CanonicalJSON.user(user))) } else { self.out(Printing.users([user])) }
        case ("health", _):
            try self.arguments.allow([])
            let status = try await self.client.healthCheck()
            if self.json {
                var object = JSONObject()
                object.enumeration("status", status.protoName, isDefault: false)
                self.out(object.json)
            } else {
                self.out(Printing.name(status.protoName, prefix: "SERVING_STATUS_"))
            }
        case ("stats", _):
            try self.arguments.allow([])
            let stats = try await self.client.getStats()
            if self.json { self.out(CanonicalJSON.stats(stats)) } else { self.out(Printing.stats(stats)) }
        case ("events", "list"): try await self.listEvents()
        case ("events", "get"): try await self.getEvent()
        case ("events", "ingest"): try await self.ingest()
        case ("alerts", "list"): try await self.listAlerts()
        case ("alerts", "get"): try await self.getAlert()
        case ("alerts", "update"): try await self.updateAlert(status: nil)
        case ("alerts", "ack"): try await self.updateAlert(status: .acknowledged)
        case ("alerts", "resolve"): try await self.updateAlert(status: .resolved)
        case ("alerts", "reopen"): try await self.updateAlert(status: .open)
        case ("users", "create"): try await self.createUser()
        case ("users", "update"): try await self.updateUser()
        case ("users", "list"): try await self.listUsers()
        case ("users", "get"): try await self.getUser()
        default: throw UsageError(Help.full)
        }
    }

    /// The numeric id at `words[index]`, and nothing after it.
    func id(at index: Int) throws -> Int64 {
        let words = self.arguments.words
        guard words.count > index, let id = Int64(words[index]), id > 0 else {
            throw UsageError("expected a numeric ID\n\n\(Help.group(words.first) ?? Help.full)")
        }
        guard words.count == index + 1 else { throw UsageError("unexpected \"\(words[index + 1])\"") }
        return id
    }

    /// A password from stdin (`--password-stdin`, or when stdin is not a terminal) or the terminal, without echo.
    func password(prompt: String) throws -> String {
        if self.arguments.has("password-stdin") || isatty(STDIN_FILENO) == 0 {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw UsageError("no password on stdin") }
            return line
        }
        guard let entered = getpass(prompt) else { throw UsageError("cannot read a password from the terminal") }
        return String(cString: entered)
    }

    func login() async throws {
        try self.arguments.allow(["username", "password-stdin"])
        guard let username = self.arguments.option("username") else { throw UsageError("login needs --username") }
        let response = try await self.client.authenticate(username: username, password: try self.password(prompt: "Password: "))
        self.out("logged in to \(self.arguments.server) as \(response.user?.username ?? username)")
    }

    static func list<T>(_ text: String?, _ parse: (String) -> T?, what: String) throws -> [T] {
        guard let text else { return [] }
        return try text.split(separator: ",").map { item in
            guard let value = parse(String(item)) else { throw UsageError("unknown \(what) \"\(item)\"") }
            return value
        }
    }

    static func alertStatus(_ text: String) -> AlertStatus? {
        var name = text.uppercased()
        if name == "ACK" || name == "ACKED" { name = "ACKNOWLEDGED" }
        if !name.hasPrefix("ALERT_STATUS_") { name = "ALERT_STATUS_" + name }
        return AlertStatus(protoName: name).flatMap { $0 == .unspecified ? nil : $0 }
    }

    static func role(_ text: String) -> Role? {
        var name = text.uppercased()
        if !name.hasPrefix("ROLE_") { name = "ROLE_" + name }
        return Role(protoName: name).flatMap { $0 == .unspecified ? nil : $0 }
    }

    func timeRange() throws -> TimeRange? {
        func time(_ name: String) throws -> Timestamp? {
            guard let text = self.arguments.option(name) else { return nil }
            guard let value = RFC3339.parse(text) else { throw UsageError("--\(name): \"\(text)\" is not RFC 3339") }
            return value
        }
        let (since, until) = (try time("since"), try time("until"))
        guard since != nil || until != nil else { return nil }
        var range = TimeRange()
        range.start = since
        range.end = until
        return range
    }

    /// `--order severity` ascending, `--order -severity` descending.
    func order() -> (field: String, ascending: Bool)? {
        guard let text = self.arguments.option("order") else { return nil }
        return text.hasPrefix("-") ? (String(text.dropFirst()), false) : (text, true)
    }

    func pageSize() throws -> Int32 {
        guard let limit = try self.arguments.integer("limit") else { return 20 }
        guard (1...1000).contains(limit) else { throw UsageError("--limit must be 1 to 1000") }
        return Int32(limit)
    }

    /// Fetches a page and with `--all` follows the next-page token to the end. JSON is streamed, one object per
    /// line; a table is printed once at the end, so its columns line up across pages.
    func pages<Item>(
        fetch: (String) async throws -> (items: [Item], next: String),
        json: (Item) -> JSON, table: ([Item]) -> String
    ) async throws {
        var token = ""
        var all: [Item] = []
        repeat {
            let (items, next) = try await fetch(token)
            if self.json { for item in items { self.out(json(item)) } } else { all += items }
            token = next
        } while self.arguments.has("all") && !token.isEmpty
        if !self.json { self.out(table(all)) }
    }
}
