// Many connections to one server on a few shared event loops. `VigilClient.connect` gives each client its own loop
// thread and TLS context, which is right for a CLI but not for a load test holding thousands of connections (a
// thread, an epoll and an eventfd per connection would exhaust threads and descriptors long before the server
// does). A connector resolves the address and loads the CA once, and spreads its clients over `loopCount` loops.
import VigilAPI
import VigilNet
import VigilPOSIX
import VigilRPC
import VigilTLS

/// A client connection on a loop it does not own: closing it leaves the connector's loops running.
final class SharedLoopTransport: ForwardingRPCClient, Sendable {
    let connection: RPCClientConnection

    init(connection: RPCClientConnection) { self.connection = connection }

    func callTarget() async throws -> any RPCClient { self.connection }
}

/// Opens clients to one server over shared loops. `Sendable`: every stored property is immutable and `Sendable`.
public final class VigilConnector: Sendable {
    public let host: String
    public let port: UInt16
    let address: SocketAddress
    let serverName: String
    let tls: TLSContext
    let group: EventLoopGroup

    /// - Parameters:
    ///   - caFile: PEM certificates to trust as issuers of the server's certificate; nil trusts the system store.
    ///   - loopCount: I/O threads shared by every client this connector opens.
    public init(host: String, port: UInt16, caFile: String?, serverName: String? = nil, loopCount: Int = 1) throws {
        guard let address = try SocketAddress.resolve(host: host, port: port).first else {
            throw RPCError(code: .unavailable, message: "\(host) has no address")
        }
        let trust: TLSConfiguration.TrustRoots = caFile.map { .certificates(.file(path: $0)) } ?? .system
        self.tls = try TLSContext(configuration: .client(trustRoots: trust))
        self.group = try EventLoopGroup(loopCount: max(1, loopCount), namePrefix: "vigil-connector")
        self.host = host
        self.port = port
        self.address = address
        self.serverName = serverName ?? host
    }

    /// Opens one TLS connection (on the next loop, round robin) and returns a client on it; close it with
    /// `VigilClient.disconnect()`.
    public func connect(
        tokens: SessionTokens? = nil, defaultTimeout: Duration? = .seconds(30)
    ) async throws -> VigilClient {
        do {
            let connection = try await RPCClientConnection.connect(
                to: self.address, tls: self.tls, serverName: self.serverName, on: self.group.next())
            return VigilClient(
                transport: SharedLoopTransport(connection: connection), tokens: tokens, defaultTimeout: defaultTimeout)
        } catch {
            throw RPCError(code: .unavailable, message: "cannot connect to \(self.host):\(self.port): \(error)")
        }
    }

    /// Stops the loops; close the clients first (calls still running on them fail).
    public func shutdown() async { await self.group.shutdown() }
}

extension VigilClient {
    /// Closes the network connection of a client from `VigilConnector` (its loops keep running) or from
    /// `VigilClient.connect` (its own loop stops too, as with `close()`).
    public func disconnect() async {
        if let shared = self.transport as? SharedLoopTransport {
            await shared.connection.close()
        } else {
            await self.close()
        }
    }
}
