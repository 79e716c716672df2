// VigilClient over the network: a TLS connection to vigild (`VigilClient.connect`), trusting the server through a
// CA file (vigild's self-signed certificate works as its own CA) or the system store. The client owns one event
// loop thread for its connection; `close()` ends both.
import VigilAPI
import VigilNet
import VigilPOSIX
import VigilRPC
import VigilTLS

/// A transport the client can close: the network connection and the loop it runs on.
final class NetworkTransport: RPCClient, Sendable {
    let connection: RPCClientConnection
    let group: EventLoopGroup

    init(connection: RPCClientConnection, group: EventLoopGroup) {
        self.connection = connection
        self.group = group
    }

    func makeCall(_ method: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?) async throws
        -> any ClientCall
    {
        try await self.connection.makeCall(method, metadata: metadata, deadline: deadline)
    }

    func close() async {
        await self.connection.close()
        await self.group.shutdown()
    }
}

extension VigilClient {
    /// Connects to `host:port` (a name or an IP literal) over TLS and returns a client on that connection.
    /// - Parameters:
    ///   - caFile: PEM certificates to trust as issuers of the server's certificate; nil trusts the system store.
    ///   - serverName: the name to verify in the certificate; defaults to `host`.
    public static func connect(
        host: String,
        port: UInt16,
        caFile: String?,
        serverName: String? = nil,
        tokens: SessionTokens? = nil,
        defaultTimeout: Duration? = .seconds(30),
        onTokensChanged: (@Sendable (SessionTokens?) -> Void)? = nil
    ) async throws -> VigilClient {
        guard let address = try SocketAddress.resolve(host: host, port: port).first else {
            throw RPCError(code: .unavailable, message: "\(host) has no address")
        }
        let trust: TLSConfiguration.TrustRoots = caFile.map { .certificates(.file(path: $0)) } ?? .system
        let tls = try TLSContext(configuration: .client(trustRoots: trust))
        let group = try EventLoopGroup(loopCount: 1, namePrefix: "vigil-client")
        do {
            let connection = try await RPCClientConnection.connect(
                to: address, tls: tls, serverName: serverName ?? host, on: group.next())
            return VigilClient(
                transport: NetworkTransport(connection: connection, group: group), tokens: tokens,
                defaultTimeout: defaultTimeout, onTokensChanged: onTokensChanged)
        } catch {
            await group.shutdown()
            throw RPCError(code: .unavailable, message: "cannot connect to \(host):\(port): \(error)")
        }
    }

    /// Closes the network connection (calls in flight fail); a no-op for other transports.
    public func close() async {
        if let network = self.transport as? NetworkTransport { await network.close() }
    }
}
