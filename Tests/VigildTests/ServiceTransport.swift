// The business-rule suites of VigilServiceTests (symlinked into BusinessRules/) run here a second time, over real
// loopback TLS: each router gets an RPCServer on 127.0.0.1 and a client RPCClientConnection, with a certificate
// minted at test time. VigilServiceTests may not import VigilNet; this target reaches it through vigild. The type
// offers the same surface as VigilServiceTests' in-process `ServiceTransport`, so the shared bodies cannot tell
// which one they run on (habit 11: key tests run twice).
import Synchronization
import VigilNet
import VigilPOSIX
import VigilRPC
import VigilTLS

/// One event loop and the servers and connections made on it for one fixture; `shutdown` closes them all.
final class ServiceTransport: Sendable {
    /// Names the transport in failure messages.
    static let name = "loopback TLS"

    /// Minting a key pair costs milliseconds; one per process keeps the ~40 fixtures of the suites fast.
    private static let identity: Result<(server: TLSContext, client: TLSContext), any Error> = Result {
        let certificate = try SelfSignedCertificate()
        let server = try TLSContext(configuration: .server(
            certificateChain: .bytes(certificate.certificatePEM), privateKey: .bytes(certificate.privateKeyPEM)))
        let client = try TLSContext(configuration: .client(
            trustRoots: .certificates(.bytes(certificate.certificatePEM))))
        return (server, client)
    }

    private struct Open: Sendable {
        var servers: [RPCServer] = []
        var connections: [RPCClientConnection] = []
    }

    private let group: EventLoopGroup
    private let open = Mutex(Open())

    init() throws {
        // One loop: the fixtures are small and the machine has two shared cores.
        self.group = try EventLoopGroup(loopCount: 1, namePrefix: "service-test-loop")
    }

    /// Serves `router` on a fresh loopback port and returns a TLS client connected to it.
    func connect(_ router: Router) async throws -> any RPCClient {
        let identity = try Self.identity.get()
        let configuration = RPCServer.Configuration(address: .ipv4Loopback(port: 0), tls: identity.server)
        let server = try await RPCServer(configuration: configuration, router: router, group: self.group)
        self.open.withLock { $0.servers.append(server) }
        let connection = try await RPCClientConnection.connect(
            to: server.localAddress, tls: identity.client, serverName: "127.0.0.1", on: self.group.next())
        self.open.withLock { $0.connections.append(connection) }
        return connection
    }

    /// Closes the clients first (so the servers have nothing in flight to wait for), then the servers, then the loop.
    func shutdown() async {
        let open = self.open.withLock { state in
            defer { state = Open() }
            return state
        }
        for connection in open.connections { await connection.close() }
        for server in open.servers { await server.shutdown() }
        await self.group.shutdown()
    }
}
