// The flags every network subcommand shares: which server, which CA to trust, and how to log in. The password
// comes from an environment variable named on the command line, never from argv, where `ps` would show it.
import Foundation
import VigilClient

struct ServerOptions {
    static let names: Set<String> = ["server", "ca", "username", "password-env", "loops"]
    static let usage = """
          --server HOST:PORT   vigild's address (default 127.0.0.1:7443)
          --ca FILE            PEM certificate(s) to trust (vigild's self-signed cert.pem works as its own CA)
          --username U         user to log in as (default admin)
          --password-env VAR   environment variable holding the password
          --loops L            client I/O threads shared by every connection (default 1)
        """

    let host: String
    let port: UInt16
    let caFile: String?
    let username: String
    let passwordVariable: String?
    let loops: Int

    init(_ options: CommandLineOptions) throws(UsageError) {
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
        self.loops = try options.int("loops", default: 1, range: 1...64)
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

extension Duration {
    var seconds: Double { Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18 }
}
