// 1 GiB streamed by one process into another that reads slowly (it is stopped with SIGSTOP twice mid-stream):
// flow control makes the sender wait instead of buffering, so neither process's memory grows with the bytes sent.
// The in-process test of the same mechanism (`RPCTransportTests.slowReaderBoundsMemory`) bounds the server's buffer
// exactly; this one checks what an operator sees, the resident memory of two real processes.
import Foundation
import Glibc
import Testing
import VigilTesting

@Suite(.serialized) struct SlowReaderMemoryTests {
    /// Enough that the stream is still running at the second pause: even a debug build sinks ~450 MB/s here, so
    /// 256 MiB (the figure) once ended before it.
    static let streamedBytes = 1 << 30
    /// Either process may grow this much: a sixteenth of what is streamed, and far above a few windows' worth.
    static let growthBound = 64.0

    @Test("1 GiB sent to a server that stops reading keeps both processes' RSS growth under 64 MiB")
    func slowReaderBoundsBothProcesses() async throws {
        let server = try await RunningVigild(prefix: "slow-reader")
        defer { server.stop() }
        _ = try await server.adminClient()
        let serverBefore = try #require(Self.residentMiB(server.pid))

        let output = server.directory.file("sink.json")
        let sender = ChildProcess()
        sender.executableURL = URL(fileURLWithPath: ReliabilityTools.path("vigilbench"))
        sender.arguments = [
            "echo", "--mode", "sink", "--message-size", "65536", "--total-bytes", "\(Self.streamedBytes)",
            "--duration", "300", "--warmup", "0", "--json", output, "--server", "127.0.0.1:\(server.port)",
            "--ca", server.caFile, "--username", "admin", "--password-env", "SLOW_READER_PASSWORD",
        ]
        sender.environment = ["SLOW_READER_PASSWORD": RunningVigild.adminPassword]
        sender.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try sender.run()
        defer { if sender.isRunning { sender.terminate() } }

        var senderPeak = 0.0
        var senderFirst: Double?
        var serverPeak = serverBefore
        var pauses = 0
        let start = ContinuousClock.now
        while sender.isRunning {
            let elapsed = (ContinuousClock.now - start) / .seconds(1)
            try #require(elapsed < 240, "the 1 GiB took over 4 minutes")
            // Twice, once the stream is running: the reader stops reading for a second and a half, at 1 s and
            // again half a second after it resumed.
            if pauses < 2, elapsed > 1 + 2 * Double(pauses) {
                kill(server.pid, SIGSTOP)
                try await Task.sleep(for: .milliseconds(1500))
                if let rss = Self.residentMiB(sender.processIdentifier) { senderPeak = max(senderPeak, rss) }
                kill(server.pid, SIGCONT)
                pauses += 1
            }
            if let rss = Self.residentMiB(sender.processIdentifier) {
                if senderFirst == nil, elapsed > 0.5 { senderFirst = rss }
                senderPeak = max(senderPeak, rss)
            }
            if let rss = Self.residentMiB(server.pid) { serverPeak = max(serverPeak, rss) }
            try await Task.sleep(for: .milliseconds(100))
        }
        print("slow reader: sender RSS \(senderFirst ?? 0) -> \(senderPeak) MiB, server \(serverBefore) -> \(serverPeak) MiB")
        #expect(sender.terminationStatus == 0, "vigilbench sink failed")
        let figures = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output))) as? [String: Any])
        let sent = (figures["sent_bytes"] as? NSNumber)?.intValue ?? 0
        #expect(sent >= Self.streamedBytes, "sent \(sent) bytes")
        #expect(pauses == 2, "the stream ended before the reader paused twice")
        #expect(server.isRunning)

        let senderGrowth = senderPeak - (senderFirst ?? senderPeak)
        #expect(senderGrowth < Self.growthBound, "sender RSS \(senderFirst ?? 0) -> peak \(senderPeak) MiB")
        #expect(serverPeak - serverBefore < Self.growthBound, "server RSS \(serverBefore) -> peak \(serverPeak) MiB")
    }

    /// VmRSS of `pid` in MiB, or nil once it is gone.
    static func residentMiB(_ pid: Int32) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return nil }
        return kib / 1024
    }
}
