// Shared by the reliability tests: where the built tools are, and a real vigild in a temporary directory.
import Foundation
import VigilClient
import VigilPOSIX
import VigilTesting

enum ReliabilityTools {
    /// A program built next to the test bundle (vigild, vigil-crashtest, vigil-hostile).
    static func path(_ name: String) -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }
}

/// A vigild process serving `directory/data` on a free loopback port, with a known admin password.
final class RunningVigild: Sendable {
    static let adminPassword = "correct horse battery staple"

    let directory: TemporaryDirectory
    let port: UInt16
    private let process: ChildProcess

    var caFile: String { self.directory.file("data/tls/cert.pem") }
    var dataDirectory: String { self.directory.file("data") }
    var pid: Int32 { self.process.processIdentifier }
    var isRunning: Bool { self.process.isRunning }

    /// Starts vigild and returns once it answers a health check. A port found free can be taken by another test's
    /// socket before vigild binds it (CI once had this test's client reach another test's server and refuse its
    /// certificate), so a vigild that exits before serving is started again on another port, three times at most.
    init(prefix: String, arguments: [String] = []) async throws {
        self.directory = try TemporaryDirectory(prefix: prefix)
        var attempt = 0
        while true {
            attempt += 1
            let socket = try Socket.listening(on: SocketAddress.ipv4Loopback(port: 0))
            let port = try socket.localAddress().port
            try socket.close()
            let process = ChildProcess()
            process.executableURL = URL(fileURLWithPath: ReliabilityTools.path("vigild"))
            process.arguments = ["--data-dir", self.directory.file("data"), "--listen", "127.0.0.1:\(port)"] + arguments
            process.environment = ["VIGIL_ADMIN_PASSWORD": Self.adminPassword]
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            if try await Self.serves(process, port: port, caFile: self.directory.file("data/tls/cert.pem"))
                || attempt == 3
            {
                self.port = port
                self.process = process
                return
            }
        }
    }

    /// Waits until `process` answers a health check on `port` (true), or exits first (false).
    private static func serves(_ process: ChildProcess, port: UInt16, caFile: String) async throws -> Bool {
        let end = ContinuousClock.now + .seconds(60)
        while process.isRunning && ContinuousClock.now < end {
            if let client = try? await VigilClient.connect(host: "127.0.0.1", port: port, caFile: caFile) {
                let answered = (try? await client.healthCheck()) != nil
                await client.close()
                if answered { return true }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return process.isRunning
    }

    /// A client that has seen the server answer a health check (vigild takes a moment to start).
    func client(timeout: Duration = .seconds(60)) async throws -> VigilClient {
        let end = ContinuousClock.now + timeout
        while true {
            do {
                let client = try await VigilClient.connect(host: "127.0.0.1", port: self.port, caFile: self.caFile)
                _ = try await client.healthCheck()
                return client
            } catch {
                if ContinuousClock.now > end || !self.process.isRunning { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// A client logged in as the bootstrap admin.
    func adminClient() async throws -> VigilClient {
        let client = try await self.client()
        try await client.authenticate(username: "admin", password: Self.adminPassword)
        return client
    }

    func stop() {
        if self.process.isRunning { self.process.terminate() }
        self.process.waitUntilExit()
    }

    deinit { if self.process.isRunning { self.process.terminate() } }
}
