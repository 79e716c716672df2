// vigild's settings: one table of options, each settable as a flag (`--max-streams 200`, `--max-streams=200`) or
// as an environment variable (`VIGIL_MAX_STREAMS=200`), a flag winning over the environment and both over the
// default. The same table prints `vigild --help`, so the help can never disagree with what is parsed.
import Foundation
import VigilPOSIX
import VigilService

/// Everything `vigild serve` needs to start. Paths left nil are derived from the data directory.
struct Configuration: Sendable {
    var dataDirectory = "./vigil-data"
    var listen = SocketAddress.ipv4Loopback(port: 7443)
    var databasePath: String?
    var tlsCertificatePath: String?
    var tlsKeyPath: String?
    var tokenSecretPath: String?
    var accessTokenLifetime: Duration = .seconds(3600)
    var refreshTokenLifetime: Duration = .seconds(604_800)
    /// Days after which events whose alert is absent or resolved are deleted; 0 keeps everything.
    var retentionDays = 0
    /// Unindexed events past which indexing runs between ingest commits (docs/STORAGE.md).
    var indexTailMax = 100_000
    /// The same bound while no list has run for 2 s (only bursts pay for the tail then).
    var indexTailMaxWithoutLists = 200_000
    var indexSliceEvents = 100_000
    var walCheckpointPages = 1_000
    /// Nice value of the password-hashing threads (see Service.hashingPool).
    var hashingNice: Int32 = 0
    /// Share of one core password hashing may use while data RPCs are served (HashingPace.busyShare).
    var hashingShare = HashingPace().busyShare
    var maxConnections = 10_000
    var maxStreams = 100
    var maxMessageBytes = 4 * 1024 * 1024
    var handshakeTimeout: Duration = .seconds(10)
    var idleTimeout: Duration = .seconds(300)
    var eventLoops = max(1, ProcessInfo.processInfo.activeProcessorCount)

    var resolvedDatabasePath: String { self.databasePath ?? self.dataDirectory + "/vigil.db" }
    var resolvedCertificatePath: String { self.tlsCertificatePath ?? self.dataDirectory + "/tls/cert.pem" }
    var resolvedKeyPath: String { self.tlsKeyPath ?? self.dataDirectory + "/tls/key.pem" }
    var resolvedTokenSecretPath: String { self.tokenSecretPath ?? self.dataDirectory + "/token-secret" }
}

/// A refused command line or environment, said so the operator can fix it without reading code.
struct ConfigurationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One setting: its flag, the environment variable that may also set it, its help line and how it applies.
struct Option: Sendable {
    let name: String
    let valueName: String
    let help: String
    let apply: @Sendable (inout Configuration, String) throws -> Void

    var flag: String { "--" + self.name }
    var environmentName: String { "VIGIL_" + self.name.uppercased().replacingOccurrences(of: "-", with: "_") }
}

extension Option {
    static let all: [Option] = [
        Option(name: "data-dir", valueName: "DIR", help: "data directory (default ./vigil-data)") { $0.dataDirectory = $1 },
        Option(name: "listen", valueName: "HOST:PORT", help: "address to serve on (default 127.0.0.1:7443)") {
            guard let address = SocketAddress($1) else {
                throw ConfigurationError("--listen: \"\($1)\" is not HOST:PORT (IPv6 in brackets: [::1]:7443)")
            }
            $0.listen = address
        },
        Option(name: "db", valueName: "FILE", help: "SQLite database (default DATA/vigil.db)") { $0.databasePath = $1 },
        Option(name: "tls-cert", valueName: "FILE", help: "certificate chain, PEM (default DATA/tls/cert.pem, made on first start)") {
            $0.tlsCertificatePath = $1
        },
        Option(name: "tls-key", valueName: "FILE", help: "private key, PEM (default DATA/tls/key.pem)") { $0.tlsKeyPath = $1 },
        Option(name: "token-secret-file", valueName: "FILE", help: "token signing secret (default DATA/token-secret, made on first start)") {
            $0.tokenSecretPath = $1
        },
        Option(name: "access-ttl", valueName: "SECONDS", help: "access token lifetime (default 3600)") {
            $0.accessTokenLifetime = .seconds(try integer($1, "access-ttl", 60...86_400))
        },
        Option(name: "refresh-ttl", valueName: "SECONDS", help: "refresh token lifetime (default 604800)") {
            $0.refreshTokenLifetime = .seconds(try integer($1, "refresh-ttl", 300...31_536_000))
        },
        Option(name: "retention-days", valueName: "N", help: "delete events older than N days without an open alert; 0 keeps all (default 0)") {
            $0.retentionDays = try integer($1, "retention-days", 0...36_500)
        },
        Option(
            name: "hashing-nice", valueName: "N",
            help: "CPU priority of password hashing, 0 (as the rest) to 19 (lowest): higher keeps lists and ingest "
                + "fast during a login storm, and slows logins while the cores are busy (default 0)"
        ) {
            $0.hashingNice = Int32(try integer($1, "hashing-nice", 0...19))
        },
        Option(
            name: "hashing-share", valueName: "CORES",
            help: "CPU password hashing may take while other RPCs are served, in cores (0.05 to 2): lower keeps lists "
                + "and ingest faster during a login storm, higher lets logins through faster; 2 turns pacing off "
                + "(default 0.5)"
        ) {
            guard let share = Double($1), share >= 0.05, share <= 2 else {
                throw ConfigurationError("--hashing-share: \"\($1)\" is not a number of cores from 0.05 to 2")
            }
            $0.hashingShare = share
        },
        Option(
            name: "index-tail-max", valueName: "N",
            help: "unindexed events past which indexing interleaves with ingest while lists are being served: lower "
                + "keeps lists faster under load, higher acks longer bursts at full speed (default 100000)"
        ) {
            $0.indexTailMax = try integer($1, "index-tail-max", 1_000...10_000_000)
        },
        Option(
            name: "index-tail-max-idle", valueName: "N",
            help: "the same bound while no list has run for 2 s, when only bursts pay for a longer tail "
                + "(default 200000)"
        ) {
            $0.indexTailMaxWithoutLists = try integer($1, "index-tail-max-idle", 1_000...10_000_000)
        },
        Option(
            name: "index-slice-events", valueName: "N",
            help: "events indexed per slice: larger slices write less to disk per event and sustain more ingest, "
                + "smaller ones hold the writer (and the acks waiting for it) for less time (default 100000)"
        ) {
            $0.indexSliceEvents = try integer($1, "index-slice-events", 100...10_000_000)
        },
        Option(
            name: "wal-checkpoint-pages", valueName: "N",
            help: "WAL pages after which a commit checkpoints them into the database (SQLite's wal_autocheckpoint; "
                + "default 1000)"
        ) {
            $0.walCheckpointPages = try integer($1, "wal-checkpoint-pages", 100...10_000_000)
        },
        Option(name: "max-connections", valueName: "N", help: "connections served at once (default 10000)") {
            $0.maxConnections = try integer($1, "max-connections", 1...1_000_000)
        },
        Option(name: "max-streams", valueName: "N", help: "concurrent calls per connection (default 100)") {
            $0.maxStreams = try integer($1, "max-streams", 1...100_000)
        },
        Option(name: "max-message-bytes", valueName: "BYTES", help: "largest message accepted (default 4194304)") {
            $0.maxMessageBytes = try integer($1, "max-message-bytes", 1024...(64 * 1024 * 1024))
        },
        Option(name: "handshake-timeout", valueName: "SECONDS", help: "time a client has to finish TLS (default 10)") {
            $0.handshakeTimeout = .seconds(try integer($1, "handshake-timeout", 1...300))
        },
        Option(name: "idle-timeout", valueName: "SECONDS", help: "close connections idle this long (default 300)") {
            $0.idleTimeout = .seconds(try integer($1, "idle-timeout", 1...86_400))
        },
        Option(name: "event-loops", valueName: "N", help: "I/O threads (default: one per core)") {
            $0.eventLoops = try integer($1, "event-loops", 1...256)
        },
    ]

    static func integer(_ text: String, _ name: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError("--\(name): \"\(text)\" is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}

extension Configuration {
    /// Applies the environment first, then the flags, so a flag overrides its variable. Unknown flags, a flag
    /// without its value and values out of range are refused; unknown `VIGIL_` variables are ignored.
    static func parse(flags arguments: [String], environment: [String: String]) throws(ConfigurationError) -> Configuration {
        var configuration = Configuration()
        for option in Option.all {
            if let value = environment[option.environmentName] {
                do {
                    try option.apply(&configuration, value)
                } catch {
                    throw ConfigurationError("\(option.environmentName): \(error)")
                }
            }
        }
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            var name = argument
            var value: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            guard let option = Option.all.first(where: { $0.flag == name }) else {
                throw ConfigurationError("unknown option \(argument) (vigild --help lists them)")
            }
            if value == nil {
                index += 1
                guard index < arguments.count else { throw ConfigurationError("\(name) needs a value (\(option.valueName))") }
                value = arguments[index]
            }
            do {
                try option.apply(&configuration, value ?? "")
            } catch let error as ConfigurationError {
                throw error
            } catch {
                throw ConfigurationError("\(name): \(error)")
            }
            index += 1
        }
        if (configuration.tlsCertificatePath == nil) != (configuration.tlsKeyPath == nil) {
            throw ConfigurationError("--tls-cert and --tls-key go together")
        }
        return configuration
    }

    static var help: String {
        let width = Option.all.map { $0.flag.count + $0.valueName.count + 1 }.max() ?? 0
        var lines = [
            "usage: vigild [serve] [OPTIONS]",
            "",
            "Serves the Vigil API over TLS. Every option can also be set in the environment as VIGIL_<NAME>",
            "(for example VIGIL_MAX_STREAMS=200); a flag wins over its variable.",
            "",
            "options:",
        ]
        for option in Option.all {
            let left = "\(option.flag) \(option.valueName)"
            lines.append("  " + left + String(repeating: " ", count: width - left.count + 2) + option.help)
        }
        lines += ["  -h, --help" + String(repeating: " ", count: max(0, width - 8)) + "show this help"]
        return lines.joined(separator: "\n")
    }
}
