// The CI-sized crash-safety run (issue #8, docs/RELIABILITY.md): vigil-crashtest SIGKILLs a real vigild 20 times
// at random moments, 200-800 ms apart, while 4 ingest sessions stream, and checks the database file afterwards.
// It fails when an acknowledged event is missing, an event is stored twice, a HIGH/CRITICAL event has no alert or
// two, or vigild ends by itself. The seed is printed with the result line, so a failure can be replayed with
// `vigil-crashtest --seed N` and the same intervals. The long run (more kills, longer intervals) is documented in
// docs/RELIABILITY.md.
import Foundation
import Testing
import VigilTesting

@Suite(.serialized) struct CrashSafetyTests {
    @Test("20 SIGKILLs during ingest: every acked event stored once, one alert per HIGH/CRITICAL event")
    func twentyKills() async throws {
        let seed = UInt64.random(in: 0...999_999)
        let result = try await Subprocess.runOnThread(
            ReliabilityTools.path("vigil-crashtest"),
            [
                "--scenario", "crash", "--vigild", ReliabilityTools.path("vigild"), "--kills", "20", "--streams", "4",
                "--connections", "2", "--batch", "100", "--max-unacked", "16", "--min-interval-ms", "200",
                "--max-interval-ms", "800", "--seed", "\(seed)", "--timeout", "150",
            ])
        let line = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        print(line)
        #expect(
            result.status == 0, "vigil-crashtest exited \(result.status): \(line) \(result.stderrText.suffix(2_000))")
        #expect(line.hasPrefix("crash: 20 kills") && line.hasSuffix(": PASS"), "\(line)")
    }
}
