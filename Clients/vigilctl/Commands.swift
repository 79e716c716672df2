// The commands of vigilctl. Each reads its flags, makes the calls through VigilClient, and prints with Printing;
// errors are thrown (RPCError from the server, UsageError for the command line) and reported by main.
import Foundation
import Glibc
import VigilAPI
import VigilClient
import VigilRPC

struct Commands {
    let arguments: Arguments
    let client: VigilClient
    let sessions: SessionFile
    let environment: [String: String]

    static let usage = """
        usage: vigilctl [--server HOST:PORT] [--ca FILE] [--json] COMMAND
          login --username U [--password-stdin]     log in; tokens kept in $VIGIL_CONFIG_DIR (mode 0600)
          logout | whoami | health
          events list [--severity S,..] [--type T] [--source S] [--since T] [--until T] [--order F|-F] [--limit N] [--all]
          events get ID
          events ingest FILE|- [--key-from-line] [--batch-size N]   JSON lines, see README
          alerts list [--status S,..] [--severity S,..] [--type T] [--source S] [--since T] [--until T] [--order F|-F]
                      [--limit N] [--all]
          alerts get ID
          alerts update ID --status open|acknowledged|resolved [--version V]
          users create --username U --role admin|analyst|agent [--password-stdin]
          users list [--role R] [--limit N] [--all]
        defaults: --server 127.0.0.1:7443 (VIGIL_SERVER), --ca ./vigil-data/tls/cert.pem (VIGIL_CA)
        """

    func out(_ text: String) { if !text.isEmpty { print(text) } }

    func run() async throws {
        let words = self.arguments.words
        switch (words.first, words.dropFirst().first) {
        case ("login", _): try await self.login()
        case ("logout", _):
            try self.arguments.allow([])
            self.client.logout()
            self.out("logged out of \(self.arguments.server)")
        case ("whoami", _):
            try self.arguments.allow([])
            let response = try await self.client.whoAmI()
            guard let user = response.user else { throw RPCError(code: .internal, message: "no user in the answer") }
            self.out(Printing.users([user], json: self.arguments.json))
        case ("health", _):
            try self.arguments.allow([])
            self.out(Printing.name(try await self.client.healthCheck().protoName, prefix: "SERVING_STATUS_"))
        case ("events", "list"): try await self.listEvents()
        case ("events", "get"):
            try self.arguments.allow([])
            let response = try await self.client.getEvent(id: try self.id(at: 2))
            guard let event = response.event else { throw RPCError(code: .internal, message: "no event in the answer") }
            self.out(self.arguments.json ? Printing.json(Printing.eventObject(event)) : Printing.events([event], json: false))
        case ("events", "ingest"): try await self.ingest()
        case ("alerts", "list"): try await self.listAlerts()
        case ("alerts", "get"):
            try self.arguments.allow([])
            let response = try await self.client.getAlert(id: try self.id(at: 2))
            guard let alert = response.alert else { throw RPCError(code: .internal, message: "no alert in the answer") }
            self.out(Printing.alerts([alert], json: self.arguments.json))
        case ("alerts", "update"): try await self.updateAlert()
        case ("users", "create"): try await self.createUser()
        case ("users", "list"): try await self.listUsers()
        default: throw UsageError(Self.usage)
        }
    }

    func id(at index: Int) throws -> Int64 {
        guard self.arguments.words.count > index, let id = Int64(self.arguments.words[index]) else {
            throw UsageError("expected a numeric ID\n\n\(Self.usage)")
        }
        return id
    }

    /// A password from stdin (`--password-stdin`) or the terminal, without echo.
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
        AlertStatus(protoName: "ALERT_STATUS_" + text.uppercased()).flatMap { $0 == .unspecified ? nil : $0 }
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

    func listEvents() async throws {
        try self.arguments.allow(["severity", "type", "source", "since", "until", "order", "limit", "all"])
        var request = ListEventsRequest()
        var filter = EventFilter()
        filter.severities = try Self.list(self.arguments.option("severity"), EventLineParser.severity, what: "severity")
        filter.eventType = self.arguments.option("type") ?? ""
        filter.sourceName = self.arguments.option("source") ?? ""
        filter.occurred = try self.timeRange()
        request.filter = filter
        if let (field, ascending) = self.order() {
            guard let order = EventOrderField(protoName: "EVENT_ORDER_FIELD_" + field.uppercased()) else {
                throw UsageError("--order: events order by occurred_at or severity")
            }
            request.orderBy = order
            request.ascending = ascending
        }
        request.pageSize = try self.pageSize()
        repeat {
            let response = try await self.client.listEvents(request)
            self.out(Printing.events(response.events, json: self.arguments.json))
            request.pageToken = response.nextPageToken
        } while self.arguments.has("all") && !request.pageToken.isEmpty
    }

    func listAlerts() async throws {
        try self.arguments.allow(["status", "severity", "type", "source", "since", "until", "order", "limit", "all"])
        var request = ListAlertsRequest()
        var filter = AlertFilter()
        filter.statuses = try Self.list(self.arguments.option("status"), Self.alertStatus, what: "status")
        filter.severities = try Self.list(self.arguments.option("severity"), EventLineParser.severity, what: "severity")
        filter.eventType = self.arguments.option("type") ?? ""
        filter.sourceName = self.arguments.option("source") ?? ""
        filter.created = try self.timeRange()
        request.filter = filter
        if let (field, ascending) = self.order() {
            guard let order = AlertOrderField(protoName: "ALERT_ORDER_FIELD_" + field.uppercased()) else {
                throw UsageError("--order: alerts order by created_at, status or severity")
            }
            request.orderBy = order
            request.ascending = ascending
        }
        request.pageSize = try self.pageSize()
        repeat {
            let response = try await self.client.listAlerts(request)
            self.out(Printing.alerts(response.alerts, json: self.arguments.json))
            request.pageToken = response.nextPageToken
        } while self.arguments.has("all") && !request.pageToken.isEmpty
    }

    func updateAlert() async throws {
        try self.arguments.allow(["status", "version"])
        let id = try self.id(at: 2)
        guard let text = self.arguments.option("status"), let status = Self.alertStatus(text) else {
            throw UsageError("alerts update needs --status open|acknowledged|resolved")
        }
        var version = try self.arguments.integer("version")
        if version == nil { version = try await self.client.getAlert(id: id).alert?.version }
        let response = try await self.client.updateAlert(id: id, status: status, expectedVersion: version ?? 0)
        guard let alert = response.alert else { throw RPCError(code: .internal, message: "no alert in the answer") }
        self.out(Printing.alerts([alert], json: self.arguments.json))
    }

    func createUser() async throws {
        try self.arguments.allow(["username", "role", "password-stdin"])
        guard let username = self.arguments.option("username"), let roleText = self.arguments.option("role"),
            let role = Role(protoName: "ROLE_" + roleText.uppercased()), role != .unspecified
        else { throw UsageError("users create needs --username and --role admin|analyst|agent") }
        var request = CreateUserRequest()
        request.username = username
        request.role = role
        request.password = try self.password(prompt: "Password for \(username): ")
        let response = try await self.client.createUser(request)
        guard let user = response.user else { throw RPCError(code: .internal, message: "no user in the answer") }
        self.out(Printing.users([user], json: self.arguments.json))
    }

    func listUsers() async throws {
        try self.arguments.allow(["role", "limit", "all"])
        var request = ListUsersRequest()
        if let text = self.arguments.option("role") {
            guard let role = Role(protoName: "ROLE_" + text.uppercased()), role != .unspecified else {
                throw UsageError("--role must be admin, analyst or agent")
            }
            request.role = role
        }
        request.pageSize = try self.pageSize()
        repeat {
            let response = try await self.client.listUsers(request)
            self.out(Printing.users(response.users, json: self.arguments.json))
            request.pageToken = response.nextPageToken
        } while self.arguments.has("all") && !request.pageToken.isEmpty
    }

    func ingest() async throws {
        try self.arguments.allow(["key-from-line", "batch-size"])
        guard self.arguments.words.count > 2 else { throw UsageError("events ingest needs FILE or -") }
        let path = self.arguments.words[2]
        let handle = path == "-" ? FileHandle.standardInput : try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        let batchSize = Int(try self.arguments.integer("batch-size") ?? 500)
        guard (1...10_000).contains(batchSize) else { throw UsageError("--batch-size must be 1 to 10000") }
        var events: [Event] = []
        var lines: [Int] = []
        var refused: [EventLineError] = []
        for result in EventLineReader(handle: handle, parser: EventLineParser(keyFromLine: self.arguments.has("key-from-line"))) {
            switch result {
            case .success(let item):
                events.append(item.event)
                lines.append(item.lineNumber)
            case .failure(let error):
                refused.append(error)
            }
        }
        let summary = events.isEmpty ? IngestSummary() : try await self.client.ingest(events, batchSize: batchSize)
        let rejected = refused + summary.rejections.map {
            EventLineError(lineNumber: lines[$0.eventIndex], reason: "\(Status(code: $0.code).code): \($0.reason)")
        }
        if self.arguments.json {
            self.out(Printing.json([
                "accepted": summary.accepted, "duplicates": summary.duplicates, "alerts_created": summary.alertsCreated,
                "rejected": rejected.sorted { $0.lineNumber < $1.lineNumber }.map { ["line": $0.lineNumber, "reason": $0.reason] },
            ]))
        } else {
            self.out("accepted \(summary.accepted), duplicates \(summary.duplicates), rejected \(rejected.count), "
                + "alerts created \(summary.alertsCreated)")
            for error in rejected.sorted(by: { $0.lineNumber < $1.lineNumber }) { self.out("  \(error)") }
        }
    }
}
