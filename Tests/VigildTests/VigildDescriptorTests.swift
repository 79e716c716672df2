// vigild under a tight open-files limit: a flood of connections must not take its last descriptors, which SQLite and
// Dispatch need at any moment (Dispatch's pool monitor traps the whole process when it cannot open /proc files).
import Foundation
import Testing
import VigilAPI
import VigilClient
import VigilPOSIX
import VigilTesting

extension VigildServeTests {
    /// What `TCPServer.Configuration.descriptorReserve` defaults to, and vigild keeps.
    static let descriptorReserve = 64

    @Test("a connection flood under a low open-files limit leaves vigild its reserve of descriptors; it serves after")
    func descriptorReserveKept() async throws {
        let directory = try TemporaryDirectory(prefix: "vigild-fds")
        // A handshake timeout longer than the test, so the flood holds its descriptors however slow the machine is.
        let (process, port, stderr) = try await Self.start(in: directory, extraArguments: ["--handshake-timeout", "120"])
        defer { if process.isRunning { process.terminate() } }
        let pid = process.processIdentifier
        func openDescriptors() -> Int {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
        }
        let limit = openDescriptors() + 100
        // As an operator would, on the running process (vigild reads the soft limit on every accept).
        let set = try Subprocess.run("/usr/bin/prlimit", ["--pid", "\(pid)", "--nofile=\(limit):\(limit)"])
        #expect(set.status == 0, "\(set.stderrText)")
        let ceiling = limit - Self.descriptorReserve

        // More plain TCP connections than the limit allows; none sends a byte, so each holds its descriptor until
        // the handshake timeout.
        var flood: [Socket] = []
        for _ in 0..<150 { flood.append(try Socket.connecting(to: .ipv4Loopback(port: port)).0) }
        var most = 0
        for _ in 0..<20 {
            most = max(most, openDescriptors())
            try await Task.sleep(for: .milliseconds(50))
        }
        // Accepted sockets stay below the ceiling; the reserve above it serves vigild's own brief opens (Dispatch
        // reading /proc, SQLite), a few of which the sampling may catch.
        #expect(most <= ceiling + 8, "vigild held \(most) descriptors of \(limit), reserve \(Self.descriptorReserve)")
        #expect(most >= ceiling - 8, "the flood filled vigild up to its reserve: \(most) of \(limit)")
        let refused = try? await Self.connect(port: port, ca: directory.file("data/tls/cert.pem"), timeout: .zero)
        #expect(refused == nil, "a newcomer is refused while the reserve is all that is left")
        await refused?.close()

        for socket in flood { try? socket.close() }
        let client = try await Self.connect(port: port, ca: directory.file("data/tls/cert.pem"))
        #expect(try await client.healthCheck() == .serving)
        await client.close()
        #expect(process.isRunning)
        _ = try await Self.stop(process, stderr)
    }
}
