// The CI-sized hostile-client run (issue #8 item 3, docs/RELIABILITY.md): a real vigild with small limits, and
// `vigil-hostile all` against it with short attacks. Fails when the server dies, an offender is not answered as
// docs/PROTOCOL.md says, the well-behaved client measured beside each attack sees an error, or the server's memory
// grows past the bound.
//
// The memory bound: RSS may grow by at most 64 MiB during one attack. What an attack is entitled to make vigild
// hold is small and known: 100 streams x 64 KiB stream window (6.25 MiB) plus the 1 MiB connection window for the
// stream hog, 64 handshaking connections x two 256 KiB TLS buffers (32 MiB at worst) for the connection flood, and
// a few MiB of malloc arenas that glibc keeps after a burst. A real leak is not subtle at these rates: a PONG queue
// that nobody drains grows by ~17 bytes x 100k PINGs/s, and rapid reset without a limit starts thousands of handler
// tasks a second, so either passes 64 MiB within the attack's seconds.
import Foundation
import Testing
import VigilClient
import VigilPOSIX
import VigilTesting

@Suite(.serialized) struct HostileClientTests {
    static let password = "correct horse battery staple"

    static func freePort() throws -> UInt16 {
        let socket = try Socket.listening(on: SocketAddress.ipv4Loopback(port: 0))
        defer { try? socket.close() }
        return try socket.localAddress().port
    }

    /// Waits until vigild answers a health check over TLS (its certificate exists by then).
    static func waitUntilServing(_ port: UInt16, ca: String, _ process: ChildProcess) async throws {
        let end = ContinuousClock.now + .seconds(30)
        while process.isRunning {
            do {
                let client = try await VigilClient.connect(host: "127.0.0.1", port: port, caFile: ca)
                _ = try await client.healthCheck(timeout: .seconds(5))
                await client.close()
                return
            } catch {
                if ContinuousClock.now > end { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        Issue.record("vigild exited before serving")
    }

    @Test("vigild survives every hostile client, answers each as documented, and keeps serving a good one")
    func allAttacks() async throws {
        let directory = try TemporaryDirectory(prefix: "vigil-hostile")
        let port = try Self.freePort()
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: ReliabilityTools.path("vigild"))
        process.arguments = [
            "--data-dir", directory.file("data"), "--listen", "127.0.0.1:\(port)", "--max-connections", "32",
            "--handshake-timeout", "2",
        ]
        process.environment = ["VIGIL_ADMIN_PASSWORD": Self.password]
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        try await Self.waitUntilServing(port, ca: directory.file("data/tls/cert.pem"), process)

        // vigil-hostile reads the password from its environment (posix_spawn passes ours on), never argv.
        setenv("VIGIL_HOSTILE_PASSWORD", Self.password, 1)
        let start = ContinuousClock.now
        let result = try await Subprocess.runOnThread(
            ReliabilityTools.path("vigil-hostile"),
            [
                "all", "--server", "127.0.0.1:\(port)", "--ca", directory.file("data/tls/cert.pem"), "--pid",
                "\(process.processIdentifier)", "--username", "admin", "--password-env", "VIGIL_HOSTILE_PASSWORD",
                "--seconds", "2", "--max-connections", "32", "--handshake-timeout", "2", "--rss-bound-mib", "64",
            ])
        let elapsed = ContinuousClock.now - start
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        #expect(result.status == 0, "\(result.stdoutText)\n\(result.stderrText)")
        let attacks = [
            "connection-flood", "slow-handshake", "stream-hog", "oversized", "ping-flood", "empty-frames",
            "window-update-flood", "settings-ack-flood", "rapid-reset", "window-starve", "garbage", "brute-force",
        ]
        for attack in attacks {
            let line = lines.first { $0.hasPrefix("\(attack):") }
            #expect(line?.hasSuffix(": PASS") == true, "\(attack): \(line ?? "no result line")")
        }
        // A guard against a hang, not a speed test: about 30 s alone, 109 s once under the whole suite's load on
        // this machine's 2 cores (clean-clone CI, every attack PASS), where the bound was 90 s.
        #expect(elapsed < .seconds(240), "the hostile run took \(elapsed)")
        #expect(process.isRunning, "vigild died under attack")

        // And it still shuts down cleanly.
        kill(process.processIdentifier, SIGTERM)
        let end = ContinuousClock.now + .seconds(30)
        while process.isRunning && ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        if !process.isRunning { #expect(process.terminationStatus == 0) }
        print(result.stdoutText)
    }
}
