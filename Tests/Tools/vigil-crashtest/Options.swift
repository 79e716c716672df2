// Command-line options of vigil-crashtest (`--help` prints them).
import Foundation

struct Options {
    enum Scenario: String, CaseIterable {
        case crash
        case diskFull = "disk-full"
        case readOnly = "read-only"
    }

    var vigild = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("vigild").path
    var scenarios: [Scenario] = [.crash]
    var kills = 20
    var streams = 4
    var connections = 2
    var batchSize = 100
    var maxUnacked = 16
    var minIntervalMs = 300
    var maxIntervalMs = 1_500
    var seed: UInt64 = UInt64.random(in: 0...999_999)
    var dataDirectory: String?
    var timeoutSeconds = 600
    var eventsPerStream = 0
    var tmpfsMiB = 32
    var headroomMiB = 3
    var keep = false

    static let usage = """
        usage: vigil-crashtest [--scenario crash|disk-full|read-only|all] [--vigild PATH] [options]
          crash:      --kills N (20) --streams N (4) --connections N (2) --batch N (100) --max-unacked N (16)
                      --min-interval-ms N (300) --max-interval-ms N (1500) --events-per-stream N (0: no cap)
          disk-full:  --tmpfs-mib N (32) --headroom-mib N (3)   (needs root: mounts a tmpfs)
          read-only:  --tmpfs-mib N (32)                         (needs root: mounts a tmpfs, remounts it ro)
          all:        --seed N (random) --data-dir DIR (crash only; default a new temporary one) --timeout S (600)
                      --keep (keep temporary directories)
        Prints one line per scenario ending in PASS, FAIL or SKIP; exits 0 when all passed (or skipped: 77 when
        every scenario was skipped), 1 on a FAIL, 2 on bad usage.
        """

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var iterator = arguments.makeIterator()
        func value(_ flag: String) throws -> String {
            guard let value = iterator.next() else { throw System.Failure(description: "\(flag) needs a value") }
            return value
        }
        func number(_ flag: String) throws -> Int {
            let text = try value(flag)
            guard let number = Int(text), number >= 0 else {
                throw System.Failure(description: "\(flag) needs a non-negative number, not \(text)")
            }
            return number
        }
        while let argument = iterator.next() {
            switch argument {
            case "--vigild": options.vigild = try value(argument)
            case "--scenario":
                let name = try value(argument)
                if name == "all" {
                    options.scenarios = Scenario.allCases
                } else if let scenario = Scenario(rawValue: name) {
                    options.scenarios = [scenario]
                } else {
                    throw System.Failure(description: "unknown scenario \(name)")
                }
            case "--kills": options.kills = try number(argument)
            case "--streams": options.streams = max(1, try number(argument))
            case "--connections": options.connections = max(1, try number(argument))
            case "--batch": options.batchSize = max(1, try number(argument))
            case "--max-unacked": options.maxUnacked = max(1, try number(argument))
            case "--min-interval-ms": options.minIntervalMs = try number(argument)
            case "--max-interval-ms": options.maxIntervalMs = try number(argument)
            case "--seed": options.seed = UInt64(try number(argument))
            case "--data-dir": options.dataDirectory = try value(argument)
            case "--timeout": options.timeoutSeconds = max(1, try number(argument))
            case "--events-per-stream": options.eventsPerStream = try number(argument)
            case "--tmpfs-mib": options.tmpfsMiB = max(4, try number(argument))
            case "--headroom-mib": options.headroomMiB = max(1, try number(argument))
            case "--keep": options.keep = true
            case "--help", "-h":
                print(Self.usage)
                System.exit(0)
            default: throw System.Failure(description: "unknown option \(argument)")
            }
        }
        options.maxIntervalMs = max(options.maxIntervalMs, options.minIntervalMs)
        return options
    }
}

/// SplitMix64: a tiny seeded generator, so `--seed` repeats a run's kill schedule.
struct SeededRandom: RandomNumberGenerator {
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
