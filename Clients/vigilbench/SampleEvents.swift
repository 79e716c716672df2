// Realistic ingest traffic for benchmarks: 1,000 distinct sources, 64 event types, a quarter HIGH or CRITICAL,
// descriptions of 64 to 96 bytes, so an event encodes to about 130 bytes as agents' events do.
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

    private var generator: SystemRandomNumberGeneratorSeeded

    init(seed: UInt64) { self.generator = SystemRandomNumberGeneratorSeeded(seed: seed) }

    mutating func next() -> Event {
        var event = Event()
        let source = self.generator.next() % 1000
        event.sourceName = "host-\(source).dc\(source % 4)"
        let category = Self.categories[Int(self.generator.next() % 8)]
        event.eventType = "\(category).\(Self.actions[Int(self.generator.next() % 8)])"
        switch self.generator.next() % 100 {
        case 0..<40: event.severity = .low
        case 40..<75: event.severity = .medium
        case 75..<95: event.severity = .high
        default: event.severity = .critical
        }
        let target = 64 + Int(self.generator.next() % 33)
        var description = ""
        while description.utf8.count < target {
            if !description.isEmpty { description += " " }
            description += Self.words[Int(self.generator.next() % UInt64(Self.words.count))]
        }
        event.description = String(description.utf8.prefix(target)) ?? description
        var occurred = Timestamp()
        occurred.seconds = 1_764_000_000 + Int64(self.generator.next() % 86_400)
        occurred.nanos = Int32(self.generator.next() % 1_000_000_000)
        event.occurredAt = occurred
        return event
    }

    mutating func batch(sequence: UInt64, count: Int) -> EventBatch {
        var batch = EventBatch()
        batch.sequence = sequence
        batch.events = (0..<count).map { _ in self.next() }
        return batch
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
