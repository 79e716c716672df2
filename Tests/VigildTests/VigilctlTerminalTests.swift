// `vigilctl login` without --password-stdin on a real terminal: tmux gives it a pseudo-terminal, the test waits for
// the prompt, types the password as a person would, and checks the login worked and the password never appeared on
// the screen (getpass turned echo off).
import Foundation
import Testing
import VigilTesting

@Suite(.serialized) struct VigilctlTerminalTests {
    @Test(
        "login prompts on the terminal and reads the password without echo",
        .enabled(if: Subprocess.which("tmux") != nil)
    )
    func passwordPrompt() async throws {
        let server = try await VigilctlServer(prefix: "vigilctl-terminal")
        let tmux = try #require(Subprocess.which("tmux"))
        let socket = "vigil-test-\(getpid())"
        func tmuxRun(_ arguments: [String]) async throws -> ProcessResult {
            try await Subprocess.runOnThread(tmux, ["-L", socket] + arguments)
        }
        defer { _ = try? Subprocess.run(tmux, ["-L", socket, "kill-server"]) }
        let command = [
            "env", "VIGIL_SERVER=127.0.0.1:\(server.port)", "VIGIL_CA=\(server.directory.file("data/tls/cert.pem"))",
            "VIGIL_CONFIG_DIR=\(server.directory.file("config"))", VigilctlServer.binary, "login", "--username", "admin",
        ].map { "'\($0)'" }.joined(separator: " ")
        let started = try await tmuxRun(
            ["new-session", "-d", "-x", "200", "-y", "20", "sh", "-c", "\(command); echo EXIT=$?; sleep 60"])
        try #require(started.status == 0, "\(started.stderrText)")
        func screen() async throws -> String { try await tmuxRun(["capture-pane", "-p"]).stdoutText }

        try await eventually("the password prompt", timeout: .seconds(30), every: .milliseconds(50)) {
            try await screen().contains("Password:")
        }
        let typed = try await tmuxRun(["send-keys", VigilctlServer.adminPassword, "Enter"])
        #expect(typed.status == 0)
        try await eventually("vigilctl to exit", timeout: .seconds(30), every: .milliseconds(50)) {
            try await screen().contains("EXIT=")
        }
        let shown = try await screen()
        #expect(shown.contains("logged in to 127.0.0.1:\(server.port) as admin"), "\(shown)")
        #expect(shown.contains("EXIT=0"), "\(shown)")
        #expect(!shown.contains(VigilctlServer.adminPassword), "the password was echoed: \(shown)")
        #expect(try await server.run(["whoami"]).stdoutText.contains("admin"))
    }
}
