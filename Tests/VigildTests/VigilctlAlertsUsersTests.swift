// `vigilctl alerts …` and `users …` through the real binaries: list filters and paging, the update flow (version
// read automatically, shorthands, history, a stale --if-version answered ABORTED with the current state), and user
// management (get by id or name, role change, disable/enable, password reset from stdin).
import Foundation
import Testing
import VigilTesting

@Suite(.serialized) struct VigilctlAlertsUsersTests {
    @Test("alerts: filters, --all paging, update with the version read first, history, and a conflict")
    func alerts() async throws {
        let server = try await VigilctlServer(prefix: "vigilctl-alerts")
        try await server.loginAdmin()
        let lines = (0..<9).map { VigilctlServer.event("host-\($0 % 3)", "type-\($0 % 2)", $0 < 4 ? "critical" : "high", "alert \($0)") }
        let ingest = try await server.run(["events", "ingest", try server.file("alerts.jsonl", lines: lines)])
        #expect(ingest.stdoutText.hasPrefix("accepted 9, duplicates 0, rejected 0, alerts created 9"), "\(ingest.stdoutText)")

        func list(_ arguments: [String]) async throws -> [[String: Any]] {
            let result = try await server.run(["--json", "alerts", "list"] + arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderrText)")
            return try VigilctlServer.objects(result)
        }
        #expect(try await list(["--limit", "2"]).count == 2)
        let all = try await list(["--limit", "2", "--all"])
        #expect(all.count == 9 && Set(all.compactMap { $0["id"] as? String }).count == 9)
        let critical = try await list(["--severity", "critical", "--all"])
        #expect(critical.count == 4)
        #expect(critical.allSatisfy { ($0["event"] as? [String: Any])?["severity"] as? String == "SEVERITY_CRITICAL" })
        #expect(try await list(["--source", "host-0", "--type", "type-1"]).count == 1, "only alert 3 is host-0 and type-1")
        #expect(try await list(["--since", "2999-01-01T00:00:00Z"]).isEmpty)

        // ack with the shorthand: version read first, history grows.
        let id = try #require(critical.first?["id"] as? String)
        let acked = try await server.run(["--json", "alerts", "ack", id])
        #expect(acked.status == 0, "\(acked.stderrText)")
        let ackedAlert = try #require(try VigilctlServer.objects(acked).first?["alert"] as? [String: Any])
        #expect(ackedAlert["status"] as? String == "ALERT_STATUS_ACKNOWLEDGED")
        let version = try #require(ackedAlert["version"] as? String)

        let resolved = try await server.run(["alerts", "update", id, "--status", "resolved", "--if-version", version])
        #expect(resolved.status == 0 && resolved.stdoutText.contains("resolved"), "\(resolved.stderrText)")
        let stale = try await server.run(["alerts", "reopen", id, "--if-version", version])
        #expect(stale.status == 6, "ABORTED is a conflict: \(stale.stderrText)")
        #expect(stale.stderrText.contains("ABORTED"), "\(stale.stderrText)")
        #expect(stale.stderrText.contains("is now resolved at version"), "the current state is shown: \(stale.stderrText)")
        #expect(stale.stderrText.contains("last changed by admin"), "\(stale.stderrText)")

        let get = try await server.run(["--json", "alerts", "get", id])
        let response = try #require(try VigilctlServer.objects(get).first)
        let history = try #require(response["history"] as? [[String: Any]])
        #expect(history.map { $0["toStatus"] as? String } == ["ALERT_STATUS_ACKNOWLEDGED", "ALERT_STATUS_RESOLVED"])
        #expect(history.first?["fromStatus"] as? String == "ALERT_STATUS_OPEN")
        #expect((response["alert"] as? [String: Any])?["resolvedAt"] is String)
        let table = try await server.run(["alerts", "get", id])
        #expect(table.stdoutText.contains("history:") && table.stdoutText.contains("acknowledged"), "\(table.stdoutText)")

        #expect(try await list(["--status", "resolved"]).count == 1)
        #expect(try await list(["--status", "open,acknowledged", "--all"]).count == 8)
        let byStatus = try await list(["--order", "-status", "--limit", "1"])
        #expect(byStatus.first?["id"] as? String == id, "RESOLVED first when ordering by status descending")
        let stats = try #require(try VigilctlServer.objects(try await server.run(["--json", "stats"])).first)
        let statuses = try #require(stats["alertsByStatus"] as? [[String: Any]])
        #expect(statuses.first { $0["status"] as? String == "ALERT_STATUS_RESOLVED" }?["count"] as? String == "1")
    }

    @Test("users: create, get by id and name, role change, disable and enable, password reset from stdin")
    func users() async throws {
        let server = try await VigilctlServer(prefix: "vigilctl-users")
        try await server.loginAdmin()
        let created = try await server.run(["--json", "users", "create", "--username", "carol", "--role", "agent", "--password-stdin"],
                                     stdin: "carol's first password\n")
        #expect(created.status == 0, "\(created.stderrText)")
        let user = try #require(try VigilctlServer.objects(created).first?["user"] as? [String: Any])
        let id = try #require(user["id"] as? String)
        #expect(user["role"] as? String == "ROLE_AGENT" && user["disabled"] == nil, "false is left out: \(user)")
        let duplicate = try await server.run(["users", "create", "--username", "carol", "--role", "agent", "--password-stdin"],
                                       stdin: "carol's first password\n")
        #expect(duplicate.status == 6 && duplicate.stderrText.contains("ALREADY_EXISTS"), "\(duplicate.stderrText)")

        let byName = try VigilctlServer.objects(try await server.run(["--json", "users", "get", "carol"]))
        #expect((byName.first?["user"] as? [String: Any])?["id"] as? String == id)
        #expect(try await server.run(["users", "get", id]).stdoutText.contains("carol"))

        let promoted = try await server.run(["--json", "users", "update", id, "--role", "analyst"])
        #expect((try VigilctlServer.objects(promoted).first?["user"] as? [String: Any])?["role"] as? String == "ROLE_ANALYST",
                "\(promoted.stdoutText) \(promoted.stderrText)")

        let login = ["login", "--username", "carol", "--password-stdin"]
        #expect(try await server.run(login, stdin: "carol's first password\n", config: "carol").status == 0)
        let disabled = try await server.run(["users", "update", id, "--disable"])
        #expect(disabled.status == 0 && disabled.stdoutText.contains("yes"), "\(disabled.stdoutText)")
        #expect(try await server.run(["whoami"], config: "carol").status == 3, "disabling revokes the stored tokens")
        #expect(try await server.run(login, stdin: "carol's first password\n", config: "carol").status == 3)
        #expect(try await server.run(["users", "update", id, "--enable"]).status == 0)

        let reset = try await server.run(["users", "update", id, "--reset-password", "--password-stdin"], stdin: "carol's second password\n")
        #expect(reset.status == 0, "\(reset.stderrText)")
        #expect(try await server.run(login, stdin: "carol's first password\n", config: "carol").status == 3, "old password refused")
        let relogin = try await server.run(login, stdin: "carol's second password\n", config: "carol")
        #expect(relogin.status == 0, "\(relogin.stderrText)")
        #expect(try await server.run(["whoami"], config: "carol").stdoutText.contains("analyst"))
        #expect(try await server.run(["users", "list"], config: "carol").status == 4, "analysts do not manage users")

        let short = try await server.run(["users", "update", id, "--reset-password", "--password-stdin"], stdin: "short\n")
        #expect(short.status == 7 && short.stderrText.contains("INVALID_ARGUMENT"), "\(short.stderrText)")

        let listed = try VigilctlServer.objects(try await server.run(["--json", "users", "list", "--limit", "1", "--all"]))
        #expect(listed.compactMap { $0["username"] as? String }.sorted() == ["admin", "carol"])
        #expect(try VigilctlServer.objects(try await server.run(["--json", "users", "list", "--role", "admin"])).count == 1)
    }
}
