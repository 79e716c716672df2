// vigild as the tool runs it: on 127.0.0.1 and a fixed port (a restarted server must come back where the clients
// re-dial), a data directory that outlives every life, a known admin password, one log file per life. The tool
// kills it with SIGKILL and starts it again; anything else that ends it (a crash, an exit) is a finding, which
// `diedOnItsOwn` reports.
import Foundation
import Synchronization
import VigilClient
import VigilPOSIX

final class Vigild: Sendable {
    static let password = "crash test admin password"

    let binary: String
    let dataDirectory: String
    let logDirectory: String
    let port: UInt16
    let extraArguments: [String]
    private let state = Mutex<(pid: Int32?, lives: Int, diedOnItsOwn: [String])>((nil, 0, []))

    var ca: String { self.dataDirectory + "/tls/cert.pem" }
    var lives: Int { self.state.withLock { $0.lives } }
    var isRunning: Bool { self.state.withLock { $0.pid != nil } }
    var pid: Int32? { self.state.withLock { $0.pid } }

    init(binary: String, dataDirectory: String, logDirectory: String, extraArguments: [String] = []) throws {
        self.binary = binary
        self.dataDirectory = dataDirectory
        self.logDirectory = logDirectory
        self.extraArguments = extraArguments
        self.port = try Self.freePort()
    }

    static func freePort() throws -> UInt16 {
        let socket = try Socket.listening(on: SocketAddress.ipv4Loopback(port: 0))
        defer { try? socket.close() }
        return try socket.localAddress().port
    }

    func logPath(life: Int) -> String { "\(self.logDirectory)/vigild-\(life).log" }

    /// Starts a new life; returns without waiting for it to serve (see `waitUntilServing`).
    func start() throws {
        let life = self.state.withLock { state in
            state.lives += 1
            return state.lives
        }
        let pid = try System.spawn(
            self.binary,
            ["--data-dir", self.dataDirectory, "--listen", "127.0.0.1:\(self.port)", "--event-loops", "1"]
                + self.extraArguments,
            environment: ["VIGIL_ADMIN_PASSWORD": Self.password],
            outputPath: self.logPath(life: life))
        Watchdog.register(pid: pid)
        self.state.withLock { $0.pid = pid }
    }

    /// Polls a health check until the server answers, or throws after `timeout`; also throws at once when the
    /// process exited meanwhile.
    func waitUntilServing(timeout: Duration = .seconds(60)) async throws {
        let end = ContinuousClock.now + timeout
        while true {
            if let died = self.checkAlive() { throw System.Failure(description: died) }
            do {
                let client = try await VigilClient.connect(
                    host: "127.0.0.1", port: self.port, caFile: self.ca, defaultTimeout: .seconds(5))
                do {
                    _ = try await client.healthCheck()
                } catch {
                    await client.close()
                    throw error
                }
                await client.close()
                return
            } catch {
                if ContinuousClock.now > end {
                    throw System.Failure(description: "vigild did not serve within \(timeout): \(error)")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// nil while the current life runs (or none was started); otherwise what ended it, recorded as a finding.
    @discardableResult
    func checkAlive() -> String? {
        self.state.withLock { state in
            guard let pid = state.pid, let status = System.exitStatus(pid) else { return nil }
            Watchdog.unregister(pid: pid)
            state.pid = nil
            let finding = "vigild life \(state.lives) ended on its own with status \(status)"
            state.diedOnItsOwn.append(finding)
            return finding
        }
    }

    var deaths: [String] { self.state.withLock { $0.diedOnItsOwn } }

    /// Returns the recorded deaths and forgets them: for a death the caller expected (a refusal to start).
    func takeDeaths() -> [String] {
        self.state.withLock { state in
            defer { state.diedOnItsOwn = [] }
            return state.diedOnItsOwn
        }
    }

    /// SIGKILL and reap. Returns false when the process had already ended on its own (a finding, recorded).
    @discardableResult
    func killHard() -> Bool {
        if self.checkAlive() != nil { return false }
        guard let pid = self.state.withLock({ $0.pid }) else { return true }
        System.signal(pid, System.killSignal)
        _ = System.wait(pid)
        Watchdog.unregister(pid: pid)
        self.state.withLock { $0.pid = nil }
        return true
    }

    /// SIGTERM (a graceful drain); returns the exit status, SIGKILLing after `timeout`.
    func stop(timeout: Duration = .seconds(30)) async -> Int32 {
        guard let pid = self.state.withLock({ $0.pid }) else { return -1 }
        System.signal(pid, System.terminateSignal)
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if let status = System.exitStatus(pid) {
                Watchdog.unregister(pid: pid)
                self.state.withLock { $0.pid = nil }
                return status
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        System.signal(pid, System.killSignal)
        let status = System.wait(pid)
        Watchdog.unregister(pid: pid)
        self.state.withLock { $0.pid = nil }
        return status
    }

    /// The log of one life (the current one by default).
    func log(life: Int? = nil) -> String {
        (try? String(contentsOfFile: self.logPath(life: life ?? self.lives), encoding: .utf8)) ?? ""
    }

    /// Every life's log, concatenated.
    func allLogs() -> String {
        (1...max(self.lives, 1)).map { self.log(life: $0) }.joined()
    }

    /// A connected, authenticated client (retrying until the server answers).
    func client(timeout: Duration = .seconds(60)) async throws -> VigilClient {
        let end = ContinuousClock.now + timeout
        while true {
            do {
                let client = try await VigilClient.connect(
                    host: "127.0.0.1", port: self.port, caFile: self.ca, defaultTimeout: .seconds(30))
                do {
                    _ = try await client.authenticate(username: "admin", password: Self.password)
                } catch {
                    await client.close()
                    throw error
                }
                return client
            } catch {
                if ContinuousClock.now > end { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
