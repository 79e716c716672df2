// What every load subcommand (ingest, list, mixed) records while it runs, in one place: a histogram of the
// measured window (after --warmup), per-second slices of it (throughput and percentiles over time, for the live
// line and the HTML charts), and errors counted by status code name. A failed call or batch is counted here and the
// run goes on; only setup errors (connect, log in, create the agent) end a run.
import Foundation
import VigilClient
import Synchronization

final class Recorder: Sendable {
    /// One second of the run, kept as figures (not as a histogram) so a long run stays small.
    struct Second: Sendable {
        var t: Double  // seconds since the measured window began
        var ops = 0
        var events = 0
        var errors = 0
        var p50 = 0.0, p90 = 0.0, p99 = 0.0, max = 0.0  // milliseconds
    }

    struct State: Sendable {
        var histogram = LatencyHistogram()
        var ops = 0
        var events = 0
        var bytes = 0
        var errors: [String: Int] = [:]
        var slice = LatencyHistogram()
        var sliceOps = 0
        var sliceEvents = 0
        var sliceErrors = 0
        var seconds: [Second] = []
        var lastTick: ContinuousClock.Instant? = nil
        var stoppedAt: ContinuousClock.Instant? = nil
    }

    let name: String
    let start: ContinuousClock.Instant
    let measureFrom: ContinuousClock.Instant
    let state = Mutex(State())

    /// Samples after `measureUntil` are left out (mixed: ingest acks and logins after the list window closed).
    let measureUntil: ContinuousClock.Instant?

    init(name: String, warmup: Double, start: ContinuousClock.Instant = .now, duration: Double? = nil) {
        self.name = name
        self.start = start
        let measureFrom = start + .milliseconds(Int(warmup * 1000))
        self.measureFrom = measureFrom
        self.measureUntil = duration.map { measureFrom + .milliseconds(Int($0 * 1000)) }
    }

    var warmingUp: Bool { ContinuousClock.now < self.measureFrom }

    /// One successful call or batch: `events` it carried (0 for calls without events), its latency.
    func record(latency: Duration, events: Int = 0, bytes: Int = 0, at now: ContinuousClock.Instant = .now) {
        guard now >= self.measureFrom, self.measureUntil.map({ now <= $0 }) ?? true else { return }
        self.state.withLock { state in
            state.histogram.record(latency)
            state.slice.record(latency)
            state.ops += 1
            state.sliceOps += 1
            state.events += events
            state.sliceEvents += events
            state.bytes += bytes
        }
    }

    /// A failed call or batch (or a rejected event), by status code name; errors in the warmup count too.
    func recordError(_ code: String, count: Int = 1) {
        self.state.withLock { state in
            state.errors[code, default: 0] += count
            state.sliceErrors += count
        }
    }

    func recordError(_ error: any Error) { self.recordError(Self.codeName(error)) }

    /// The status code name of an error thrown by VigilClient (`UNAVAILABLE`); `CLIENT_ERROR` for anything else.
    static func codeName(_ error: any Error) -> String {
        if let name = VigilClient.statusName(of: error) { return name }
        if error is CancellationError { return "CANCELLED" }
        return "CLIENT_ERROR"
    }

    /// Closes the current second: appends it to the timeline and returns it (nil during the warmup).
    @discardableResult
    func tick(now: ContinuousClock.Instant = .now) -> Second? {
        self.state.withLock { state in
            let from = max(state.lastTick ?? self.measureFrom, self.measureFrom)
            state.lastTick = now
            guard now > self.measureFrom else {
                state.slice = LatencyHistogram()
                state.sliceOps = 0
                state.sliceEvents = 0
                state.sliceErrors = 0
                return nil
            }
            let span = max(from.duration(to: now).seconds, 1e-3)
            var second = Second(t: self.measureFrom.duration(to: now).seconds)
            second.ops = Int((Double(state.sliceOps) / span).rounded())
            second.events = Int((Double(state.sliceEvents) / span).rounded())
            second.errors = state.sliceErrors
            func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
            second.p50 = rounded(state.slice.milliseconds(0.5))
            second.p90 = rounded(state.slice.milliseconds(0.9))
            second.p99 = rounded(state.slice.milliseconds(0.99))
            second.max = rounded(Double(state.slice.maximum) / 1e6)
            state.seconds.append(second)
            state.slice = LatencyHistogram()
            state.sliceOps = 0
            state.sliceEvents = 0
            state.sliceErrors = 0
            return second
        }
    }

    /// Prints a line to stderr each second until cancelled: throughput, p99 so far, errors so far.
    /// `extra` adds to each line (mixed: the ingest rate and logins of the same second).
    func startLiveLine(unit: String = "calls", extra: (@Sendable () -> String)? = nil) -> Task<Void, Never> {
        Task.detached {
            // Whole seconds of the warmup, then whole seconds of the measured window, so each slice is a full second.
            var next = min(self.start + .seconds(1), self.measureFrom + .seconds(1))
            while !Task.isCancelled {
                try? await Task.sleep(until: next, clock: .continuous)
                if Task.isCancelled { break }
                let elapsed = self.start.duration(to: .now).seconds
                if next <= self.measureFrom {
                    next += .seconds(1)
                    if next > self.measureFrom { next = self.measureFrom + .seconds(1) }
                    Self.stderr(self.name + String(format: " %5.1fs warming up", elapsed))
                    continue
                }
                next += .seconds(1)
                guard let second = self.tick() else { continue }
                let (p99, errors) = self.state.withLock {
                    ($0.histogram.milliseconds(0.99), $0.errors.values.reduce(0, +))
                }
                let rate = unit == "events" ? second.events : second.ops
                Self.stderr(
                    self.name + String(format: " %5.1fs %8d ", elapsed, rate) + unit
                        + String(format: "/s  p99 %.3f ms (so far %.3f)  errors %d", second.p99, p99, errors)
                        + (extra.map { "  " + $0() } ?? ""))
            }
        }
    }

    /// Ends the measured window: the last partial second goes to the timeline.
    func stop(at stop: ContinuousClock.Instant = .now) {
        let now = self.measureUntil.map { min($0, stop) } ?? stop
        let last = self.state.withLock { $0.lastTick } ?? self.measureFrom
        if now > self.measureFrom, last.duration(to: now) > .milliseconds(100) { self.tick(now: now) }
        self.state.withLock { $0.stoppedAt = now }
    }

    /// Seconds of the measured window (from the end of the warmup to `stop`).
    var measuredSeconds: Double {
        let end = self.state.withLock { $0.stoppedAt } ?? .now
        return max(self.measureFrom.duration(to: end).seconds, 1e-3)
    }

    var snapshot: State { self.state.withLock { $0 } }

    static func stderr(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}

extension LatencyHistogram {
    func milliseconds(_ fraction: Double) -> Double { Double(self.percentile(fraction)) / 1e6 }

    /// p50, p90, p99, p99.9, p99.99 and max in milliseconds, the keys `--json` and `--compare` use.
    var summary: [String: Double] {
        func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
        return [
            "p50": rounded(self.milliseconds(0.5)), "p90": rounded(self.milliseconds(0.9)),
            "p99": rounded(self.milliseconds(0.99)), "p999": rounded(self.milliseconds(0.999)),
            "p9999": rounded(self.milliseconds(0.9999)), "max": rounded(Double(self.maximum) / 1e6),
            "count": Double(self.total),
        ]
    }

    var summaryLine: String {
        String(
            format: "p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  p99.99 %.3f  max %.3f ms", self.milliseconds(0.5),
            self.milliseconds(0.9), self.milliseconds(0.99), self.milliseconds(0.999), self.milliseconds(0.9999),
            Double(self.maximum) / 1e6)
    }
}
