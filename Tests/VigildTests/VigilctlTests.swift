// The real vigilctl against the real vigild over TLS: login (tokens stored with mode 0600), whoami, importing a
// JSON-lines file with a bad line reported by number, lists, an alert update, user creation, logout, help and the
// exit statuses. `VigilctlServer` is the harness the other Vigilctl*Tests share.
import Foundation
import Testing
import VigilClient
import VigilTesting

/// A vigild in a temporary directory and a way to run the real vigilctl binary against it, with its own
/// `VIGIL_CONFIG_DIR` so no test touches the user's session file.
final class VigilctlServer {
    static var binary: String {
        URL(fileURLWithPath: VigildBinaryTests.binary).deletingLastPathComponent().appendingPathComponent("vigilctl").path
    }

    static let adminPassword = "correct horse battery staple"

    let directory: TemporaryDirectory
    let process: ChildProcess
    let port: UInt16

    init(prefix: String = "vigilctl") async throws {
        self.directory = try TemporaryDirectory(prefix: prefix)
        (self.process, self.port, _) = try await VigildServeTests.start(in: self.directory)
        let probe = try await VigildServeTests.connect(port: self.port, ca: self.directory.file("data/tls/cert.pem"))
        await probe.close()
    }

    deinit { if self.process.isRunning { self.process.terminate() } }

    /// Runs vigilctl with VIGIL_SERVER, VIGIL_CA and VIGIL_CONFIG_DIR set (`config` picks another session directory).
    func run(_ arguments: [String], stdin: String = "", config: String = "config") async throws -> ProcessResult {
        let environment = [
            "VIGIL_SERVER=127.0.0.1:\(self.port)", "VIGIL_CA=\(self.directory.file("data/tls/cert.pem"))",
            "VIGIL_CONFIG_DIR=\(self.directory.file(config))",
        ]
        return try await Subprocess.runOnThread("/usr/bin/env", environment + [Self.binary] + arguments, stdin: Array(stdin.utf8))
    }

    /// Logs in as admin; fails the test if that does not work.
    func loginAdmin() async throws {
        let login = try await self.run(["login", "--username", "admin", "--password-stdin"], stdin: Self.adminPassword + "\n")
        #expect(login.status == 0, "\(login.stderrText)")
    }

    /// Writes `lines` (joined by newlines) to a file in the directory and returns its path.
    func file(_ name: String, lines: [String]) throws -> String {
        let path = self.directory.file(name)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Each stdout line parsed as a JSON object (an unparsable line fails the test).
    static func objects(_ result: ProcessResult) throws -> [[String: Any]] {
        try result.stdoutText.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
    }

    static func event(_ source: String, _ type: String, _ severity: String, _ description: String = "something") -> String {
        #"{"source_name":"\#(source)","event_type":"\#(type)","severity":"\#(severity)","description":"\#(description)"}"#
    }
}

@Suite(.serialized) struct VigilctlTests {
    @Test("a session from login to logout through the real binaries")
    func session() async throws {
        let server = try await VigilctlServer()
        func vigilctl(_ arguments: [String], stdin: String = "") async throws -> ProcessResult {
            try await server.run(arguments, stdin: stdin)
        }

        try await server.loginAdmin()
        let attributes = try FileManager.default.attributesOfItem(atPath: server.directory.file("config/session.json"))
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try await vigilctl(["whoami"]).stdoutText.contains("admin"))

        let path = try server.file("events.jsonl", lines: [
            VigilctlServer.event("web-01", "ssh.login_failed", "High", "5 failed logins"),
            VigilctlServer.event("web-02", "ssh.login_ok", "low", "login"),
            VigilctlServer.event("web-03", "x", "loud", "bad severity"),
        ])
        let ingest = try await vigilctl(["events", "ingest", path, "--key-from-line"])
        #expect(ingest.status == 0, "\(ingest.stderrText)")
        #expect(ingest.stdoutText.contains("accepted 2, duplicates 0, rejected 1, alerts created 1"), "\(ingest.stdoutText)")
        #expect(ingest.stdoutText.contains("line 3: \"severity\" must be one of"))
        #expect(ingest.stderrText.isEmpty, "no progress line when stderr is not a terminal: \(ingest.stderrText)")
        let again = try await vigilctl(["events", "ingest", path, "--key-from-line"])
        #expect(again.stdoutText.contains("accepted 0, duplicates 2"), "importing twice stores nothing twice: \(again.stdoutText)")

        let events = try VigilctlServer.objects(try await vigilctl(["--json", "events", "list"]))
        #expect(events.count == 2)
        let alerts = try VigilctlServer.objects(try await vigilctl(["--json", "alerts", "list", "--status", "open"]))
        let id = try #require(alerts.first?["id"] as? String, "int64 ids are strings in canonical JSON")
        let resolved = try await vigilctl(["alerts", "update", id, "--status", "resolved"])
        #expect(resolved.status == 0, "\(resolved.stderrText)")
        #expect(resolved.stdoutText.contains("resolved"))

        let created = try await vigilctl(["users", "create", "--username", "bob", "--role", "analyst", "--password-stdin"],
                                   stdin: "another long password\n")
        #expect(created.status == 0, "\(created.stderrText)")
        #expect(try await vigilctl(["users", "list"]).stdoutText.contains("bob"))
        let missing = try await vigilctl(["events", "get", "999999"])
        #expect(missing.status == 5, "NOT_FOUND has its own exit status")
        #expect(missing.stderrText.contains("NOT_FOUND"))

        #expect(try await vigilctl(["logout"]).status == 0)
        let after = try await vigilctl(["whoami"])
        #expect(after.status == 3, "UNAUTHENTICATED: \(after.stderrText)")
        #expect(after.stderrText.contains("UNAUTHENTICATED"))
        #expect(try await vigilctl(["events", "frobnicate"]).status == 2)
    }

    @Test("exit statuses: wrong password, analyst updating an alert, unknown alert, usage; help texts")
    func exitStatuses() async throws {
        let server = try await VigilctlServer()
        let wrong = try await server.run(["login", "--username", "admin", "--password-stdin"], stdin: "not the password!!\n")
        #expect(wrong.status == 3, "\(wrong.stderrText)")
        #expect(wrong.stderrText.hasPrefix("vigilctl: UNAUTHENTICATED: "), "\(wrong.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: server.directory.file("config/session.json")), "no session stored")

        try await server.loginAdmin()
        let path = try server.file("one.jsonl", lines: [VigilctlServer.event("db-01", "sql.injection", "critical")])
        #expect(try await server.run(["events", "ingest", path]).status == 0)
        let alert = try #require(try VigilctlServer.objects(try await server.run(["--json", "alerts", "list"])).first?["id"] as? String)
        let unknown = try await server.run(["alerts", "update", "987654", "--status", "resolved"])
        #expect(unknown.status == 5, "\(unknown.stderrText)")
        #expect(unknown.stderrText.contains("NOT_FOUND"))

        let analyst = try await server.run(["users", "create", "--username", "ann", "--role", "analyst", "--password-stdin"],
                                     stdin: "analyst password 123\n")
        #expect(analyst.status == 0, "\(analyst.stderrText)")
        let login = try await server.run(["login", "--username", "ann", "--password-stdin"], stdin: "analyst password 123\n",
                                   config: "ann")
        #expect(login.status == 0, "\(login.stderrText)")
        let denied = try await server.run(["alerts", "ack", alert], config: "ann")
        #expect(denied.status == 4, "\(denied.stderrText)")
        #expect(denied.stderrText.contains("PERMISSION_DENIED"))
        #expect(try await server.run(["alerts", "get", alert], config: "ann").status == 0, "analysts read alerts")

        for usage in [["events", "list", "--limit", "0"], ["alerts", "update", alert], ["events", "list", "--bogus", "1"],
                      ["users", "update", "1"], ["alerts", "list", "--order", "colour"], ["events", "list", "--since", "yesterday"],
                      ["nonsense"], []] {
            let result = try await server.run(usage)
            #expect(result.status == 2, "\(usage): \(result.stderrText)")
            #expect(result.stdoutText.isEmpty, "\(usage)")
        }
        let help = try await server.run(["--help"])
        #expect(help.status == 0)
        for word in ["events ingest", "alerts update", "users update", "stats", "Exit status", "VIGIL_SERVER", "--json"] {
            #expect(help.stdoutText.contains(word), "\(word) in --help")
        }
        let group = try await server.run(["alerts", "--help"])
        #expect(group.status == 0 && group.stdoutText.contains("--if-version") && !group.stdoutText.contains("users create"))
        #expect(try await server.run(["help", "users"]).stdoutText.contains("--reset-password"))
    }

    @Test("--server and --ca win over VIGIL_SERVER and VIGIL_CA; a progress line only on a terminal")
    func optionsAndProgress() async throws {
        let server = try await VigilctlServer(prefix: "vigilctl-options")
        try await server.loginAdmin()
        let ca = server.directory.file("data/tls/cert.pem")
        let closed = try VigildServeTests.freePort()
        let environment = ["VIGIL_SERVER=127.0.0.1:\(closed)", "VIGIL_CA=/nonexistent/ca.pem",
                           "VIGIL_CONFIG_DIR=\(server.directory.file("config"))"]
        func run(_ arguments: [String]) async throws -> ProcessResult {
            try await Subprocess.runOnThread("/usr/bin/env", environment + [VigilctlServer.binary] + arguments)
        }
        let noCA = try await run(["whoami"])
        #expect(noCA.status == 2 && noCA.stderrText.contains("--ca: cannot read /nonexistent/ca.pem"), "\(noCA.stderrText)")
        let down = try await run(["--ca", ca, "whoami"])
        #expect(down.status == 8, "nobody listens on \(closed): \(down.stderrText)")
        #expect(down.stderrText.hasPrefix("vigilctl: UNAVAILABLE: cannot connect to 127.0.0.1:\(closed)"), "\(down.stderrText)")
        #expect(try await run(["logout"]).status == 0, "logout needs neither a server nor a CA")
        let flags = try await run(["--server", "127.0.0.1:\(server.port)", "--ca", ca, "whoami"])
        #expect(flags.status == 0 && flags.stdoutText.contains("admin"), "the session is kept per server: \(flags.stderrText)")

        // `script` gives vigilctl a pseudo-terminal: the progress line appears there, and never in a pipe.
        let path = try server.file("progress.jsonl", lines: (1...50).map { VigilctlServer.event("h", "t", "low", "e\($0)") })
        guard let script = Subprocess.which("script") else { return }
        let command = (["env", "VIGIL_SERVER=127.0.0.1:\(server.port)", "VIGIL_CA=\(ca)",
                        "VIGIL_CONFIG_DIR=\(server.directory.file("config"))", VigilctlServer.binary,
                        "events", "ingest", path]).map { "'\($0)'" }.joined(separator: " ")
        let terminal = try await Subprocess.runOnThread(script, ["-qec", command, "/dev/null"])
        #expect(terminal.status == 0, "\(terminal.stdoutText)")
        #expect(terminal.stdoutText.contains("\r\u{1B}[Kline "), "a progress line on a terminal: \(terminal.stdoutText)")
        #expect(terminal.stdoutText.contains("accepted 50, duplicates 0, rejected 0, alerts created 0"))
        let piped = try await server.run(["events", "ingest", path])
        #expect(!piped.stdoutText.contains("\u{1B}") && !piped.stderrText.contains("line "), "\(piped.stderrText)")
    }
}
