// Authenticate, RefreshToken and WhoAmI. A login costs one PBKDF2 on the hashing pool whether or not the username
// exists (an unknown user is checked against the dummy hash) and answers one message for every wrong credential, so
// neither timing nor text tells an attacker which usernames exist. Failures are throttled per (username, client
// address), checked before hashing so a locked pair costs nothing. Refresh tokens rotate: each is recorded by its
// `jti` and usable once; presenting a used one revokes its whole family (OAuth 2.0 security BCP reuse detection).
import VigilAPI
import VigilRPC
import VigilWire

extension VigilServer {
    /// The trailer that says how many seconds a throttled client should wait.
    public static let retryAfterKey = "retry-after"

    func registerAuthentication(into router: inout Router) {
        self.unary(&router, VigilMethods.authenticate) { (request: AuthenticateRequest, _, context) in
            try await self.authenticate(request, peer: context.peer)
        }
        self.unary(&router, VigilMethods.refreshToken) { (request: RefreshTokenRequest, _, _) in
            try await self.refresh(request)
        }
        self.authenticatedUnary(&router, VigilMethods.whoAmI) { (_: WhoAmIRequest, caller, _) in
            var response = WhoAmIResponse()
            response.user = caller.user.user
            response.accessTokenExpiresAt = Timestamp(seconds: caller.claims.expiresAt)
            return response
        }
    }

    func authenticate(_ request: AuthenticateRequest, peer: String) async throws(RPCError) -> AuthenticateResponse {
        guard !request.usernameUTF8.isEmpty, !request.passwordUTF8.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "username and password are required")
        }
        let username = request.username
        let address = Self.clientAddress(peer)
        if case .locked(let retryAfter) = self.throttle.check(username: username, address: address) {
            throw Self.throttled(retryAfter: retryAfter)
        }
        let user = try await RPCError.mappingStore { () throws(StoreError) in
            try await self.store.user(username: username)
        }
        let matches: Bool
        do throws(HashingPoolError) {
            matches = try await self.hashingPool.verify(request.password, againstStoredHash: user?.passwordHash)
        } catch {
            throw RPCError(pool: error)
        }
        // A disabled user is refused like a wrong password, after the same work.
        guard matches, let user, !user.user.disabled else {
            self.throttle.recordFailure(username: username, address: address)
            throw RPCError.badCredentials
        }
        self.throttle.recordSuccess(username: username, address: address)
        await self.upgradeHashIfWeak(user, password: request.password)
        let refresh = try self.issue(user, .refresh, familyID: nil)
        try await RPCError.mappingStore { () throws(StoreError) in
            try await self.store.storeRefreshToken(Self.record(refresh, parent: nil))
        }
        var response = AuthenticateResponse()
        response.tokens = Self.pair(access: try self.issue(user, .access, familyID: nil), refresh: refresh)
        response.user = user.user
        return response
    }

    /// A hash with fewer iterations than the pool's hasher uses (users migrated from Django arrive with older
    /// counts) is replaced, at the one moment the password is known: a successful login. Failure to upgrade never
    /// fails the login; the next one tries again.
    func upgradeHashIfWeak(_ user: StoredUser, password: String) async {
        guard self.hashingPool.hasher.needsRehash(user.passwordHash),
            let stronger = try? await self.hashingPool.hash(password)
        else { return }
        _ = try? await self.store.upgradePasswordHash(userID: user.id, from: user.passwordHash, to: stronger)
    }

    func refresh(_ request: RefreshTokenRequest) async throws(RPCError) -> RefreshTokenResponse {
        let claims: TokenClaims
        do throws(TokenError) {
            claims = try self.tokens.verify(request.refreshToken, expecting: .refresh)
        } catch {
            throw RPCError(code: .unauthenticated, message: RPCError.badToken.message, cause: error)
        }
        let user = try await self.currentUser(for: claims)
        let family = claims.familyID ?? claims.tokenID
        let successor = try self.issue(user, .refresh, familyID: family)
        let outcome = try await RPCError.mappingStore { () throws(StoreError) in
            try await self.store.rotateRefreshToken(
                presentedID: claims.tokenID, successor: Self.record(successor, parent: claims.tokenID))
        }
        guard case .rotated = outcome else {
            // .reuseDetected: the store has revoked the family already; .unknown: never issued here.
            throw RPCError.badToken
        }
        var response = RefreshTokenResponse()
        response.tokens = Self.pair(access: try self.issue(user, .access, familyID: family), refresh: successor)
        response.user = user.user
        return response
    }

    // MARK: Parts

    /// A signed token for `user` of `type`, stamped with the user's current token epoch.
    func issue(_ user: StoredUser, _ type: TokenType, familyID: String?) throws(RPCError) -> IssuedToken {
        let lifetime =
            type == .access ? self.configuration.accessTokenLifetime : self.configuration.refreshTokenLifetime
        do throws(TokenError) {
            return try self.tokens.issue(
                userID: user.id, role: user.user.role, type: type, lifetime: lifetime, familyID: familyID,
                epoch: user.tokenEpoch)
        } catch {
            throw RPCError(code: .internal, message: "cannot issue a token", cause: error)
        }
    }

    static func record(_ token: IssuedToken, parent: String?) -> RefreshTokenRecord {
        RefreshTokenRecord(
            tokenID: token.claims.tokenID,
            userID: token.claims.userID,
            familyID: token.claims.familyID ?? token.claims.tokenID,
            parentTokenID: parent,
            issuedAt: token.claims.issuedAt,
            expiresAt: token.claims.expiresAt
        )
    }

    static func pair(access: IssuedToken, refresh: IssuedToken) -> TokenPair {
        var pair = TokenPair()
        pair.accessToken = access.token
        pair.accessTokenExpiresAt = Timestamp(seconds: access.claims.expiresAt)
        pair.refreshToken = refresh.token
        pair.refreshTokenExpiresAt = Timestamp(seconds: refresh.claims.expiresAt)
        return pair
    }

    static func throttled(retryAfter: Int64) -> RPCError {
        var metadata = Metadata()
        metadata.append(Self.retryAfterKey, String(max(1, retryAfter)))
        return RPCError(
            code: .resourceExhausted,
            message: "too many failed logins for this username from this address; retry later",
            metadata: metadata
        )
    }

    /// The address part of a transport's peer description: `1.2.3.4:5678` → `1.2.3.4`, `[::1]:443` → `::1`,
    /// anything else unchanged. Throttling counts per address, not per connection: a new source port must not
    /// buy a new allowance.
    static func clientAddress(_ peer: String) -> String {
        if peer.hasPrefix("["), let close = peer.firstIndex(of: "]") {
            return String(peer[peer.index(after: peer.startIndex)..<close])
        }
        let colons = peer.count { $0 == ":" }
        guard colons == 1, let colon = peer.lastIndex(of: ":") else { return peer }
        let port = peer[peer.index(after: colon)...]
        guard !port.isEmpty, port.allSatisfy(\.isASCII), port.allSatisfy(\.isNumber) else { return peer }
        return String(peer[..<colon])
    }
}
