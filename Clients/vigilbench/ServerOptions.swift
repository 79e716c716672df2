// The flags every network subcommand shares: which server, which CA to trust, and how to log in. The password
// comes from an environment variable named on the command line, never from argv, where `ps` would show it.
import Foundation
import VigilAPI
import VigilClient

struct ServerOptions {
    static let names: Set<String> = ["server", "ca", "username", "password-env", "loops"]
    static let usage = """
          --server HOST:PORT   vigild's address (default 127.0.0.1:7443)
          --ca FILE            PEM certificate(s) to trust (vigild's self-signed cert.pem works as its own CA)
          --username U         user to log in as (default admin)
          --password-env VAR   environment variable holding the password
          --loops L            client I/O threads shared by every connection (default 1; echo: one per
                               connection, up to the number of cores)
        """

    let host: String
    let port: UInt16
    let caFile: String?
    let username: String
    let passwordVariable: String?
    let loops: Int

    /// `defaultLoops`: the subcommand's choice when `--loops` is not given.
    init(_ options: CommandLineOptions, defaultLoops: Int = 1) throws(UsageError) {
        let server = options.string("server") ?? "127.0.0.1:7443"
        guard let colon = server.lastIndex(of: ":"), let port = UInt16(server[server.index(after: colon)...]) else {
            throw UsageError("--server must be HOST:PORT")
        }
        var host = String(server[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw UsageError("--server must be HOST:PORT") }
        self.host = host
        self.port = port
        self.caFile = options.string("ca")
        self.username = options.string("username") ?? "admin"
        self.passwordVariable = options.string("password-env")
        self.loops = try options.int("loops", default: defaultLoops, range: 1...64)
    }

    func makeConnector() throws -> VigilConnector {
        try VigilConnector(host: self.host, port: self.port, caFile: self.caFile, loopCount: self.loops)
    }

    /// The password from the named variable; a usage error when either is missing.
    func password() throws(UsageError) -> String {
        guard let name = self.passwordVariable else { throw UsageError("--password-env VAR is required") }
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw UsageError("environment variable \(name) is not set")
        }
        return value
    }
}

extension ServerOptions {
    /// The user a run sends as, after `login`: the one given, or the agent `--create-agent` made.
    struct Credentials: Sendable {
        let username: String
        let password: String
    }

    /// Connects `count` clients sharing one login; with `createAgent`, first creates a fresh agent user (random
    /// name and password) as the given (admin) user and logs every client in as that agent. Setup errors throw.
    func connect(
        _ connector: VigilConnector, count: Int, createAgent: Bool
    ) async throws -> (clients: [VigilClient], credentials: Credentials) {
        var credentials = Credentials(username: self.username, password: try self.password())
        let first = try await connector.connect()
        try await first.authenticate(username: credentials.username, password: credentials.password)
        if createAgent {
            credentials = try await Self.createAgent(first)
            try await first.authenticate(username: credentials.username, password: credentials.password)
        }
        var clients = [first]
        for _ in 1..<max(count, 1) { clients.append(try await connector.connect(tokens: first.tokens)) }
        return (clients, credentials)
    }

    /// CreateUser with role agent, a random `bench-agent-…` name and a random 32-character password.
    static func createAgent(_ admin: VigilClient) async throws -> Credentials {
        func hex(_ bytes: Int) -> String {
            var generator = SystemRandomNumberGenerator()
            return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }
                .joined()
        }
        var request = CreateUserRequest()
        request.username = "bench-agent-\(hex(6))"
        request.password = hex(16)
        request.role = .agent
        _ = try await admin.createUser(request)
        FileHandle.standardError.write(Data("vigilbench: created agent user \(request.username)\n".utf8))
        return Credentials(username: request.username, password: request.password)
    }
}

extension Duration {
    var seconds: Double { Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18 }
}
