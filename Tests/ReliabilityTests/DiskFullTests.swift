// The CI-sized storage-failure runs (issue #8, docs/RELIABILITY.md): vigil-crashtest puts vigild's data directory
// on a small tmpfs it mounts, then fills it (disk-full) or restarts vigild on a read-only remount (read-only).
// Ingest must be refused with UNAVAILABLE and nothing acked that is not stored; once space (or write access)
// returns, ingest must continue, the indexer catch up by itself, and vigild never have died.
// Mounting needs root (CI runs as root); where a tmpfs cannot be mounted the tests are skipped, with that reason.
import Foundation
import Testing
import VigilTesting

@Suite(.serialized) struct DiskFullTests {
    /// Whether this machine lets the tests mount a tmpfs: root, and a probe mount that works.
    static let canMount: Bool = {
        guard let mount = Subprocess.which("mount"), let umount = Subprocess.which("umount") else { return false }
        let directory = NSTemporaryDirectory() + "vigil-mount-probe-\(UInt32.random(in: 0...UInt32.max))"
        guard (try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)) != nil
        else { return false }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard let probe = try? Subprocess.run(mount, ["-t", "tmpfs", "-o", "size=1m", "tmpfs", directory]),
            probe.status == 0
        else { return false }
        _ = try? Subprocess.run(umount, [directory])
        return true
    }()

    static func run(_ scenario: String) async throws -> (status: Int32, line: String, stderr: String) {
        let result = try await Subprocess.runOnThread(
            ReliabilityTools.path("vigil-crashtest"),
            [
                "--scenario", scenario, "--vigild", ReliabilityTools.path("vigild"), "--tmpfs-mib", "24", "--timeout",
                "150",
            ])
        let line = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        print(line)
        return (result.status, line, String(result.stderrText.suffix(2_000)))
    }

    @Test(
        "a full disk: ingest refused UNAVAILABLE, nothing unstored acked, everything resumes when space returns",
        .enabled(if: Self.canMount, "needs root and a mountable tmpfs (CI runs as root)"))
    func diskFull() async throws {
        let run = try await Self.run("disk-full")
        #expect(run.status == 0, "vigil-crashtest exited \(run.status): \(run.line) \(run.stderr)")
        #expect(run.line.hasPrefix("disk-full:") && run.line.hasSuffix(": PASS"), "\(run.line)")
    }

    @Test(
        "a read-only database: nothing acked while read-only, ingest resumes once writable",
        .enabled(if: Self.canMount, "needs root and a mountable tmpfs (CI runs as root)"))
    func readOnly() async throws {
        let run = try await Self.run("read-only")
        #expect(run.status == 0, "vigil-crashtest exited \(run.status): \(run.line) \(run.stderr)")
        #expect(run.line.hasPrefix("read-only:") && run.line.hasSuffix(": PASS"), "\(run.line)")
    }
}
