// Fixtures for the ingest-session tests: the real VigilServer on a real SQLite file, reached in-process or over
// loopback TLS (restartable on the same data directory and port), and an interceptor that sits between the client
// and the real IngestEvents handler to fail a chosen stream with a chosen status, hold acks back, or rewrite the
// server's `ready`. The interceptor lets the reconnect rules be tested against the real server without waiting for
// a real network failure, and without depending on what the server's own resend detection does.
import Foundation
import Synchronization
import Testing
import VigilAPI
import VigilClient
import VigilNet
import VigilPOSIX
import VigilRPC
import VigilService
import VigilTLS
import VigilTesting
import VigilWire

let ingestPassword = "correct horse battery staple"

func ingestEvent(_ index: Int, severity: Severity = .low) -> Event {
    var event = Event()
    event.sourceName = "host-\(index % 5)"
    event.eventType = "proc.exec"
    event.severity = severity
    event.description = "event \(index)"
    return event
}

/// Every ack in arrival order, from `onAck`.
final class AckLog: Sendable {
    private let acks = Mutex<[IngestSessionAck]>([])
    func append(_ ack: IngestSessionAck) { self.acks.withLock { $0.append(ack) } }
    var all: [IngestSessionAck] { self.acks.withLock { $0 } }
    var count: Int { self.acks.withLock { $0.count } }
    var sequences: [UInt64] { self.all.map(\.sequence) }
}

/// Every event description stored, paging through ListEvents.
func storedDescriptions(_ client: VigilClient) async throws -> [String] {
    var descriptions: [String] = []
    var request = ListEventsRequest()
    request.pageSize = 1000
    while true {
        let page = try await client.listEvents(request)
        descriptions += page.events.map(\.description)
        if page.nextPageToken.isEmpty { return descriptions }
        request.pageToken = page.nextPageToken
    }
}

// MARK: The interceptor

/// Wraps a router; on IngestEvents streams it counts streams, records their bearer tokens, and applies the faults
/// the test configured.
final class IngestInterceptor: Sendable {
    /// Returns the status to end stream `stream` (0-based) with on receiving `request`, or nil to pass it on.
    typealias Fault = @Sendable (_ stream: Int, _ request: IngestEventsRequest) -> RPCError?

    private struct State {
        var streams = 0
        var authorizations: [String] = []
        var holdAcks = false
        var holdReady = false
        var heldAcks: [CheckedContinuation<Void, Never>] = []
        var readyOverride: [Int: UInt64] = [:]
    }

    private let state = Mutex(State())
    private let fault: Fault?

    init(fault: Fault? = nil) { self.fault = fault }

    var streams: Int { self.state.withLock { $0.streams } }
    var authorizations: [String] { self.state.withLock { $0.authorizations } }
    var heldAckCount: Int { self.state.withLock { $0.heldAcks.count } }

    func holdAcks() { self.state.withLock { $0.holdAcks = true } }

    /// Holds every stream's ready (and everything after it) until `releaseAcks`.
    func holdReady() { self.state.withLock { $0.holdReady = true } }

    func releaseAcks() {
        let held = self.state.withLock { state in
            state.holdAcks = false
            state.holdReady = false
            defer { state.heldAcks = [] }
            return state.heldAcks
        }
        for ack in held { ack.resume() }
    }

    /// Makes stream `stream`'s ready say `last`, whatever the server said.
    func overrideReady(onStream stream: Int, lastCommitted last: UInt64) {
        self.state.withLock { $0.readyOverride[stream] = last }
    }

    func wrap(_ inner: Router) -> Router {
        var router = Router()
        for method in inner.methods {
            router.register(method) { io, context in
                var io = io
                if method == VigilMethods.ingestEvents { io = self.intercept(io, context) }
                let trailers = await inner.handle(io, context: context)
                guard trailers.status.isOK else { throw RPCError(status: trailers.status, metadata: trailers.metadata) }
                context.trailingMetadata = trailers.metadata
            }
        }
        return router
    }

    private func intercept(_ io: CallIO, _ context: ServerContext) -> CallIO {
        let stream = self.state.withLock { state in
            state.authorizations.append(context.metadata["authorization"] ?? "")
            defer { state.streams += 1 }
            return state.streams
        }
        let sent = Mutex(0)
        return CallIO(
            receive: {
                guard let bytes = try await io.receive() else { return nil }
                if let fault = self.fault, let request = try? IngestEventsRequest(serializedBytes: bytes),
                    let error = fault(stream, request)
                {
                    throw error
                }
                return bytes
            },
            send: { bytes in
                let index = sent.withLock { count in
                    defer { count += 1 }
                    return count
                }
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let pass = self.state.withLock { state in
                        guard index == 0 ? state.holdReady : state.holdAcks else { return true }
                        state.heldAcks.append(continuation)
                        return false
                    }
                    if pass { continuation.resume() }
                }
                if index == 0, let last = self.state.withLock({ $0.readyOverride[stream] }) {
                    var ready = IngestEventsResponse()
                    ready.kind = .ready(IngestReady(lastCommittedSequence: last))
                    try await io.send(ready.serializedBytes())
                    return
                }
                try await io.send(bytes)
            },
            maxOutboundMessageBytes: io.maxOutboundMessageBytes)
    }
}

extension IngestReady {
    init(lastCommittedSequence: UInt64) {
        self.init()
        self.lastCommittedSequence = lastCommittedSequence
    }
}

// MARK: In process

/// A logged-in client of a fresh service on a temporary SQLite file, over the in-process transport through
/// `interceptor`; everything is closed after `body`, whether it returns or throws.
func withIngestClient<T>(
    interceptor: IngestInterceptor = IngestInterceptor(),
    _ body: (VigilClient) async throws -> T
) async throws -> T {
    let directory = try TemporaryDirectory(prefix: "vigil-ingest")
    let store = try SQLiteStore(path: directory.file("vigil.db"))
    let pool = HashingPool(hasher: PasswordHasher(iterations: 200))
    defer {
        store.close()
        pool.shutdown()
    }
    let server = try VigilServer(
        store: store, hashingPool: pool, throttle: LoginThrottle(),
        configuration: VigilServer.Configuration(tokenSecret: SecureRandom.bytes(32)))
    _ = try await server.bootstrapFirstAdmin(username: "admin", password: ingestPassword)
    let client = VigilClient(transport: InProcessTransport(router: interceptor.wrap(server.makeRouter())))
    try await client.authenticate(username: "admin", password: ingestPassword)
    return try await body(client)
}

// MARK: Over loopback TLS

/// A VigilServer behind an RPCServer on 127.0.0.1, restartable on the same data directory, signing secret and port
/// (as vigild restarting would be).
final class LoopbackIngestServer: Sendable {
    private struct Running: Sendable {
        var store: SQLiteStore
        var rpc: RPCServer
    }

    let directory: TemporaryDirectory
    let caFile: String
    private let secret = SecureRandom.bytes(32)
    private let tls: TLSContext
    private let pool = HashingPool(hasher: PasswordHasher(iterations: 200))
    private let group: EventLoopGroup
    private let running = Mutex<Running?>(nil)
    private let boundPort = Mutex<UInt16>(0)

    var port: UInt16 { self.boundPort.withLock { $0 } }

    init() async throws {
        self.directory = try TemporaryDirectory(prefix: "vigil-ingest-tls")
        let certificate = try SelfSignedCertificate()
        self.caFile = self.directory.file("ca.pem")
        try Data(certificate.certificatePEM).write(to: URL(fileURLWithPath: self.caFile))
        self.tls = try TLSContext(configuration: .server(
            certificateChain: .bytes(certificate.certificatePEM), privateKey: .bytes(certificate.privateKeyPEM)))
        self.group = try EventLoopGroup(loopCount: 1, namePrefix: "ingest-test-server")
        try await self.start(port: 0, bootstrap: true)
    }

    private func start(port: UInt16, bootstrap: Bool) async throws {
        let store = try SQLiteStore(path: self.directory.file("vigil.db"))
        let server = try VigilServer(
            store: store, hashingPool: self.pool, throttle: LoginThrottle(),
            configuration: VigilServer.Configuration(tokenSecret: self.secret))
        if bootstrap { _ = try await server.bootstrapFirstAdmin(username: "admin", password: ingestPassword) }
        let configuration = RPCServer.Configuration(
            address: .ipv4Loopback(port: port), tls: self.tls, shutdownGracePeriod: .milliseconds(100))
        let rpc = try await RPCServer(configuration: configuration, router: server.makeRouter(), group: self.group)
        self.boundPort.withLock { $0 = rpc.localAddress.port }
        self.running.withLock { $0 = Running(store: store, rpc: rpc) }
    }

    /// Stops serving (GOAWAY, a short grace, connections closed) and closes the database.
    func stop() async {
        guard let running = self.running.withLock({ state in defer { state = nil }; return state }) else { return }
        await running.rpc.shutdown()
        running.store.close()
    }

    /// Stops, then serves again on the same port from the same database.
    func restart() async throws {
        await self.stop()
        try await self.start(port: self.port, bootstrap: false)
    }

    func shutdown() async {
        await self.stop()
        self.pool.shutdown()
        await self.group.shutdown()
    }

    /// A logged-in network client of this server; it and the server are closed after `body`.
    func withClient<T>(_ body: (VigilClient) async throws -> T) async throws -> T {
        let result: Result<T, any Error>
        do {
            let client = try await VigilClient.connect(host: "127.0.0.1", port: self.port, caFile: self.caFile)
            do {
                try await client.authenticate(username: "admin", password: ingestPassword)
                result = .success(try await body(client))
            } catch {
                result = .failure(error)
            }
            await client.close()
        } catch {
            await self.shutdown()
            throw error
        }
        await self.shutdown()
        return try result.get()
    }
}
