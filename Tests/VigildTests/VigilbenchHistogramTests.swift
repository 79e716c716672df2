// vigilbench's own pieces without a server: the HDR-style histogram against exact percentiles of random data, and
// `--compare`'s verdicts. The executable target is importable from this test target (SwiftPM renames its entry
// point), so these test the very code the tool runs.
import Foundation
import Testing
import VigilRPC

@testable import vigilbench

@Suite struct VigilbenchHistogramTests {
    /// Exact percentile as the histogram defines it: the smallest sample with at least `fraction` of all at or below.
    static func exact(_ sorted: [UInt64], _ fraction: Double) -> UInt64 {
        sorted[max(1, Int((Double(sorted.count) * fraction).rounded(.up))) - 1]
    }

    @Test("percentiles of random data are within the histogram's relative error of the exact ones")
    func accuracy() {
        var random = SystemRandomNumberGeneratorSeeded(seed: 7)
        for shape in ["log-uniform", "uniform", "bimodal"] {
            var histogram = LatencyHistogram()
            var samples: [UInt64] = []
            for _ in 0..<50_000 {
                let unit = Double(random.next() >> 11) / Double(1 << 53)
                let value: UInt64 =
                    switch shape {
                    case "log-uniform": UInt64(pow(10, 1 + unit * 9))  // 10 ns ... 10 s
                    case "uniform": UInt64(unit * 5_000_000)  // 0 ... 5 ms
                    default: unit < 0.99 ? 200_000 + random.next() % 100_000 : 80_000_000 + random.next() % 40_000_000
                    }
                samples.append(value)
                histogram.record(nanoseconds: value)
            }
            samples.sort()
            #expect(histogram.total == 50_000)
            #expect(histogram.maximum == samples.last)
            for fraction in [0.0, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0] {
                let exact = Self.exact(samples, fraction)
                let measured = histogram.percentile(fraction)
                let bound = Double(exact) * LatencyHistogram.relativeError + 1
                #expect(
                    abs(Double(measured) - Double(exact)) <= bound,
                    "\(shape) p\(fraction * 100): \(measured) vs exact \(exact)")
            }
        }
    }

    @Test("memory is constant: the bucket array does not grow with the range or count of samples")
    func constantMemory() {
        var histogram = LatencyHistogram()
        let buckets = histogram.bucketCounts.count
        for value in [0, 1, 63, 64, 1_000, 1_000_000_000, UInt64.max / 2, UInt64.max] as [UInt64] {
            histogram.record(nanoseconds: value)
        }
        for _ in 0..<10_000 { histogram.record(.milliseconds(3)) }
        #expect(histogram.bucketCounts.count == buckets)
        #expect(buckets < 4096)
        #expect(histogram.percentile(1.0) == UInt64.max)
        #expect(histogram.percentile(0.0) == 0)
        var merged = LatencyHistogram()
        merged.merge(histogram)
        #expect(merged.total == histogram.total && merged.percentile(0.5) == histogram.percentile(0.5))
        #expect(histogram.buckets.map(\.count).reduce(0, +) == histogram.total)
    }

    @Test("--compare flags a throughput drop or a p99 rise past the tolerance, and nothing within it")
    func compare() {
        let baseline: [String: Any] = ["events_per_s": 1000.0, "latency_ms": ["p50": 1.0, "p99": 10.0]]
        let same = Report.compare(baseline, baseline: baseline, tolerance: 10)
        #expect(same.regressions.isEmpty)
        let slower: [String: Any] = ["events_per_s": 850.0, "latency_ms": ["p50": 1.0, "p99": 10.5]]
        #expect(Report.compare(slower, baseline: baseline, tolerance: 10).regressions == ["events_per_s"])
        #expect(Report.compare(slower, baseline: baseline, tolerance: 20).regressions.isEmpty)
        let later: [String: Any] = ["events_per_s": 1200.0, "latency_ms": ["p50": 5.0, "p99": 12.0]]
        #expect(Report.compare(later, baseline: baseline, tolerance: 10).regressions == ["latency_ms.p99"])
    }

    @Test("error names come from the status code of a client error")
    func errorNames() {
        #expect(Recorder.codeName(RPCError(code: .unavailable, message: "gone")) == "UNAVAILABLE")
        #expect(Recorder.codeName(RPCError(code: .resourceExhausted, message: "busy")) == "RESOURCE_EXHAUSTED")
        #expect(Recorder.codeName(CancellationError()) == "CANCELLED")
        #expect(Recorder.codeName(UsageError("x")) == "CLIENT_ERROR")
    }
}
