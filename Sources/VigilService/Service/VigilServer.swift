// The service behind `vigil.v1.Vigil` and `vigil.v1.Diagnostics`: one object holding what every handler needs (the
// store, the token codec, the hashing pool, the login throttle, the access policy) and registering a handler per
// method on a VigilRPC `Router`. Every registration goes through `register…` helpers that authorise the call
// first, from the access policy and the bearer token, so no handler can forget to, and the transport (in-process in
// tests, TLS in vigild) never needs to know about users.
import Synchronization
public import VigilAPI
public import VigilRPC
import VigilWire

/// The Vigil service's handlers, ready to be registered on a `Router`.
public final class VigilServer: Sendable {
    /// What the server owner chooses; everything else has a default that matches the business rules.
    public struct Configuration: Sendable {
        /// The HMAC key of tokens: at least 32 random bytes (`TokenCodec.makeSecret()`).
        public var tokenSecret: [UInt8]
        /// Seconds an access token is valid: 1 hour by default.
        public var accessTokenLifetime: Int64 = 3600
        /// Seconds a refresh token is valid: 7 days by default.
        public var refreshTokenLifetime: Int64 = 7 * 24 * 3600
        public var passwordPolicy = PasswordPolicy()
        public var accessPolicy = AccessPolicy.vigil
        /// Seconds since the epoch, for token issue and expiry (tests pass a manual clock).
        public var clock: AuthClock = .system
        /// Nanoseconds since the epoch, the receipt time `occurred_at` is checked against.
        public var eventClock: @Sendable () -> Int64 = SQLiteStore.systemClock
        /// How often a long ingest stream checks its caller's token and user again.
        public var tokenRecheckInterval: Duration = .seconds(1)
        /// Batches one ingest stream may have unacknowledged; the stream stops reading (and granting window) at
        /// the limit. 64 keeps a fast stream busy: at 250k events/s with ~20 ms acks, ~50 batches of 100 are out.
        public var ingestMaxUnackedBatches = 64
        /// Encoded batch bytes all ingest streams together may have queued for the store before they stop reading.
        public var ingestQueueBytes = 64 << 20

        public init(tokenSecret: [UInt8]) {
            self.tokenSecret = tokenSecret
        }
    }

    public let store: any Store
    public let hashingPool: HashingPool
    public let throttle: LoginThrottle
    public let configuration: Configuration
    let tokens: TokenCodec
    let validator = EventValidator()
    /// Callers already resolved from their tokens (see CallerCache).
    let callers = CallerCache()
    /// The live ingest stream of each producer.
    let producers = ProducerRegistry()
    /// Server-wide bound on ingest bytes waiting for the store.
    let ingestBudget: AsyncPermits
    /// Set by the owner when it starts shutting down; `Check` reports it so orchestrators move traffic away.
    private let draining = Atomic<Bool>(false)

    /// Throws `TokenError` when the secret is shorter than `TokenCodec.minimumSecretLength`.
    public init(
        store: any Store,
        hashingPool: HashingPool,
        throttle: LoginThrottle,
        configuration: Configuration
    ) throws(TokenError) {
        self.store = store
        self.hashingPool = hashingPool
        self.throttle = throttle
        self.configuration = configuration
        self.tokens = try TokenCodec(secret: configuration.tokenSecret, clock: configuration.clock)
        self.ingestBudget = AsyncPermits(capacity: max(configuration.ingestQueueBytes, 1))
    }

    // MARK: Serving status

    /// What `Diagnostics.Check` answers.
    public var servingStatus: ServingStatus { self.draining.load(ordering: .relaxed) ? .draining : .serving }

    /// Flips `Check` to DRAINING (true) or back to SERVING (false); the owner calls it when shutdown begins.
    public func setDraining(_ draining: Bool) {
        self.draining.store(draining, ordering: .relaxed)
    }

    // MARK: Registration

    /// A router with every method of both services.
    public func makeRouter() -> Router {
        var router = Router()
        self.register(into: &router)
        return router
    }

    /// Registers every method of `vigil.v1.Vigil` and `vigil.v1.Diagnostics` on `router`.
    public func register(into router: inout Router) {
        self.registerAuthentication(into: &router)
        self.registerUsers(into: &router)
        self.registerEventsAndAlerts(into: &router)
        self.registerIngest(into: &router)
        self.registerDiagnostics(into: &router)
    }

    /// A unary method whose handler gets the authorised caller (nil when the policy lets anyone call it).
    func unary<Request: WireMessage, Response: WireMessage>(
        _ router: inout Router,
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (Request, Caller?, ServerContext) async throws -> Response
    ) {
        router.registerUnary(method) { (request: Request, context) in
            let caller = try await self.authorize(context, method)
            return try await handler(request, caller, context)
        }
    }

    /// A unary method only an authenticated user may call.
    func authenticatedUnary<Request: WireMessage, Response: WireMessage>(
        _ router: inout Router,
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (Request, Caller, ServerContext) async throws -> Response
    ) {
        self.unary(&router, method) { (request: Request, caller, context) in
            try await handler(request, try Caller.required(caller), context)
        }
    }
}
