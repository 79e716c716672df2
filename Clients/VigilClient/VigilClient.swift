// The Swift client of Vigil: one method per RPC over any VigilRPC transport (the network connection in
// production, the in-process transport in tests), with the login session handled for the caller.
//
// Tokens: after `authenticate` the client keeps the pair and sends `authorization: Bearer <access token>` on every
// call. It refreshes the access token a minute before it expires, with one refresh shared by every call that needs
// it at that moment (a hundred concurrent calls must not rotate the refresh token a hundred times: the server treats
// a second use of one refresh token as theft and revokes the family). A call answered UNAUTHENTICATED is retried
// once after a refresh, which covers a token that expired in flight or a server restart with new signing state.
// Stored tokens (`SessionTokens`) let an agent reuse its session across restarts instead of logging in again.
import Foundation
import Synchronization
public import VigilAPI
public import VigilRPC
import VigilWire

/// A login session: what `vigilctl login` stores and an agent may persist.
public struct SessionTokens: Sendable, Hashable, Codable {
    public var accessToken: String
    /// Seconds since the epoch (UTC) after which the access token is refused.
    public var accessExpiresAt: Int64
    public var refreshToken: String
    public var refreshExpiresAt: Int64

    public init(accessToken: String, accessExpiresAt: Int64, refreshToken: String, refreshExpiresAt: Int64) {
        self.accessToken = accessToken
        self.accessExpiresAt = accessExpiresAt
        self.refreshToken = refreshToken
        self.refreshExpiresAt = refreshExpiresAt
    }

    init?(_ pair: TokenPair?) {
        guard let pair, !pair.accessToken.isEmpty, !pair.refreshToken.isEmpty else { return nil }
        self.init(
            accessToken: pair.accessToken, accessExpiresAt: pair.accessTokenExpiresAt?.seconds ?? 0,
            refreshToken: pair.refreshToken, refreshExpiresAt: pair.refreshTokenExpiresAt?.seconds ?? 0
        )
    }
}

public final class VigilClient: Sendable {
    /// How long before expiry the access token is renewed.
    public static let refreshMargin: Int64 = 60

    public let transport: any RPCClient
    /// Applied to every call without a deadline of its own; nil waits as long as the call takes.
    public let defaultTimeout: Duration?
    private let clock: @Sendable () -> Int64
    private let onTokensChanged: (@Sendable (SessionTokens?) -> Void)?
    private let session: Mutex<Session>

    private struct Session {
        var tokens: SessionTokens? {
            didSet { self.bearer = self.tokens.map { VigilClient.bearer($0.accessToken) } }
        }
        /// `authorization: Bearer <access token>`, built once per token rather than per call (a 300-byte string
        /// and an array each time).
        private(set) var bearer: Metadata?
        /// The refresh every caller waits for, while one is running.
        var refreshing: Task<SessionTokens, any Error>?

        init(tokens: SessionTokens?) {
            self.tokens = tokens
            self.bearer = tokens.map { VigilClient.bearer($0.accessToken) }
        }
    }

    /// - Parameters:
    ///   - tokens: a stored session to resume, if any.
    ///   - onTokensChanged: called after every login, refresh and logout, to persist the session.
    ///   - clock: seconds since the epoch; tests move it.
    public init(
        transport: any RPCClient,
        tokens: SessionTokens? = nil,
        defaultTimeout: Duration? = .seconds(30),
        onTokensChanged: (@Sendable (SessionTokens?) -> Void)? = nil,
        clock: (@Sendable () -> Int64)? = nil
    ) {
        self.transport = transport
        self.defaultTimeout = defaultTimeout
        self.clock = clock ?? { Int64(Date().timeIntervalSince1970) }
        self.onTokensChanged = onTokensChanged
        self.session = Mutex(Session(tokens: tokens))
    }

    /// The current session, if logged in.
    public var tokens: SessionTokens? { self.session.withLock { $0.tokens } }

    // MARK: Session

    /// Logs in and keeps the returned tokens for every later call.
    @discardableResult
    public func authenticate(username: String, password: String) async throws -> AuthenticateResponse {
        var request = AuthenticateRequest()
        request.username = username
        request.password = password
        let response = try await self.transport.unary(
            VigilMethods.authenticate, request: request, responseType: AuthenticateResponse.self,
            deadline: self.deadline(nil))
        guard let tokens = SessionTokens(response.tokens) else {
            throw RPCError(code: .internal, message: "the server answered Authenticate without tokens")
        }
        self.store(tokens)
        return response
    }

    /// Forgets the session (the tokens stay valid on the server until they expire).
    public func logout() { self.store(nil) }

    private func store(_ tokens: SessionTokens?) {
        self.session.withLock { $0.tokens = tokens }
        self.onTokensChanged?(tokens)
    }

    /// The metadata presenting an access token good for at least `refreshMargin` more seconds, refreshing first
    /// when needed.
    func authorization(forceRefresh: Bool = false) async throws -> Metadata {
        let now = self.clock()
        let (tokens, bearer, running) = self.session.withLock { ($0.tokens, $0.bearer, $0.refreshing) }
        guard let tokens else { throw RPCError(code: .unauthenticated, message: "not logged in: authenticate first") }
        if !forceRefresh, running == nil, tokens.accessExpiresAt > now + Self.refreshMargin, let bearer {
            return bearer
        }
        return Self.bearer(try await self.refreshed(from: tokens).accessToken)
    }

    /// Runs one refresh for everyone who asks while it runs.
    private func refreshed(from stale: SessionTokens) async throws -> SessionTokens {
        let task: Task<SessionTokens, any Error> = self.session.withLock { session in
            if let running = session.refreshing { return running }
            // Someone else finished a refresh since `stale` was read: use theirs.
            if let current = session.tokens, current.accessToken != stale.accessToken {
                return Task { current }
            }
            let task = Task { try await self.refresh(stale) }
            session.refreshing = task
            return task
        }
        return try await task.value
    }

    private func refresh(_ stale: SessionTokens) async throws -> SessionTokens {
        defer { self.session.withLock { $0.refreshing = nil } }
        guard stale.refreshExpiresAt > self.clock() else {
            self.store(nil)
            throw RPCError(code: .unauthenticated, message: "the session expired: authenticate again")
        }
        var request = RefreshTokenRequest()
        request.refreshToken = stale.refreshToken
        do {
            let response = try await self.transport.unary(
                VigilMethods.refreshToken, request: request, responseType: RefreshTokenResponse.self,
                deadline: self.deadline(nil))
            guard let tokens = SessionTokens(response.tokens) else {
                throw RPCError(code: .internal, message: "the server answered RefreshToken without tokens")
            }
            self.store(tokens)
            return tokens
        } catch let error as RPCError where error.code == .unauthenticated {
            self.store(nil)
            throw error
        }
    }

    // MARK: Calls

    func deadline(_ timeout: Duration?) -> ContinuousClock.Instant? {
        (timeout ?? self.defaultTimeout).map { ContinuousClock.now + $0 }
    }

    static func bearer(_ token: String) -> Metadata {
        var metadata = Metadata()
        metadata.append("authorization", "Bearer " + token)
        return metadata
    }

    /// A unary call with the session's token, retried once after a refresh when the server says UNAUTHENTICATED.
    func call<Request: WireMessage, Response: WireMessage>(
        _ method: MethodDescriptor,
        _ request: Request,
        _ responseType: Response.Type = Response.self,
        timeout: Duration? = nil
    ) async throws -> Response {
        let bearer = try await self.authorization()
        do {
            return try await self.transport.unary(
                method, request: request, responseType: Response.self, metadata: bearer,
                deadline: self.deadline(timeout))
        } catch let error as RPCError where error.code == .unauthenticated {
            let fresh = try await self.authorization(forceRefresh: true)
            return try await self.transport.unary(
                method, request: request, responseType: Response.self, metadata: fresh,
                deadline: self.deadline(timeout))
        }
    }
}

extension VigilClient {
    /// The gRPC status name (`UNAVAILABLE`) of an error a call threw, or nil for an error that is not an RPC
    /// status (a local one): for tools that count failures by status without importing VigilRPC.
    public static func statusName(of error: any Error) -> String? {
        (error as? RPCError)?.code.description
    }
}
