// `vigilbench codec`: encode and decode throughput of an EventBatch of realistic events on one core. Each run
// repeats the operation for a fixed time; the median of several runs is reported, because the machine's cores
// are shared and noisy.
import Foundation
import VigilAPI
import VigilWire

struct CodecBenchmark {
    static let usage = """
        usage: vigilbench codec [--events N] [--runs R] [--seconds S | --operations K] [--json FILE]
          --events N      events per batch (default 1000)
          --runs R        measured runs; the median is reported (default 5)
          --seconds S     duration of each run and operation (default 1)
          --operations K  instead of a duration, exactly K encodes and K decodes per run (for callgrind, whose
                          instruction counts are repeatable only when the work is)
          --json FILE     also write the figures as JSON
        """

    struct Result {
        var eventsPerSecond: Double
        var megabytesPerSecond: Double
    }

    let events: Int
    let runs: Int
    let seconds: Double
    let operations: Int?
    let jsonPath: String?

    init(_ options: CommandLineOptions) throws(UsageError) {
        try options.rejectUnknown(["events", "runs", "seconds", "operations", "json"])
        self.events = try options.int("events", default: 1000, range: 1...1_000_000)
        self.runs = try options.int("runs", default: 5, range: 1...100)
        self.seconds = try options.double("seconds", default: 1)
        self.operations = options.string("operations") == nil
            ? nil : try options.int("operations", default: 1, range: 1...10_000_000)
        self.jsonPath = options.string("json")
    }

    func run() throws {
        var samples = SampleEvents(seed: 42)
        let batch = samples.batch(sequence: 1, count: self.events)
        let bytes = batch.serializedBytes()
        guard try EventBatch(serializedBytes: bytes) == batch else {
            throw UsageError("decoded batch differs from the encoded one")
        }
        let eventBytes = Double(bytes.count) / Double(self.events)
        print(String(format: "batch: %d events, %d bytes (%.1f bytes/event)", self.events, bytes.count, eventBytes))

        var encodes: [Result] = []
        var decodes: [Result] = []
        var sink = 0
        for run in 1...self.runs {
            let encode = self.measure(bytesPerOperation: bytes.count) { sink &+= batch.serializedBytes().count }
            let decode = try self.measure(bytesPerOperation: bytes.count) {
                sink &+= try EventBatch(serializedBytes: bytes).events.count
            }
            encodes.append(encode)
            decodes.append(decode)
            print(String(
                format: "run %d: encode %.2fM events/s (%.0f MB/s), decode %.2fM events/s (%.0f MB/s)",
                run, encode.eventsPerSecond / 1e6, encode.megabytesPerSecond,
                decode.eventsPerSecond / 1e6, decode.megabytesPerSecond
            ))
        }
        let encode = Self.median(encodes)
        let decode = Self.median(decodes)
        print(String(
            format: "median of %d: encode %.2fM events/s (%.0f MB/s), decode %.2fM events/s (%.0f MB/s)  [%d]",
            self.runs, encode.eventsPerSecond / 1e6, encode.megabytesPerSecond,
            decode.eventsPerSecond / 1e6, decode.megabytesPerSecond, sink & 1
        ))
        if let jsonPath {
            let json = """
                {"encode_events_per_s": \(Int(encode.eventsPerSecond)), \
                "decode_events_per_s": \(Int(decode.eventsPerSecond)), \
                "encode_mb_per_s": \(Self.rounded(encode.megabytesPerSecond)), \
                "decode_mb_per_s": \(Self.rounded(decode.megabytesPerSecond)), \
                "events_per_batch": \(self.events), "bytes_per_event": \(Self.rounded(eventBytes)), "runs": \(self.runs)}

                """
            try json.write(toFile: jsonPath, atomically: true, encoding: .utf8)
        }
    }

    private func measure(bytesPerOperation: Int, _ operation: () throws -> Void) rethrows -> Result {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start.advanced(by: .milliseconds(Int(self.seconds * 1000)))
        var operations = 0
        var now = start
        if let fixed = self.operations {
            for _ in 0..<fixed { try operation() }
            operations = fixed
            now = clock.now
        }
        while self.operations == nil && now < deadline {
            for _ in 0..<8 { try operation() }
            operations += 8
            now = clock.now
        }
        let elapsed = start.duration(to: now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Result(
            eventsPerSecond: Double(operations * self.events) / seconds,
            megabytesPerSecond: Double(operations * bytesPerOperation) / seconds / 1e6
        )
    }

    private static func median(_ results: [Result]) -> Result {
        let events = results.map(\.eventsPerSecond).sorted()
        let megabytes = results.map(\.megabytesPerSecond).sorted()
        return Result(eventsPerSecond: events[events.count / 2], megabytesPerSecond: megabytes[megabytes.count / 2])
    }

    private static func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
}
