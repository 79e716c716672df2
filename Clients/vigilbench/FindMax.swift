// `vigilbench ingest --find-max --slo-p99 MS`: the saturation point. Runs ingest at a fixed arrival rate (latency
// from the intended send time) for --stage seconds, raises the rate by --step, and stops at the first stage whose
// p99 passes the SLO, which had errors, or which achieved less than 90 % of its offered rate. Reports the highest
// rate within the SLO (or --max-rate, when that passed), with every stage in the curve (JSON `curve`, and a chart
// in --html).
import Foundation
import VigilAPI
import VigilClient

struct FindMax {
    let sloP99: Double
    let startRate: Double
    let step: Double
    let stage: Double
    let maxRate: Double?
    static let maximumStages = 40

    init(_ options: CommandLineOptions) throws(UsageError) {
        self.sloP99 = try options.double("slo-p99", default: 50)
        self.startRate = try options.double("start-rate", default: 1000)
        self.step = try options.double("step", default: 1.5)
        guard self.step > 1 else { throw UsageError("--step must be above 1") }
        self.stage = try options.double("stage", default: 3)
        self.maxRate = options.string("max-rate") == nil ? nil : try options.double("max-rate", default: 0)
    }

    func run(_ bench: IngestBenchmark, clients: [VigilClient], pools: [[Event]]) async throws -> Report {
        var curve: [(offered: Double, achieved: Double, p99: Double)] = []
        var best: (rate: Double, achieved: Double, recorder: Recorder)? = nil
        var last: Recorder? = nil
        var rate = self.startRate
        for _ in 0..<Self.maximumStages {
            let recorder = Recorder(name: "find-max \(Int(rate))/s", warmup: bench.report.warmup)
            let live = recorder.startLiveLine(unit: "events")
            _ = await bench.measure(
                clients, pools: pools, recorder: recorder, rate: rate, events: nil, duration: self.stage)
            live.cancel()
            recorder.stop()
            last = recorder
            let state = recorder.snapshot
            let achieved = Double(state.events) / recorder.measuredSeconds
            let p99 = state.histogram.milliseconds(0.99)
            let errors = state.errors.values.reduce(0, +)
            curve.append((rate, (achieved * 10).rounded() / 10, (p99 * 1000).rounded() / 1000))
            let within = p99 <= self.sloP99 && errors == 0 && achieved >= rate * 0.9
            print(
                String(
                    format: "find-max: offered %.0f/s achieved %.0f/s p99 %.3f ms errors %d ", rate, achieved, p99,
                    errors)
                    + (within ? "within SLO" : "past SLO"))
            guard within else { break }
            best = (rate, achieved, recorder)
            if let maxRate = self.maxRate, rate >= maxRate { break }
            rate = min(rate * self.step, self.maxRate ?? .infinity)
        }
        let recorder = best?.recorder ?? last ?? Recorder(name: "find-max", warmup: 0)
        if let best {
            print(String(format: "find-max: highest rate with p99 <= %.3f ms: %.0f events/s", self.sloP99, best.rate))
        } else {
            print(String(format: "find-max: even %.0f events/s passes p99 %.3f ms", self.startRate, self.sloP99))
        }
        let figures: [String: Any] = [
            "connections": bench.connections, "streams": bench.streams, "batch": bench.batch,
            "slo_p99_ms": self.sloP99, "max_events_per_s": best?.rate ?? 0,
            "max_rate_reached": best != nil && best?.rate == self.maxRate,
            "events_per_s": ((best?.achieved ?? 0) * 10).rounded() / 10, "stage_s": self.stage,
        ]
        var report = Report(
            command: "ingest --find-max", figures: figures, recorder: recorder, throughputKey: "events_per_s")
        report.curve = curve
        return report
    }
}
