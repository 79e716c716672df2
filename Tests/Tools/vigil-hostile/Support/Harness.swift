// What every attack shares: the options, the well-behaved client measured beside the attack, the server's
// footprint read from /proc, and the one-line verdict.
import Foundation
import VigilAPI
import VigilClient
import VigilPOSIX
import VigilRPC
import VigilTLS

struct Options: Sendable {
    var attacks: [String] = []
    var host = "127.0.0.1"
    var port: UInt16 = 0
    var caFile = ""
    var pid: Int32?
    var username: String?
    var password: String?
    /// Whose password brute force guesses.
    var bruteUsername = "hostile-target"
    var seconds = 5.0
    /// The server's limits, as it was started (the tool cannot ask): what the floods aim past.
    var maxConnections = 64
    var handshakeTimeout = 10.0
    /// RSS growth over an attack that fails it.
    var rssBoundMiB = 64.0

    var address: SocketAddress {
        get throws {
            guard let address = SocketAddress(host: self.host, port: self.port) else {
                throw HostileError("\(self.host) is not an IP address")
            }
            return address
        }
    }
}

/// The server's resident memory and open descriptors, from /proc (nil without --pid).
struct Footprint: Sendable {
    var rssKiB: Int
    var fds: Int

    static func sample(_ pid: Int32?) -> Footprint? {
        guard let pid, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else {
            return nil
        }
        let rss =
            status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first }
            .flatMap { Int($0) } ?? 0
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
        return Footprint(rssKiB: rss, fds: fds)
    }

    var mib: String { String(format: "%.0f", Double(self.rssKiB) / 1024) }
}

/// Calls the server in a loop while an attack runs and keeps each call's latency.
final class GoodClient: Sendable {
    struct Report: Sendable {
        var latencies: [Double] = []
        var errors = 0
        var lastError: String?
    }

    let client: VigilClient
    let authenticated: Bool
    let report = NSLock.Protected(Report())
    let stopped = NSLock.Protected(false)

    init(client: VigilClient, authenticated: Bool) {
        self.client = client
        self.authenticated = authenticated
    }

    /// One call: WhoAmI when logged in (token check included), else the health check.
    func call() async throws {
        if self.authenticated {
            _ = try await self.client.whoAmI(timeout: .seconds(5))
        } else {
            _ = try await self.client.healthCheck(timeout: .seconds(5))
        }
    }

    func run() async {
        let clock = ContinuousClock()
        while !self.stopped.get() {
            let start = clock.now
            do {
                try await self.call()
                let elapsed = (clock.now - start).seconds * 1000
                self.report.update { $0.latencies.append(elapsed) }
            } catch {
                self.report.update {
                    $0.errors += 1
                    $0.lastError = "\(error)"
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Runs the client while `attack` runs; returns the attack's verdict and the client's report.
    func measure<Result: Sendable>(during attack: @escaping @Sendable () async -> Result) async -> (Result, Report) {
        self.stopped.set(false)
        self.report.set(Report())
        let runner = Task { await self.run() }
        let result = await attack()
        self.stopped.set(true)
        await runner.value
        return (result, self.report.get())
    }
}

extension GoodClient.Report {
    func percentile(_ fraction: Double) -> Double {
        guard !self.latencies.isEmpty else { return .nan }
        let sorted = self.latencies.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction))]
    }

    var summary: String {
        String(
            format: "good client p50 %.1f ms p99 %.1f ms (n=%d, %d errors)", self.percentile(0.5),
            self.percentile(0.99), self.latencies.count, self.errors)
    }
}

extension Duration {
    var seconds: Double {
        Double(self.components.seconds) + Double(self.components.attoseconds) * 1e-18
    }
}

extension NSLock {
    /// A value behind a lock; `Sendable` because every access takes the lock.
    final class Protected<Value: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Value
        init(_ value: Value) { self.value = value }
        func get() -> Value { self.lock.withLock { self.value } }
        func set(_ value: Value) { self.lock.withLock { self.value = value } }
        func update<R>(_ body: (inout Value) -> R) -> R { self.lock.withLock { body(&self.value) } }
    }
}

/// What one attack found: whether the offender got the documented answer, and how.
struct Verdict: Sendable {
    var passed: Bool
    var detail: String
}

/// Runs blocking attack code on a thread of its own, so the cooperative pool stays free for the good client.
func onThread<Result: Sendable>(_ body: @escaping @Sendable () -> Result) async -> Result {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.stackSize = 1 << 20
        thread.start()
    }
}

/// A TLS context trusting the server's CA, for raw clients.
func clientTLS(_ options: Options) throws -> TLSContext {
    try TLSContext(configuration: .client(trustRoots: .certificates(.file(path: options.caFile))))
}

/// The token of the logged-in good client, for raw clients that must pass authentication to keep a stream open.
func bearer(_ tokens: SessionTokens?) -> Metadata {
    guard let tokens else { return Metadata() }
    return Metadata(["authorization": "Bearer \(tokens.accessToken)"])
}
