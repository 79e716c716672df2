// `vigilbench connections`: what idle connections cost the server. Opens N TLS connections (each proven by a health
// check, which needs no login), holds them idle, and reads the server's resident memory from /proc/PID/statm
// before and after, so "10,000 idle connections in under 300 MB" is one command. Connections open a few dozen at
// a time: a burst of thousands of handshakes at once would measure the listen backlog, not the steady state.
import Foundation
import VigilClient
import VigilPOSIX

struct ConnectionsBenchmark {
    static let usage = """
        usage: vigilbench connections --server HOST:PORT --ca FILE --count N [--pid PID] [--hold S] [OPTIONS]
        \(ServerOptions.usage)
          --count N            connections to open and hold (default 1000)
          --pid PID            vigild's process id, to read its RSS from /proc/PID/statm
          --hold S             seconds to hold the connections idle before reading RSS (default 1)
          --parallel P         connections being opened at once (default 32)
          --json FILE          also write the figures as JSON
        """

    let server: ServerOptions
    let count: Int
    let pid: Int32?
    let hold: Double
    let parallel: Int
    let jsonPath: String?

    init(_ options: CommandLineOptions) throws(UsageError) {
        try options.rejectUnknown(ServerOptions.names.union(["count", "pid", "hold", "parallel", "json"]))
        self.server = try ServerOptions(options)
        self.count = try options.int("count", default: 1000, range: 1...1_000_000)
        self.pid =
            options.string("pid") == nil ? nil : Int32(try options.int("pid", default: 0, range: 1...Int(Int32.max)))
        self.hold = try options.double("hold", default: 1)
        self.parallel = try options.int("parallel", default: 32, range: 1...1024)
        self.jsonPath = options.string("json")
    }

    func run() async throws {
        // One descriptor per connection plus the loops' epoll/eventfd and stdio.
        let limit = try ResourceLimits.raiseOpenFiles(to: UInt64(self.count + 256))
        guard limit.current >= UInt64(self.count + 64) else {
            throw UsageError("open-files limit is \(limit); \(self.count) connections need more (raise the hard limit)")
        }
        let connector = try self.server.makeConnector()
        let before = try self.serverResidentBytes()
        let clock = ContinuousClock()
        let start = clock.now
        var clients: [VigilClient] = []
        clients.reserveCapacity(self.count)
        var next = 0
        try await withThrowingTaskGroup(of: VigilClient.self) { group in
            func open() {
                group.addTask {
                    let client = try await connector.connect()
                    _ = try await client.healthCheck()
                    return client
                }
                next += 1
            }
            while next < min(self.parallel, self.count) { open() }
            for try await client in group {
                clients.append(client)
                if next < self.count { open() }
            }
        }
        let opened = start.duration(to: clock.now).seconds
        try await Task.sleep(for: .milliseconds(Int(self.hold * 1000)))
        let after = try self.serverResidentBytes()
        let ownBytes = try ProcessMemory.residentBytes()
        for client in clients { await client.disconnect() }
        await connector.shutdown()

        let perConnection = before.flatMap { before in after.map { Double($0 - before) / Double(self.count) } }
        print(String(format: "%d connections open in %.2f s (%.0f/s), held %.1f s", self.count, opened,
                     Double(self.count) / opened, self.hold))
        if let before, let after, let perConnection {
            print(String(format: "server RSS %.1f MB before, %.1f MB after: %.1f KB per connection",
                         Double(before) / 1e6, Double(after) / 1e6, perConnection / 1e3))
        } else {
            print("server RSS not measured (give --pid)")
        }
        print(String(format: "benchmark's own RSS %.1f MB", Double(ownBytes) / 1e6))
        if let jsonPath {
            func field(_ value: Int?) -> String { value.map(String.init) ?? "null" }
            let json = """
                {"connections": \(self.count), "open_s": \((opened * 1000).rounded() / 1000), \
                "connections_per_s": \((Double(self.count) / opened).rounded()), \
                "server_rss_before_bytes": \(field(before)), "server_rss_after_bytes": \(field(after)), \
                "server_rss_per_connection_bytes": \(field(perConnection.map { Int($0.rounded()) })), \
                "client_rss_bytes": \(ownBytes)}

                """
            try json.write(toFile: jsonPath, atomically: true, encoding: .utf8)
        }
    }

    private func serverResidentBytes() throws -> Int? {
        guard let pid = self.pid else { return nil }
        do {
            return try ProcessMemory.residentBytes(ofProcess: pid)
        } catch {
            throw UsageError("cannot read /proc/\(pid)/statm: \(error)")
        }
    }
}
