// Helpers shared by the service tests: a VigilServer on a real SQLite file in a temporary directory, reached through
// `ServiceTransport` (in this target the in-process transport: the real connection and stream machines over frame
// bytes), with PBKDF2 at a few hundred iterations so logins are fast. Users of every role are created through the
// store and logged in through the Authenticate RPC, so every test starts from tokens the server itself issued.
//
// Habit 11, key tests run twice: VigildTests compiles this file and the business-rule suites (access matrix, auth,
// events and alerts, lists) through symlinks, next to a `ServiceTransport` over real loopback TLS. That target may
// import VigilNet (through vigild); this one may not, and Package.swift stays as it is. So the bodies below must only
// talk to the server through `client` or `connect(_:)`, never assume the in-process transport.
import Foundation
import VigilAPI
import VigilRPC
import VigilTLS
import VigilTesting
import VigilWire

@testable import VigilService

/// A password that meets the policy, shared by the fixture's users.
let servicePassword = "correct horse battery staple"

/// A running service and everything it needs, closed by `with`.
struct ServiceFixture: Sendable {
    let directory: TemporaryDirectory
    let store: SQLiteStore
    let pool: HashingPool
    let throttleClock: ManualClock
    let server: VigilServer
    let router: Router
    /// Where the calls travel: in-process here, loopback TLS in VigildTests' copy of these suites.
    let transport: ServiceTransport
    let client: any RPCClient

    init(
        configure: (inout VigilServer.Configuration) -> Void = { _ in },
        configureStore: (inout SQLiteStore.Configuration) -> Void = { _ in }
    ) async throws {
        self.directory = try TemporaryDirectory(prefix: "vigil-service")
        var storeConfiguration = SQLiteStore.Configuration(path: self.directory.file("vigil.db"))
        storeConfiguration.writerCacheKiB = 4_096
        storeConfiguration.readerCacheKiB = 1_024
        configureStore(&storeConfiguration)
        self.store = try SQLiteStore(configuration: storeConfiguration)
        self.pool = HashingPool(hasher: PasswordHasher(iterations: 200), threadCount: 2)
        self.throttleClock = ManualClock()
        var configuration = VigilServer.Configuration(tokenSecret: TokenCodec.makeSecret())
        configure(&configuration)
        self.server = try VigilServer(
            store: self.store,
            hashingPool: self.pool,
            throttle: LoginThrottle(clock: self.throttleClock.clock),
            configuration: configuration
        )
        self.router = self.server.makeRouter()
        self.transport = try ServiceTransport()
        do {
            self.client = try await self.transport.connect(self.router)
        } catch {
            await self.transport.shutdown()
            self.store.close()
            self.pool.shutdown()
            throw error
        }
    }

    /// Runs `body` with a fresh fixture, then closes the transport (servers and connections), the store and the pool,
    /// whether `body` returned or threw.
    static func with<T>(
        configure: (inout VigilServer.Configuration) -> Void = { _ in },
        configureStore: (inout SQLiteStore.Configuration) -> Void = { _ in },
        _ body: (ServiceFixture) async throws -> T
    ) async throws -> T {
        let fixture = try await ServiceFixture(configure: configure, configureStore: configureStore)
        let result: Result<T, any Error>
        do {
            result = .success(try await body(fixture))
        } catch {
            result = .failure(error)
        }
        await fixture.transport.shutdown()
        fixture.store.close()
        fixture.pool.shutdown()
        return try result.get()
    }

    /// Another client, served by `router` (typically this fixture's router wrapped by `router(_:asPeer:)`) on the
    /// same transport as `client`.
    func connect(_ router: Router) async throws -> any RPCClient {
        try await self.transport.connect(router)
    }

    // MARK: Users and tokens

    /// Creates a user directly in the store (hashing on the pool, as the service does).
    @discardableResult
    func createUser(_ username: String, _ role: Role, password: String = servicePassword) async throws -> StoredUser {
        let hash = try await self.pool.hash(password)
        return try await self.store.createUser(NewUser(username: username, role: role, passwordHash: hash))
    }

    /// Logs in through the Authenticate RPC.
    func login(_ username: String, _ password: String = servicePassword, via client: (any RPCClient)? = nil)
        async throws -> AuthenticateResponse
    {
        var request = AuthenticateRequest()
        request.username = username
        request.password = password
        return try await (client ?? self.client).unary(
            VigilMethods.authenticate, request: request, responseType: AuthenticateResponse.self)
    }

    /// A user of `role` and its access token.
    func userWithToken(_ username: String, _ role: Role) async throws -> (user: StoredUser, token: String) {
        let user = try await self.createUser(username, role)
        let response = try await self.login(username)
        return (user, response.tokens?.accessToken ?? "")
    }

    /// One unary call with `token` (nil: none) as the bearer.
    func call<Request: WireMessage, Response: WireMessage>(
        _ method: MethodDescriptor, _ request: Request, token: String?, as _: Response.Type = Response.self
    ) async throws -> Response {
        try await self.client.unary(method, request: request, responseType: Response.self, metadata: bearer(token))
    }

    /// Ingests `events` as one batch on a new stream; returns the ack.
    func ingest(_ events: [Event], token: String?, sequence: UInt64 = 1) async throws -> IngestAck {
        let responses = try await self.client.bidiStream(
            VigilMethods.ingestEvents, requestType: IngestEventsRequest.self,
            responseType: IngestEventsResponse.self, metadata: bearer(token)
        ) { writer, responses in
            try await writer.write(.open(producer: randomProducer()))
            try await writer.write(.batch(sequence, events))
            var received: [IngestEventsResponse] = []
            for try await response in responses {
                received.append(response)
                if received.count == 2 { break }
            }
            return received
        }
        guard responses.count == 2, case .ack(let ack) = responses[1].kind else {
            throw RPCError(code: .internal, message: "expected ready then ack, got \(responses.count) messages")
        }
        return ack
    }
}

/// Routes every call to `inner` as if it came from `peer`, so tests can play clients at different addresses over
/// the in-process transport (whose own peer is always "in-process").
func router(_ inner: Router, asPeer peer: String) -> Router {
    var router = Router()
    for method in inner.methods {
        router.register(method) { io, context in
            let rewritten = ServerContext(
                methodPath: context.methodPath, metadata: context.metadata, deadline: context.deadline, peer: peer)
            let trailers = await inner.handle(io, context: rewritten)
            guard trailers.status.isOK else { throw RPCError(status: trailers.status, metadata: trailers.metadata) }
            context.trailingMetadata = trailers.metadata
        }
    }
    return router
}

func bearer(_ token: String?) -> Metadata {
    var metadata = Metadata()
    if let token { metadata.append("authorization", "Bearer \(token)") }
    return metadata
}

func randomProducer() -> [UInt8] { SecureRandom.bytes(16) }

/// The status code a call ends with: OK when it returns, the error's code when it throws `RPCError`.
func statusCode(_ body: () async throws -> Void) async -> Status.Code {
    do {
        try await body()
        return .ok
    } catch let error as RPCError {
        return error.code
    } catch {
        return .unknown
    }
}

/// The `RPCError` a call throws, or nil when it succeeds.
func rpcError(_ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(code: .unknown, message: "\(error)")
    }
}

func makeAPIEvent(
    _ severity: Severity,
    source: String = "web-01",
    type: String = "ssh.login_failed",
    description: String = "failed password for root",
    occurredAt: Timestamp? = nil,
    key: String = ""
) -> Event {
    var event = Event()
    event.sourceName = source
    event.eventType = type
    event.severity = severity
    event.description = description
    event.occurredAt = occurredAt
    event.idempotencyKey = key
    return event
}

extension IngestEventsRequest {
    static func open(producer: [UInt8]) -> IngestEventsRequest {
        var open = IngestOpen()
        open.producerId = producer
        var request = IngestEventsRequest()
        request.kind = .open(open)
        return request
    }

    static func batch(_ sequence: UInt64, _ events: [Event]) -> IngestEventsRequest {
        var batch = EventBatch()
        batch.sequence = sequence
        batch.events = events
        var request = IngestEventsRequest()
        request.kind = .batch(batch)
        return request
    }
}
