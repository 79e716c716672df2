// `vigilctl events ingest|list|get` and `stats` through the real binaries: refused lines named by their line in the
// input file (blank lines counted, a bad line never stopping the rest, server-side refusals mapped back to lines),
// stdin as input, re-imports with --key-from-line storing nothing twice, list filters, ordering and --all paging,
// and canonical JSON.
import Foundation
import Testing
import VigilTesting

@Suite(.serialized) struct VigilctlEventsTests {
    @Test("ingest reports accepted, duplicates, alerts and every refused line by its number in the file")
    func ingestSummary() async throws {
        let server = try await VigilctlServer(prefix: "vigilctl-ingest")
        try await server.loginAdmin()
        let path = try server.file("mixed.jsonl", lines: [
            VigilctlServer.event("web-01", "ssh.login_failed", "High"),     // 1
            "",                                                              // 2 blank: no event, still counted
            "{not json",                                                     // 3
            VigilctlServer.event("web-01", "ssh.login_ok", "LOW"),          // 4
            #"{"source_name":"a","event_type":"b","severity":"low","description":"c","colour":"red"}"#,  // 5
            "   ",                                                           // 6 blank
            VigilctlServer.event("web-02", "disk.full", "medium", "   "),   // 7 refused by the server: blank description
            VigilctlServer.event("web-03", "malware", "Critical"),          // 8
            #"{"source_name":"web-04","event_type":"x","severity":"low","description":"d","occurred_at":"tomorrow"}"#,  // 9
        ])
        let ingest = try await server.run(["events", "ingest", path, "--batch-size", "2"])
        #expect(ingest.status == 0, "\(ingest.stderrText)")
        let lines = ingest.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.first == "accepted 3, duplicates 0, rejected 4, alerts created 2", "\(ingest.stdoutText)")
        #expect(lines.dropFirst().map { $0.split(separator: ":").first.map(String.init) ?? "" }
                == ["  line 3", "  line 5", "  line 7", "  line 9"], "\(ingest.stdoutText)")
        #expect(lines.contains { $0.hasPrefix("  line 5: unknown key \"colour\"") }, "\(ingest.stdoutText)")
        #expect(lines.contains { $0.hasPrefix("  line 7: INVALID_ARGUMENT: ") }, "server refusals carry their code: \(ingest.stdoutText)")

        // JSON summary of a re-import from stdin: nothing without a key is deduplicated, keyed lines are.
        let keyed = try server.file("keyed.jsonl", lines: (1...30).map {
            VigilctlServer.event("host-\($0 % 3)", "login", $0 % 10 == 0 ? "high" : "low", "event \($0)")
        })
        let first = try await server.run(["events", "ingest", keyed, "--key-from-line", "--batch-size", "7"])
        #expect(first.stdoutText.hasPrefix("accepted 30, duplicates 0, rejected 0, alerts created 3"), "\(first.stdoutText)")
        let text = try String(contentsOfFile: keyed, encoding: .utf8)
        let second = try await server.run(["--json", "events", "ingest", "-", "--key-from-line"], stdin: text)
        #expect(second.status == 0, "\(second.stderrText)")
        let summary = try #require(try VigilctlServer.objects(second).first)
        #expect(summary["accepted"] as? Int == 0 && summary["duplicates"] as? Int == 30, "\(second.stdoutText)")
        #expect(summary["alertsCreated"] as? Int == 0 && (summary["rejected"] as? [Any])?.isEmpty == true)

        let stats = try #require(try VigilctlServer.objects(try await server.run(["--json", "stats"])).first)
        #expect(stats["totalEvents"] as? String == "33", "stored once each: \(stats)")
        #expect(stats["totalAlerts"] as? String == "5")
        let table = try await server.run(["stats"])
        #expect(table.stdoutText.hasPrefix("events 33, alerts 5"), "\(table.stdoutText)")

        let missing = try await server.run(["events", "ingest", server.directory.file("nope.jsonl")])
        #expect(missing.status == 2 && missing.stderrText.contains("cannot read"), "\(missing.stderrText)")
    }

    @Test("events list filters, orders, pages with --all, and events get shows one event")
    func listAndGet() async throws {
        let server = try await VigilctlServer(prefix: "vigilctl-list")
        try await server.loginAdmin()
        let severities = ["low", "medium", "high", "critical"]
        let lines = (0..<23).map { index in
            #"{"source_name":"src-\#(index % 2)","event_type":"type-\#(index % 3)","severity":"\#(severities[index % 4])","#
                + #""description":"event \#(index)","occurred_at":"2026-01-01T00:00:\#(String(format: "%02d", index))Z"}"#
        }
        let ingest = try await server.run(["events", "ingest", try server.file("many.jsonl", lines: lines)])
        #expect(ingest.stdoutText.hasPrefix("accepted 23,"), "\(ingest.stdoutText)")

        func list(_ arguments: [String]) async throws -> [[String: Any]] {
            let result = try await server.run(["--json", "events", "list"] + arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderrText)")
            return try VigilctlServer.objects(result)
        }
        #expect(try await list([]).count == 20, "one default page")
        #expect(try await list(["--limit", "5"]).count == 5)
        let all = try await list(["--limit", "5", "--all"])
        #expect(all.count == 23)
        #expect(Set(all.compactMap { $0["id"] as? String }).count == 23, "every page brings new events")
        let high = try await list(["--severity", "high,CRITICAL", "--all"])
        #expect(high.count == 11 && high.allSatisfy { ["SEVERITY_HIGH", "SEVERITY_CRITICAL"].contains($0["severity"] as? String) })
        let source = try await list(["--source", "src-1", "--type", "type-0", "--all"])
        #expect(source.count == 4 && source.allSatisfy { $0["sourceName"] as? String == "src-1" && $0["eventType"] as? String == "type-0" })
        let window = try await list(["--since", "2026-01-01T00:00:05Z", "--until", "2026-01-01T00:00:10Z"])
        #expect(window.compactMap { $0["description"] as? String }.sorted()
                == ["event 5", "event 6", "event 7", "event 8", "event 9"])
        let oldest = try await list(["--order", "occurred_at", "--limit", "1"])
        #expect(oldest.first?["occurredAt"] as? String == "2026-01-01T00:00:00Z")
        let newest = try await list(["--order", "-occurred_at", "--limit", "1"])
        #expect(newest.first?["occurredAt"] as? String == "2026-01-01T00:00:22Z")
        #expect(try await list(["--order", "severity", "--limit", "1"]).first?["severity"] as? String == "SEVERITY_LOW")
        #expect(try await list(["--order", "-severity", "--limit", "1"]).first?["severity"] as? String == "SEVERITY_CRITICAL")

        let table = try await server.run(["events", "list", "--limit", "4", "--all", "--source", "src-0"])
        let rows = table.stdoutText.split(separator: "\n")
        #expect(rows.first?.hasPrefix("ID") == true && rows.count == 13, "one header, 12 rows: \(table.stdoutText)")

        let critical = try #require(try await list(["--severity", "critical", "--limit", "1"]).first)
        let id = try #require(critical["id"] as? String)
        let get = try await server.run(["--json", "events", "get", id])
        let response = try #require(try VigilctlServer.objects(get).first)
        let event = try #require(response["event"] as? [String: Any])
        #expect(event["id"] as? String == id && event["submittedByUsername"] as? String == "admin")
        #expect((response["alertId"] as? String).flatMap(Int64.init) ?? 0 > 0, "a critical event raised an alert")
        let shown = try await server.run(["events", "get", id])
        #expect(shown.stdoutText.contains("critical") && shown.stdoutText.contains(critical["description"] as? String ?? "?"))
    }
}
