// The real vigilctl against the real vigild over TLS: login (tokens stored with mode 0600), whoami, importing a
// JSON-lines file with a bad line reported by number, lists, an alert update, user creation, and logout.
import Foundation
import Testing
import VigilClient
import VigilTesting

@Suite(.serialized) struct VigilctlTests {
    static var binary: String {
        URL(fileURLWithPath: VigildBinaryTests.binary).deletingLastPathComponent().appendingPathComponent("vigilctl").path
    }

    @Test("a session from login to logout through the real binaries")
    func session() async throws {
        let directory = try TemporaryDirectory(prefix: "vigilctl")
        let (process, port, _) = try VigildServeTests.start(in: directory)
        defer { if process.isRunning { process.terminate() } }
        let probe = try await VigildServeTests.connect(port: port, ca: directory.file("data/tls/cert.pem"))
        await probe.close()

        let environment = [
            "VIGIL_SERVER": "127.0.0.1:\(port)", "VIGIL_CA": directory.file("data/tls/cert.pem"),
            "VIGIL_CONFIG_DIR": directory.file("config"),
        ]
        func vigilctl(_ arguments: [String], stdin: String = "") throws -> ProcessResult {
            let result = try Subprocess.run(
                "/usr/bin/env", environment.map { "\($0.key)=\($0.value)" } + [Self.binary] + arguments,
                stdin: Array(stdin.utf8))
            return result
        }

        let login = try vigilctl(["login", "--username", "admin", "--password-stdin"], stdin: "correct horse battery staple\n")
        #expect(login.status == 0, "\(login.stderrText)")
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.file("config/session.json"))
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try vigilctl(["whoami"]).stdoutText.contains("admin"))

        let lines = [
            #"{"source_name":"web-01","event_type":"ssh.login_failed","severity":"High","description":"5 failed logins"}"#,
            #"{"source_name":"web-02","event_type":"ssh.login_ok","severity":"low","description":"login"}"#,
            #"{"source_name":"web-03","event_type":"x","severity":"loud","description":"bad severity"}"#,
        ]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: directory.file("events.jsonl")))
        let ingest = try vigilctl(["events", "ingest", directory.file("events.jsonl"), "--key-from-line"])
        #expect(ingest.status == 0, "\(ingest.stderrText)")
        #expect(ingest.stdoutText.contains("accepted 2, duplicates 0, rejected 1, alerts created 1"), "\(ingest.stdoutText)")
        #expect(ingest.stdoutText.contains("line 3: \"severity\" must be one of"))
        let again = try vigilctl(["events", "ingest", directory.file("events.jsonl"), "--key-from-line"])
        #expect(again.stdoutText.contains("accepted 0, duplicates 2"), "importing twice stores nothing twice: \(again.stdoutText)")

        let events = try vigilctl(["--json", "events", "list"])
        #expect(events.stdoutText.split(separator: "\n").count == 2)
        let alerts = try vigilctl(["--json", "alerts", "list", "--status", "open"])
        let alert = try #require(alerts.stdoutText.split(separator: "\n").first)
        let id = try #require((try JSONSerialization.jsonObject(with: Data(alert.utf8)) as? [String: Any])?["id"] as? Int)
        let resolved = try vigilctl(["alerts", "update", String(id), "--status", "resolved"])
        #expect(resolved.status == 0, "\(resolved.stderrText)")
        #expect(resolved.stdoutText.contains("resolved"))

        let created = try vigilctl(["users", "create", "--username", "bob", "--role", "analyst", "--password-stdin"],
                                   stdin: "another long password\n")
        #expect(created.status == 0, "\(created.stderrText)")
        #expect(try vigilctl(["users", "list"]).stdoutText.contains("bob"))
        let missing = try vigilctl(["events", "get", "999999"])
        #expect(missing.status == 1)
        #expect(missing.stderrText.contains("NOT_FOUND"))

        #expect(try vigilctl(["logout"]).status == 0)
        let after = try vigilctl(["whoami"])
        #expect(after.status == 1)
        #expect(after.stderrText.contains("UNAUTHENTICATED"))
        #expect(try vigilctl(["events", "frobnicate"]).status == 2)

        kill(process.processIdentifier, SIGTERM)
    }
}
