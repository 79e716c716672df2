// The end of a load run, shared by ingest, list and mixed: the summary on stdout, `--json FILE` for machines,
// `--html FILE` for people, and `--compare BASELINE.json` against an earlier run's JSON (exit status 1 when the
// throughput dropped or p99 rose by more than `--tolerance` percent).
import Foundation

struct ReportOptions {
    static let names: Set<String> = ["json", "html", "compare", "tolerance", "warmup"]
    static let usage = """
          --warmup S           seconds run before measuring (default 0)
          --json FILE          also write the figures as JSON
          --html FILE          also write a self-contained HTML page with charts
          --compare FILE       compare with an earlier run's JSON; exit 1 on a regression
          --tolerance PCT      allowed throughput drop / p99 rise for --compare (default 10)
        """

    let jsonPath: String?
    let htmlPath: String?
    let comparePath: String?
    let tolerance: Double
    let warmup: Double

    init(_ options: CommandLineOptions) throws(UsageError) {
        self.jsonPath = options.string("json")
        self.htmlPath = options.string("html")
        self.comparePath = options.string("compare")
        self.tolerance = try options.double("tolerance", default: 10)
        if let text = options.string("warmup") {
            guard let value = Double(text), value >= 0 else { throw UsageError("--warmup must be >= 0 seconds") }
            self.warmup = value
        } else {
            self.warmup = 0
        }
    }
}

/// `--compare` found a regression: main exits with status 1 after the report was printed and written.
struct RegressionError: Error, CustomStringConvertible {
    let description: String
}

/// A finished run's figures. `figures` holds the command's own keys; `errors`, `latency_ms` (of `recorder`'s
/// histogram) and `timeline` are added here.
struct Report {
    var command: String
    var figures: [String: Any]
    var recorder: Recorder
    /// The key of the throughput figure that --compare checks first (events_per_s or calls_per_s).
    var throughputKey: String
    /// Extra series for the HTML page, e.g. find-max's (offered rate, achieved rate, p99) steps.
    var curve: [(offered: Double, achieved: Double, p99: Double)] = []
    /// Further SVG charts for the HTML page (mixed: ingest, logins, server memory).
    var extraCharts: [String] = []

    var json: [String: Any] {
        let state = self.recorder.snapshot
        var object = self.figures
        object["command"] = self.command
        object["errors"] = state.errors
        object["error_count"] = state.errors.values.reduce(0, +)
        object["latency_ms"] = state.histogram.summary
        object["timeline"] = state.seconds.map { second in
            [
                "t": (second.t * 1000).rounded() / 1000, "ops_per_s": second.ops, "events_per_s": second.events,
                "errors": second.errors, "p50": second.p50, "p90": second.p90, "p99": second.p99, "max": second.max,
            ] as [String: Any]
        }
        if !self.curve.isEmpty {
            object["curve"] = self.curve.map {
                ["offered_per_s": $0.offered, "achieved_per_s": $0.achieved, "p99": $0.p99]
            }
        }
        return object
    }

    /// Prints the latency and error lines, writes the files asked for, then compares (which may throw).
    func finish(_ options: ReportOptions) throws {
        let state = self.recorder.snapshot
        print("latency: \(state.histogram.summaryLine) (\(state.histogram.total) samples)")
        let errors = state.errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        print("errors: \(errors.isEmpty ? "none" : errors.joined(separator: ", "))")
        let json = self.json
        if let path = options.jsonPath {
            let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: path))
        }
        if let path = options.htmlPath {
            let page = HTMLReport(title: "vigilbench \(self.command)", report: self, state: state).page
            try page.write(toFile: path, atomically: true, encoding: .utf8)
        }
        if let path = options.comparePath {
            let baseline = try Self.load(path)
            let (lines, regressions) = Self.compare(json, baseline: baseline, tolerance: options.tolerance)
            print("compared with \(path) (tolerance \(options.tolerance)%):")
            for line in lines { print("  \(line)") }
            if !regressions.isEmpty {
                throw RegressionError(
                    description: "regression past \(options.tolerance)%: \(regressions.joined(separator: ", "))")
            }
        }
    }

    static func load(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw UsageError("\(path) does not hold a JSON object")
        }
        return object
    }

    /// The change of each throughput figure and of p99 (and p50, p99.9 for information) against `baseline`; the
    /// names of the figures that moved the wrong way by more than `tolerance` percent.
    static func compare(
        _ current: [String: Any], baseline: [String: Any], tolerance: Double
    ) -> (lines: [String], regressions: [String]) {
        func number(_ object: [String: Any], _ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }
        var lines: [String] = []
        var regressions: [String] = []
        func line(_ name: String, _ old: Double, _ new: Double, higherIsBetter: Bool, checked: Bool) {
            let change = old == 0 ? (new == 0 ? 0 : Double.infinity) : (new - old) / old * 100
            let worse = higherIsBetter ? -change : change
            let regressed = checked && worse > tolerance
            let padded = name.padding(toLength: max(22, name.count), withPad: " ", startingAt: 0)
            lines.append(
                padded + String(format: " %12.3f -> %12.3f  %+7.1f%%", old, new, change)
                    + (regressed ? "  REGRESSION" : ""))
            if regressed { regressions.append(name) }
        }
        for key in ["events_per_s", "calls_per_s", "list_calls_per_s"] {
            if let old = number(baseline, key), let new = number(current, key) {
                line(key, old, new, higherIsBetter: true, checked: true)
            }
        }
        if let old = baseline["latency_ms"] as? [String: Any], let new = current["latency_ms"] as? [String: Any] {
            for key in ["p50", "p99", "p999"] {
                if let a = number(old, key), let b = number(new, key) {
                    line("latency_ms.\(key)", a, b, higherIsBetter: false, checked: key == "p99")
                }
            }
        }
        if lines.isEmpty { lines.append("no figures in common") }
        return (lines, regressions)
    }
}
