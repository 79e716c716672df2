// Who is calling, decided once per call before its handler runs: the access policy says whether the method needs a
// token; if so the `authorization: Bearer <jwt>` metadata must hold an access token this server signed, unexpired,
// of a user that still exists, is enabled, and whose token epoch has not moved since the token was issued (a
// disabled user or a password reset refuses every earlier token at once). The role checked is the user's current
// one, not the one in the token, so a demotion takes effect on the next call. Every refusal of the token answers
// UNAUTHENTICATED with one message; a valid caller of the wrong role answers PERMISSION_DENIED.
import VigilAPI
import VigilRPC

/// The authenticated caller of one call.
///
/// A class: the cache hands the same caller to every call with its token, and a handler's async frames hold one
/// reference instead of a copy of the user and the claims (as a struct of a dozen strings and references it made
/// each frame holding it hundreds of bytes larger, and each copy retained every field).
public final class Caller: Sendable {
    /// The user as stored when the call was authorised.
    public let user: StoredUser
    /// The claims of the access token the call presented.
    public let claims: TokenClaims

    init(user: StoredUser, claims: TokenClaims) {
        self.user = user
        self.claims = claims
    }

    /// How the store records this caller on what it writes.
    public var acting: ActingUser { ActingUser(userID: self.user.id, username: self.user.user.username) }

    /// The caller of a method that needs one; INTERNAL when the policy let an anonymous call through to it.
    static func required(_ caller: Caller?) throws(RPCError) -> Caller {
        guard let caller else { throw RPCError(code: .internal, message: "this method needs an authenticated caller") }
        return caller
    }
}

extension VigilServer {
    /// The metadata key of the bearer token, as `TokenPair`'s documentation states it.
    public static let authorizationKey = "authorization"

    /// Authorises a call of `method`: nil for methods anyone may call (a token sent to them is ignored), the caller
    /// otherwise. UNAUTHENTICATED for a missing or refused token, PERMISSION_DENIED for a role the method excludes
    /// (and for a method missing from the policy: deny by default).
    @inline(never)
    func authorize(_ context: ServerContext, _ method: MethodDescriptor) async throws(RPCError) -> Caller? {
        // The common case, a token whose caller is cached, is decided without suspending; the lookup lives in its
        // own function so its large async frame (claims, stored user, errors) is allocated only when a call needs
        // it: allocated on every call it cost two mallocs of a task-allocator slab per call (perf probe on malloc).
        switch try self.authorizeFromCache(context, method) {
        case .decided(let caller): return caller
        case .needsLookup: return try await self.authorizeByLookup(context, method)
        }
    }

    private enum CachedAuthorization {
        case decided(Caller?)
        case needsLookup
    }

    /// Out of line like the lookup: inlined into the handler closures, its locals went into their async frames
    /// (the Echo closure's grew from 416 bytes to 1.5 KB, past a task-allocator slab).
    @inline(never)
    private func authorizeFromCache(
        _ context: ServerContext, _ method: MethodDescriptor
    ) throws(RPCError) -> CachedAuthorization {
        let policy = self.configuration.accessPolicy
        guard let permission = policy.permission(for: method) else {
            throw RPCError(code: .permissionDenied, message: "\(method.path) is not open to any role")
        }
        guard permission.requiresToken else { return .decided(nil) }
        // Token-bearing calls are the data work logins must not crowd out (HashingPace).
        self.hashingPool.noteDemand()
        guard let caller = self.cachedCaller(context.metadata) else { return .needsLookup }
        return .decided(try Self.check(caller, policy, method))
    }

    @inline(never)
    private func authorizeByLookup(_ context: ServerContext, _ method: MethodDescriptor) async throws(RPCError)
        -> Caller
    {
        let caller = try await self.resolveCaller(context.metadata)
        return try Self.check(caller, self.configuration.accessPolicy, method)
    }

    private static func check(
        _ caller: Caller, _ policy: AccessPolicy, _ method: MethodDescriptor
    ) throws(RPCError) -> Caller {
        switch policy.check(role: caller.user.user.role, method: method) {
        case .allowed:
            return caller
        case .unauthenticated:
            throw RPCError.badToken
        case .permissionDenied:
            throw RPCError(
                code: .permissionDenied,
                message: "role \(caller.user.user.role.claimName ?? "none") may not call \(method.method)"
            )
        }
    }

    /// The caller the metadata's token resolved to before, if the cache still vouches for it. The cache is keyed
    /// by the whole `authorization` value, so a hit needs no parsing and no copy of the token (both were 1.5 % of
    /// a unary call's server CPU); a value naming the same token another way is a miss that resolves and is kept
    /// under its own key.
    private func cachedCaller(_ metadata: Metadata) -> Caller? {
        guard let header = metadata[Self.authorizationKey] else { return nil }
        return self.callers.caller(
            for: header, usersChanged: self.store.usersChanged, now: self.configuration.clock.now())
    }

    /// The caller named by the metadata's access token, or UNAUTHENTICATED.
    func resolveCaller(_ metadata: Metadata) async throws(RPCError) -> Caller {
        guard let header = metadata[Self.authorizationKey], let token = Self.bearerToken(header) else {
            throw RPCError.badToken
        }
        // Read before the user is, so a user change committed meanwhile invalidates what is cached below.
        let usersChanged = self.store.usersChanged
        let now = self.configuration.clock.now()
        if let cached = self.callers.caller(for: header, usersChanged: usersChanged, now: now) { return cached }
        let claims: TokenClaims
        do throws(TokenError) {
            claims = try self.tokens.verify(token, expecting: .access)
        } catch {
            throw RPCError(code: .unauthenticated, message: RPCError.badToken.message, cause: error)
        }
        let user = try await self.currentUser(for: claims)
        let caller = Caller(user: user, claims: claims)
        self.callers.remember(caller, for: header, usersChanged: usersChanged, now: now)
        return caller
    }

    /// The user a verified token names, if the token still speaks for it: the user exists, is enabled, and has not
    /// revoked its tokens since this one was issued.
    func currentUser(for claims: TokenClaims) async throws(RPCError) -> StoredUser {
        let found = try await RPCError.mappingStore { () throws(StoreError) in
            try await self.store.user(id: claims.userID)
        }
        guard let user = found, !user.user.disabled, Self.isCurrent(claims, for: user) else {
            throw RPCError.badToken
        }
        return user
    }

    /// Whether no revocation happened after `claims` were issued: by the token epoch when the token carries one
    /// (exact, even within one second); otherwise by the revocation second, which refuses tokens issued in it.
    static func isCurrent(_ claims: TokenClaims, for user: StoredUser) -> Bool {
        if let epoch = claims.epoch { return epoch == user.tokenEpoch }
        return claims.issuedAt > user.tokensRevokedAt
    }

    /// The token of an `authorization` value `Bearer <token>` (scheme in any case, RFC 7235), or nil.
    static func bearerToken(_ header: String) -> String? {
        // Compared as bytes: Character-wise prefix and lowercasing were 2 % of a unary call's server CPU (perf).
        let scheme = "bearer ".utf8
        let bytes = header.utf8
        guard bytes.count > scheme.count,
            zip(bytes, scheme).allSatisfy({ byte, expected in
                // ASCII letters match in either case; the space only as itself.
                (expected == UInt8(ascii: " ") ? byte : byte | 0x20) == expected
            })
        else { return nil }
        let token = bytes.dropFirst(scheme.count).drop { $0 == UInt8(ascii: " ") }
        return token.isEmpty ? nil : String(decoding: token, as: UTF8.self)
    }
}
