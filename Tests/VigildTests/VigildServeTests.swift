// The real vigild serving the real client over loopback TLS: started with embedded defaults in a fresh directory,
// it answers health checks without a token, logs the first admin in, takes events, and drains and exits 0 on
// SIGTERM.
import Foundation
import Testing
import VigilAPI
import VigilClient
import VigilPOSIX
import VigilTesting

@Suite(.serialized) struct VigildServeTests {
    /// A port nobody listens on right now (bound, read, released).
    static func freePort() throws -> UInt16 {
        let socket = try Socket.listening(on: SocketAddress.ipv4Loopback(port: 0))
        defer { try? socket.close() }
        return try socket.localAddress().port
    }

    /// Connects until the server answers a health check, or fails after `timeout`.
    static func connect(port: UInt16, ca: String, timeout: Duration = .seconds(30)) async throws -> VigilClient {
        let end = ContinuousClock.now + timeout
        while true {
            do {
                let client = try await VigilClient.connect(host: "127.0.0.1", port: port, caFile: ca)
                _ = try await client.healthCheck()
                return client
            } catch {
                if ContinuousClock.now > end { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Starts vigild in `directory` (data in `directory/data`, so a second start finds the first one's state) on a
    /// free port with a known admin password, plus `extraArguments`, and waits until it answers a health check; the
    /// caller stops it. A port found free can be taken before vigild binds it (by any socket of the tests running
    /// beside this one: CI once saw vigild never listen), so a vigild that exits before serving is started again on
    /// another port, three times at most.
    static func start(
        in directory: TemporaryDirectory, extraArguments: [String] = [], environment: [String: String] = [:]
    ) async throws -> (process: ChildProcess, port: UInt16, stderr: Pipe) {
        var attempt = 0
        // A start in a fresh directory is retried in a fresh directory again, so the retry logs what a first start
        // logs (the admin it creates): a failed attempt may have created state before it exited.
        let fresh = !FileManager.default.fileExists(atPath: directory.file("data"))
        while true {
            attempt += 1
            if fresh && attempt > 1 { try? FileManager.default.removeItem(atPath: directory.file("data")) }
            let port = try Self.freePort()
            let process = ChildProcess()
            process.executableURL = URL(fileURLWithPath: VigildBinaryTests.binary)
            process.arguments =
                ["--data-dir", directory.file("data"), "--listen", "127.0.0.1:\(port)", "--event-loops", "1"]
                + extraArguments
            process.environment = environment.merging(["VIGIL_ADMIN_PASSWORD": "correct horse battery staple"]) { $1 }
            let stderr = Pipe()
            process.standardError = stderr
            try process.run()
            let end = ContinuousClock.now + .seconds(30)
            while process.isRunning && ContinuousClock.now < end {
                if let client = try? await VigilClient.connect(
                    host: "127.0.0.1", port: port, caFile: directory.file("data/tls/cert.pem"))
                {
                    let answered = (try? await client.healthCheck()) != nil
                    await client.close()
                    if answered { return (process, port, stderr) }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            if process.isRunning || attempt == 3 { return (process, port, stderr) }
        }
    }

    @Test("vigild serves the client over TLS with embedded defaults, then drains and exits 0 on SIGTERM")
    func serveAndDrain() async throws {
        let directory = try TemporaryDirectory(prefix: "vigild-serve")
        let (process, port, stderr) = try await Self.start(in: directory)
        defer { if process.isRunning { process.terminate() } }

        let client = try await Self.connect(port: port, ca: directory.file("data/tls/cert.pem"))
        #expect(try await client.healthCheck() == .serving)
        try await client.authenticate(username: "admin", password: "correct horse battery staple")
        #expect(try await client.whoAmI().user?.username == "admin")
        var event = Event()
        event.sourceName = "web-01"
        event.eventType = "ssh.login_failed"
        event.severity = .critical
        event.description = "5 failed logins"
        let summary = try await client.ingest([event, event])
        #expect(summary.accepted == 2 && summary.alertsCreated == 2)
        #expect(try await client.getStats().totalAlerts == 2)
        await client.close()

        let log = try await Self.stop(process, stderr)
        #expect(log.first("serving")?["address"] == "127.0.0.1:\(port)", "\(log.text)")
        #expect(log.first("draining")?["signals"]?.isEmpty == false, "\(log.text)")
        #expect(log.first("stopped") != nil, "\(log.text)")
        #expect(log.first("created admin")?["password_from"] == "VIGIL_ADMIN_PASSWORD")
        #expect(!log.text.contains("correct horse battery staple"), "a given password is never logged")
    }

    @Test(
        "vigild restarts itself once, in place, with a larger malloc thread cache; an operator's GLIBC_TUNABLES stays",
        arguments: [nil, "", "glibc.malloc.mxfast=0"])
    func mallocTunables(preset: String?) async throws {
        let directory = try TemporaryDirectory(prefix: "vigild-tunables")
        let (process, port, stderr) = try await Self.start(
            in: directory, environment: preset.map { ["GLIBC_TUNABLES": $0] } ?? [:])
        defer { if process.isRunning { process.terminate() } }
        // The process that serves is the one started: the restart is an exec, so the pid (and a supervisor's view
        // of it) does not change.
        let client = try await Self.connect(port: port, ca: directory.file("data/tls/cert.pem"))
        #expect(try await client.healthCheck() == .serving)
        await client.close()
        let environment = try String(contentsOfFile: "/proc/\(process.processIdentifier)/environ", encoding: .utf8)
            .split(separator: "\0").map(String.init)
        let tunables = environment.filter { $0.hasPrefix("GLIBC_TUNABLES=") }
        #expect(tunables == ["GLIBC_TUNABLES=" + (preset ?? "glibc.malloc.tcache_count=64")], "\(tunables)")
        _ = try await Self.stop(process, stderr)
    }

    @Test("password hashing threads run at --hashing-nice (0 by default), the rest of vigild at 0", arguments: [nil, 19])
    func hashingThreadsNiced(flag: Int?) async throws {
        let expected = flag ?? 0
        let directory = try TemporaryDirectory(prefix: "vigild-nice")
        let (process, port, stderr) = try await Self.start(
            in: directory, extraArguments: flag.map { ["--hashing-nice", "\($0)"] } ?? [])
        defer { if process.isRunning { process.terminate() } }
        let client = try await Self.connect(port: port, ca: directory.file("data/tls/cert.pem"))
        try await client.authenticate(username: "admin", password: "correct horse battery staple")
        await client.close()
        // Each thread names itself (and a hashing thread lowers itself) as it starts: give them a moment (up to 30 s
        // on a loaded machine; a clean-clone CI run once looked before the writer had named itself).
        var threads = Self.threadNiceValues(process.processIdentifier)
        var hashing = threads.filter { $0.name.hasPrefix("vigil-hash-") }
        func settled() -> Bool {
            hashing.count == 2 && hashing.allSatisfy { $0.nice == expected }
                && threads.contains { $0.name == "vigil-writer-0" }
                && threads.contains { $0.name == "vigil-indexer-0" }
        }
        for _ in 0..<600 where !settled() {
            try await Task.sleep(for: .milliseconds(50))
            threads = Self.threadNiceValues(process.processIdentifier)
            hashing = threads.filter { $0.name.hasPrefix("vigil-hash-") }
        }
        #expect(hashing.count == 2 && hashing.allSatisfy { $0.nice == expected }, "\(threads)")
        #expect(threads.contains { $0.name.hasPrefix("vigil-loop") && $0.nice == 0 }, "\(threads)")
        // The database threads show their names too (15 bytes at most, or Linux keeps "vigild"): perf and top -H.
        #expect(threads.contains { $0.name == "vigil-writer-0" && $0.nice == 0 }, "\(threads)")
        #expect(threads.filter { $0.name.hasPrefix("vigil-reader-") }.count == 2, "\(threads)")
        #expect(threads.contains { $0.name == "vigil-indexer-0" && $0.nice == 0 }, "\(threads)")
        _ = try await Self.stop(process, stderr)
    }

    /// Each thread's name and nice value (field 19 of /proc/PID/task/TID/stat).
    static func threadNiceValues(_ pid: Int32) -> [(name: String, nice: Int)] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.compactMap { task in
            guard let comm = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // After "pid (comm)" the state is field 3 and the nice value field 19.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 16, let nice = Int(fields[16]) else { return nil }
            return (comm.trimmingCharacters(in: .whitespacesAndNewlines), nice)
        }
    }

    /// Sends SIGTERM, waits (at most 30 s) for exit 0, and returns the process's log.
    static func stop(
        _ process: ChildProcess, _ stderr: Pipe, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> LogRecords {
        kill(process.processIdentifier, SIGTERM)
        let end = ContinuousClock.now + .seconds(30)
        while process.isRunning && ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning, sourceLocation: sourceLocation)
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        #expect(process.terminationStatus == 0, sourceLocation: sourceLocation)
        let text = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return LogRecords(text, sourceLocation: sourceLocation)
    }
}
