// Realistic ingest traffic for benchmarks: 1,000 distinct sources, 64 event types, a quarter HIGH or CRITICAL,
// descriptions of 64 to 96 bytes, so an event encodes to about 130 bytes as agents' events do, and `occurred_at`
// within the last minute, as a live agent reports what just happened. The spread matters to storage: the list
// indexes are ordered by occurred_at, so events from a whole day in random order scatter every index insert over
// the whole index (the worst case, a backfill in random order: `--occurred-spread 86400`), while live events land
// at the end of each source's range.
import Foundation
import VigilAPI

struct SampleEvents {
    private static let categories = ["auth", "edr", "fim", "net", "dns", "proc", "web", "cloud"]
    private static let actions = [
        "login_failed", "privilege_escalation", "file_modified", "port_scan", "blocked", "started", "anomaly",
        "policy_violation",
    ]
    private static let words = [
        "suspicious", "process", "spawned", "by", "user", "root", "from", "203.0.113.7", "connection", "to",
        "port", "443", "denied", "hash", "mismatch", "on", "/etc/passwd", "after", "failed", "attempts",
    ]

    /// How the traffic looks: distinct sources, distinct event types (at most 64), description bytes (the
    /// shortest; up to 32 more), and the percentages of LOW, MEDIUM, HIGH and CRITICAL (summing to 100).
    struct Shape: Sendable {
        var sources = 1000
        var types = 64
        var descriptionBytes = 64
        var severityMix = [40, 35, 20, 5]
        /// `occurred_at` is now minus up to this many seconds, uniformly.
        var occurredSpread = 60
    }

    private var generator: SystemRandomNumberGeneratorSeeded
    private let shape: Shape

    init(seed: UInt64, shape: Shape = Shape()) {
        self.generator = SystemRandomNumberGeneratorSeeded(seed: seed)
        self.shape = shape
    }

    /// The source and type names a shape's traffic uses (for list filters that match it).
    static func sourceName(_ index: UInt64) -> String { "host-\(index).dc\(index % 4)" }
    static func eventType(_ index: UInt64) -> String {
        "\(Self.categories[Int(index / 8)]).\(Self.actions[Int(index % 8)])"
    }

    mutating func next() -> Event {
        var event = Event()
        let source = self.generator.next() % UInt64(self.shape.sources)
        event.sourceName = Self.sourceName(source)
        // Two draws as before (category, action), so the default shape makes the same events as it always did.
        let category = self.generator.next() % 8
        let action = self.generator.next() % 8
        event.eventType = Self.eventType((category * 8 + action) % UInt64(self.shape.types))
        let mix = self.shape.severityMix
        switch Int(self.generator.next() % 100) {
        case ..<mix[0]: event.severity = .low
        case ..<(mix[0] + mix[1]): event.severity = .medium
        case ..<(mix[0] + mix[1] + mix[2]): event.severity = .high
        default: event.severity = .critical
        }
        let target = self.shape.descriptionBytes + Int(self.generator.next() % 33)
        var description = ""
        while description.utf8.count < target {
            if !description.isEmpty { description += " " }
            description += Self.words[Int(self.generator.next() % UInt64(Self.words.count))]
        }
        event.description = String(description.utf8.prefix(target)) ?? description
        let spreadNanoseconds = UInt64(self.shape.occurredSpread) * 1_000_000_000
        let back = spreadNanoseconds == 0 ? 0 : Int64(self.generator.next() % spreadNanoseconds)
        let occurred = Int64(Date().timeIntervalSince1970 * 1e9) - back
        event.occurredAt = Timestamp(seconds: occurred / 1_000_000_000, nanos: Int32(occurred % 1_000_000_000))
        return event
    }

    mutating func batch(sequence: UInt64, count: Int) -> EventBatch {
        var batch = EventBatch()
        batch.sequence = sequence
        batch.events = (0..<count).map { _ in self.next() }
        return batch
    }
}

extension SampleEvents.Shape {
    static let names: Set<String> = ["sources", "types", "event-size", "severity-mix", "occurred-spread"]
    static let usage = """
          --sources N          distinct source names (default 1000)
          --types N            distinct event types, at most 64 (default 64)
          --event-size B       shortest description in bytes, up to 32 more (default 64: events of ~130 bytes)
          --severity-mix L,M,H,C  percentages of LOW, MEDIUM, HIGH, CRITICAL (default 40,35,20,5)
          --occurred-spread S  occurred_at up to S seconds before now (default 60: live agents; 86400 scatters
                               a day in random order, a backfill's worst case for the time-ordered indexes)
        """

    init(_ options: CommandLineOptions) throws(UsageError) {
        self.init()
        self.sources = try options.int("sources", default: 1000, range: 1...10_000_000)
        self.types = try options.int("types", default: 64, range: 1...64)
        self.descriptionBytes = try options.int("event-size", default: 64, range: 1...60_000)
        self.occurredSpread = try options.int("occurred-spread", default: 60, range: 0...315_360_000)
        if let text = options.string("severity-mix") {
            let parts = text.split(separator: ",").compactMap { Int($0) }
            guard parts.count == 4, parts.allSatisfy({ $0 >= 0 }), parts.reduce(0, +) == 100 else {
                throw UsageError("--severity-mix must be four percentages summing to 100, e.g. 40,35,20,5")
            }
            self.severityMix = parts
        }
    }

    /// The flags that make this shape again (mixed hands its shape to the ingest it runs).
    var arguments: [String] {
        [
            "--sources", "\(self.sources)", "--types", "\(self.types)", "--event-size", "\(self.descriptionBytes)",
            "--severity-mix", self.severityMix.map(String.init).joined(separator: ","),
            "--occurred-spread", "\(self.occurredSpread)",
        ]
    }
}

/// SplitMix64: deterministic so every run measures the same bytes.
struct SystemRandomNumberGeneratorSeeded: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
