// The client's session handling against a small fake of the server's auth rules, over the in-process transport:
// the bearer token on every call, one shared refresh before expiry, one retry after UNAUTHENTICATED, resumed
// sessions, and errors that carry the server's status.
import Synchronization
import Testing
import VigilAPI
import VigilClient
import VigilRPC

/// The auth rules the client relies on, reduced to counters: access tokens `A<n>`, refresh tokens `R<n>`, each
/// refresh token usable once.
final class FakeAuthServer: Sendable {
    struct State {
        var generation = 0
        var validAccess: Set<String> = []
        var usedRefresh: Set<String> = []
        var refreshes = 0
        var now: Int64 = 1_800_000_000
    }

    let state = Mutex(State())

    var now: Int64 { self.state.withLock { $0.now } }
    var refreshes: Int { self.state.withLock { $0.refreshes } }
    func advance(_ seconds: Int64) { self.state.withLock { $0.now += seconds } }
    func revokeAllAccessTokens() { self.state.withLock { $0.validAccess = [] } }

    private func issue(_ state: inout State) -> TokenPair {
        state.generation += 1
        var pair = TokenPair()
        pair.accessToken = "A\(state.generation)"
        pair.accessTokenExpiresAt = Timestamp(seconds: state.now + 3600)
        pair.refreshToken = "R\(state.generation)"
        pair.refreshTokenExpiresAt = Timestamp(seconds: state.now + 604_800)
        state.validAccess.insert(pair.accessToken)
        return pair
    }

    func authorize(_ context: ServerContext) throws -> String {
        guard let header = context.metadata["authorization"], header.hasPrefix("Bearer ") else {
            throw RPCError(code: .unauthenticated, message: "missing token")
        }
        let token = String(header.dropFirst("Bearer ".count))
        guard self.state.withLock({ $0.validAccess.contains(token) }) else {
            throw RPCError(code: .unauthenticated, message: "invalid token")
        }
        return token
    }

    var router: Router {
        var router = Router()
        router.registerUnary(VigilMethods.authenticate) { (request: AuthenticateRequest, _) -> AuthenticateResponse in
            guard request.username == "admin", request.password == "correct horse battery" else {
                throw RPCError(code: .unauthenticated, message: "wrong username or password")
            }
            var response = AuthenticateResponse()
            response.tokens = self.state.withLock { self.issue(&$0) }
            return response
        }
        router.registerUnary(VigilMethods.refreshToken) { (request: RefreshTokenRequest, _) -> RefreshTokenResponse in
            try self.state.withLock { state in
                guard request.refreshToken.hasPrefix("R"), !state.usedRefresh.contains(request.refreshToken) else {
                    throw RPCError(code: .unauthenticated, message: "refresh token reused")
                }
                state.usedRefresh.insert(request.refreshToken)
                state.refreshes += 1
                var response = RefreshTokenResponse()
                response.tokens = self.issue(&state)
                return response
            }
        }
        router.registerUnary(VigilMethods.whoAmI) { (_: WhoAmIRequest, context) -> WhoAmIResponse in
            let token = try self.authorize(context)
            var user = User()
            user.username = "admin:" + token
            var response = WhoAmIResponse()
            response.user = user
            return response
        }
        router.registerUnary(VigilMethods.getEvent) { (request: GetEventRequest, context) -> GetEventResponse in
            _ = try self.authorize(context)
            throw RPCError(code: .notFound, message: "event \(request.id) not found")
        }
        return router
    }
}

/// What the client handed to `onTokensChanged`, in order.
final class TokenRecorder: Sendable {
    let values = Mutex<[SessionTokens?]>([])
}

@Suite struct VigilClientSessionTests {
    let server = FakeAuthServer()

    func client(tokens: SessionTokens? = nil, changes: TokenRecorder? = nil) -> VigilClient {
        let server = self.server
        return VigilClient(
            transport: InProcessTransport(router: server.router), tokens: tokens,
            onTokensChanged: { tokens in changes?.values.withLock { $0.append(tokens) } },
            clock: { server.now }
        )
    }

    @Test("after login every call carries the access token, and the session is handed out to be stored")
    func login() async throws {
        let changes = TokenRecorder()
        let client = self.client(changes: changes)
        try await client.authenticate(username: "admin", password: "correct horse battery")
        #expect(try await client.whoAmI().user?.username == "admin:A1")
        #expect(client.tokens?.refreshToken == "R1")
        #expect(changes.values.withLock { $0 }.map { $0?.accessToken } == ["A1"])
    }

    @Test("wrong credentials and calls before login are UNAUTHENTICATED")
    func unauthenticated() async {
        let client = self.client()
        let before = await #expect(throws: RPCError.self) { try await client.whoAmI() }
        #expect(before?.code == .unauthenticated)
        let wrong = await #expect(throws: RPCError.self) {
            try await client.authenticate(username: "admin", password: "guess")
        }
        #expect(wrong?.code == .unauthenticated)
        #expect(wrong?.message == "wrong username or password")
    }

    @Test("an access token about to expire is refreshed before the call, once for many concurrent calls")
    func refreshBeforeExpiry() async throws {
        let client = self.client()
        try await client.authenticate(username: "admin", password: "correct horse battery")
        self.server.advance(3600 - 30)  // inside the refresh margin
        let names = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { try await client.whoAmI().user?.username ?? "" } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(names == ["admin:A2"])
        #expect(self.server.refreshes == 1)
    }

    @Test("a call answered UNAUTHENTICATED is retried once after a refresh")
    func retryAfterRevocation() async throws {
        let client = self.client()
        try await client.authenticate(username: "admin", password: "correct horse battery")
        self.server.revokeAllAccessTokens()
        #expect(try await client.whoAmI().user?.username == "admin:A2")
        #expect(self.server.refreshes == 1)
    }

    @Test("a stored session is resumed without logging in again")
    func resume() async throws {
        let first = self.client()
        try await first.authenticate(username: "admin", password: "correct horse battery")
        let stored = try #require(first.tokens)
        let second = self.client(tokens: stored)
        #expect(try await second.whoAmI().user?.username == "admin:A1")
    }

    @Test("an expired refresh token ends the session: UNAUTHENTICATED, tokens forgotten")
    func expiredSession() async throws {
        let client = self.client()
        try await client.authenticate(username: "admin", password: "correct horse battery")
        self.server.advance(604_800 + 1)
        let error = await #expect(throws: RPCError.self) { try await client.whoAmI() }
        #expect(error?.code == .unauthenticated)
        #expect(client.tokens == nil)
    }

    @Test("a server error reaches the caller with its status code and message")
    func serverError() async throws {
        let client = self.client()
        try await client.authenticate(username: "admin", password: "correct horse battery")
        let error = await #expect(throws: RPCError.self) { try await client.getEvent(id: 404) }
        #expect(error?.code == .notFound)
        #expect(error?.message == "event 404 not found")
    }
}
