// `--watch-pid PID`: the server's resident memory and open descriptors, read from /proc once a second during a run,
// so a soak shows whether either grows (a leak) while load is steady. Only for a server on this machine; the
// figures land in the report's `server` object and the HTML page.
import Foundation
import Synchronization

final class ServerWatch: Sendable {
    struct Sample: Sendable {
        var t: Double  // seconds since the measured window began
        var rssMiB: Double
        var descriptors: Int
    }

    let pid: Int32
    private let start: ContinuousClock.Instant
    private let samples = Mutex<[Sample]>([])
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Starts sampling now; `start` is the instant the report's timeline counts from.
    init(pid: Int32, start: ContinuousClock.Instant) throws(UsageError) {
        self.pid = pid
        self.start = start
        guard Self.read(pid) != nil else { throw UsageError("--watch-pid: no process \(pid) readable in /proc") }
        let task = Task { [weak self] in
            while !Task.isCancelled, let self {
                self.sample()
                try? await Task.sleep(for: .seconds(1))
            }
        }
        self.task.withLock { $0 = task }
    }

    func stop() {
        self.task.withLock { $0?.cancel() }
        self.sample()
    }

    var all: [Sample] { self.samples.withLock { $0 } }

    private func sample() {
        guard let (rss, descriptors) = Self.read(self.pid) else { return }
        let t = self.start.duration(to: .now) / .seconds(1)
        self.samples.withLock { $0.append(Sample(t: t, rssMiB: rss, descriptors: descriptors)) }
    }

    /// VmRSS in MiB and the number of entries in /proc/PID/fd, or nil when the process is gone.
    static func read(_ pid: Int32) -> (Double, Int)? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap({ Double($0) }),
            let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
        else { return nil }
        return (kib / 1024, descriptors)
    }

    /// Growth is judged from the end of the warm-up (`after` seconds), when caches and pools have filled.
    func figures(after warmup: Double) -> [String: Any] {
        let samples = self.all
        let steady = samples.filter { $0.t >= warmup }
        func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
        guard let first = samples.first, let last = samples.last, let settled = steady.first ?? samples.last else {
            return ["pid": self.pid, "samples": 0]
        }
        return [
            "pid": self.pid, "samples": samples.count,
            "rss_mib": [
                "start": rounded(first.rssMiB), "after_warmup": rounded(settled.rssMiB), "end": rounded(last.rssMiB),
                "max": rounded(samples.map(\.rssMiB).max() ?? 0),
                "growth_after_warmup": rounded(last.rssMiB - settled.rssMiB),
            ] as [String: Any],
            "fds": [
                "start": first.descriptors, "after_warmup": settled.descriptors, "end": last.descriptors,
                "max": samples.map(\.descriptors).max() ?? 0,
            ] as [String: Any],
            "timeline": samples.map { ["t": rounded($0.t), "rss_mib": rounded($0.rssMiB), "fds": $0.descriptors] },
        ]
    }

    func summaryLine(after warmup: Double) -> String {
        let figures = self.figures(after: warmup)
        guard let rss = figures["rss_mib"] as? [String: Any], let fds = figures["fds"] as? [String: Any] else {
            return "server \(self.pid): no samples"
        }
        return "server \(self.pid): RSS \(rss["start"] ?? 0) -> \(rss["after_warmup"] ?? 0) (after warm-up) -> "
            + "\(rss["end"] ?? 0) MiB, max \(rss["max"] ?? 0); fds \(fds["start"] ?? 0) -> \(fds["after_warmup"] ?? 0) -> "
            + "\(fds["end"] ?? 0), max \(fds["max"] ?? 0) (\(figures["samples"] ?? 0) samples)"
    }
}
