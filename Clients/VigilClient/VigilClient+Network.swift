// VigilClient over the network: a TLS connection to vigild (`VigilClient.connect`), trusting the server through a
// CA file (vigild's self-signed certificate works as its own CA) or the system store. The client owns one event
// loop thread for its connection; `close()` ends both.
//
// Why the transport re-dials: an agent outlives its server. After a restart, a drain (GOAWAY) or a dropped
// connection the old connection can take no new calls, so the next call (or an ingest session reopening its stream)
// dials a new one. One dial runs at a time and every caller that needs it waits for that one (single flight), so a
// hundred calls failing at once do not open a hundred connections. Tokens live in VigilClient, not here, so they
// survive the new connection.
import Synchronization
import VigilAPI
import VigilNet
import VigilPOSIX
import VigilRPC
import VigilTLS

/// A transport the client can close: the current network connection, re-dialled when it stops taking calls, and the
/// loop it runs on.
final class NetworkTransport: ForwardingRPCClient, Sendable {
    /// How to reach the server again; immutable.
    struct Dialer: Sendable {
        let host: String
        let port: UInt16
        let serverName: String
        let tls: TLSContext

        func dial(on loop: EventLoop) async throws(RPCError) -> RPCClientConnection {
            let address: SocketAddress
            do {
                guard let first = try SocketAddress.resolve(host: self.host, port: self.port).first else {
                    throw RPCError(code: .unavailable, message: "\(self.host) has no address")
                }
                address = first
            } catch let error as RPCError {
                throw error
            } catch {
                throw RPCError(code: .unavailable, message: "cannot resolve \(self.host): \(error)")
            }
            do {
                return try await RPCClientConnection.connect(
                    to: address, tls: self.tls, serverName: self.serverName, on: loop)
            } catch {
                throw RPCError(code: .unavailable, message: "cannot connect to \(self.host):\(self.port): \(error)")
            }
        }
    }

    private struct State {
        var connection: RPCClientConnection
        /// The dial every caller waits for while it runs.
        var dialing: Task<RPCClientConnection, any Error>?
        var closed = false
    }

    let dialer: Dialer
    let group: EventLoopGroup
    private let state: Mutex<State>

    init(connection: RPCClientConnection, dialer: Dialer, group: EventLoopGroup) {
        self.dialer = dialer
        self.group = group
        self.state = Mutex(State(connection: connection))
    }

    /// The connection calls go to now (possibly one that is no longer available).
    var connection: RPCClientConnection { self.state.withLock { $0.connection } }

    func callTarget() async throws -> any RPCClient { try await self.availableConnection() }

    /// The current connection if it still takes calls, else a new one (dialled once for all waiting callers).
    func availableConnection() async throws -> RPCClientConnection {
        enum Next {
            case use(RPCClientConnection)
            case wait(Task<RPCClientConnection, any Error>)
            case closed
        }
        let next: Next = self.state.withLock { state in
            if state.closed { return .closed }
            if let dialing = state.dialing { return .wait(dialing) }
            if state.connection.isAvailable { return .use(state.connection) }
            let dialer = self.dialer
            let loop = self.group.next()
            let task = Task<RPCClientConnection, any Error> {
                let result: Result<RPCClientConnection, RPCError>
                do throws(RPCError) {
                    result = .success(try await dialer.dial(on: loop))
                } catch {
                    result = .failure(error)
                }
                let stale: RPCClientConnection? = self.state.withLock { state in
                    state.dialing = nil
                    guard case .success(let fresh) = result else { return nil }
                    if state.closed { return fresh }
                    state.connection = fresh
                    return nil
                }
                // Closed while dialling: the new connection has no owner.
                if let stale { await stale.close() }
                return try result.get()
            }
            state.dialing = task
            return .wait(task)
        }
        switch next {
        case .use(let connection): return connection
        case .wait(let task): return try await task.value
        case .closed: throw RPCError(code: .unavailable, message: "the client is closed")
        }
    }

    func close() async {
        let (connection, dialing) = self.state.withLock { state in
            state.closed = true
            return (state.connection, state.dialing)
        }
        _ = try? await dialing?.value
        await connection.close()
        await self.group.shutdown()
    }
}

extension VigilClient {
    /// Connects to `host:port` (a name or an IP literal) over TLS and returns a client on that connection. When the
    /// connection closes or the server sends GOAWAY, the next call dials `host:port` again.
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
        let trust: TLSConfiguration.TrustRoots = caFile.map { .certificates(.file(path: $0)) } ?? .system
        let tls = try TLSContext(configuration: .client(trustRoots: trust))
        let dialer = NetworkTransport.Dialer(host: host, port: port, serverName: serverName ?? host, tls: tls)
        let group = try EventLoopGroup(loopCount: 1, namePrefix: "vigil-client")
        do {
            let connection = try await dialer.dial(on: group.next())
            return VigilClient(
                transport: NetworkTransport(connection: connection, dialer: dialer, group: group), tokens: tokens,
                defaultTimeout: defaultTimeout, onTokensChanged: onTokensChanged)
        } catch {
            await group.shutdown()
            throw error
        }
    }

    /// The event loop of this client's network connection, as a task executor (nil for other transports). A task
    /// that prefers it (`Task(executorPreference:)`, `addTask(executorPreference:)`) makes its calls on the thread
    /// where their bytes arrive: a call's frames are written and its response resumes the caller without a hop
    /// between threads, which is most of what a small call costs. Worth it when calls spread over several
    /// connections on several loops; a single busy stream can instead be faster with its sender off the loop, where
    /// it overlaps with the loop's I/O. Jobs of such a task are dropped once the loop stops: let the task finish
    /// before closing the client (or its `VigilConnector`).
    public var connectionExecutor: (any TaskExecutor)? {
        switch self.transport {
        case let shared as SharedLoopTransport: shared.connection.eventLoop
        case let network as NetworkTransport: network.connection.eventLoop
        default: nil
        }
    }

    /// Closes the network connection (calls in flight fail); a no-op for other transports.
    public func close() async {
        if let network = self.transport as? NetworkTransport { await network.close() }
    }

    /// Drops the current network connection at once with a TCP reset, as a network failure would; the next call
    /// dials again. For tests of reconnecting code; a no-op for other transports.
    package func abortConnectionForTesting() {
        if let network = self.transport as? NetworkTransport { network.connection.abort() }
    }
}
