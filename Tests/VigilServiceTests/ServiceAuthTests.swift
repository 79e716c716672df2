// Authentication through the RPCs: login success and the one answer to every wrong credential, throttling per
// (username, address) with retry-after in the trailers, refresh rotation and reuse detection, and revocation by
// disabling or a password reset taking effect on the very next call (while a fresh login right after works).
import Testing
import VigilAPI
import VigilRPC

@testable import VigilService

@Suite struct ServiceAuthTests {
    @Test("a login returns both tokens and the user; WhoAmI with the access token names the user")
    func loginSucceeds() async throws {
        try await ServiceFixture.with { fixture in
            try await fixture.createUser("ana", .analyst)
            // Bracketed by the clock before and after the call: on a loaded machine a login can take seconds.
            let before = AuthClock.system.now()
            let response = try await fixture.login("ana")
            let after = AuthClock.system.now()
            let tokens = try #require(response.tokens)
            #expect(response.user?.username == "ana")
            #expect(response.user?.role == .analyst)
            let accessExpiry = try #require(tokens.accessTokenExpiresAt).seconds
            let refreshExpiry = try #require(tokens.refreshTokenExpiresAt).seconds
            #expect((before + 3600)...(after + 3600) ~= accessExpiry)
            #expect((before + 604_800)...(after + 604_800) ~= refreshExpiry)
            let whoami = try await fixture.call(
                VigilMethods.whoAmI, WhoAmIRequest(), token: tokens.accessToken, as: WhoAmIResponse.self)
            #expect(whoami.user?.username == "ana")
            #expect(whoami.accessTokenExpiresAt?.seconds == accessExpiry)
        }
    }

    @Test("a wrong password and an unknown user get the same status and message, which quotes neither")
    func wrongCredentials() async throws {
        try await ServiceFixture.with { fixture in
            try await fixture.createUser("ana", .analyst)
            let wrong = await rpcError { _ = try await fixture.login("ana", "not the password at all") }
            let unknown = await rpcError { _ = try await fixture.login("nobody", "not the password at all") }
            #expect(wrong?.code == .unauthenticated)
            #expect(unknown?.code == .unauthenticated)
            #expect(wrong?.message == unknown?.message)
            #expect(wrong?.message.contains("not the password") == false)
            #expect(await statusCode { _ = try await fixture.login("", "x") } == .invalidArgument)
            #expect(await statusCode { _ = try await fixture.login("ana", "") } == .invalidArgument)
        }
    }

    @Test("five failures lock the (username, address) pair with retry-after; other addresses are unaffected")
    func throttles() async throws {
        try await ServiceFixture.with { fixture in
            try await fixture.createUser("root", .admin)
            let attacker = try await fixture.connect(router(fixture.router, asPeer: "10.0.0.9:40000"))
            let sameHostOtherPort = try await fixture.connect(router(fixture.router, asPeer: "10.0.0.9:40001"))
            let operatorHost = try await fixture.connect(router(fixture.router, asPeer: "[2001:db8::1]:7443"))
            for _ in 0..<5 {
                let code = await statusCode { _ = try await fixture.login("root", "guess guess guess", via: attacker) }
                #expect(code == .unauthenticated)
            }
            // Locked now, even with the right password, and from another port of the same host.
            let locked = await rpcError { _ = try await fixture.login("root", via: sameHostOtherPort) }
            #expect(locked?.code == .resourceExhausted)
            #expect(locked?.metadata["retry-after"] == "900")
            // The admin logging in from elsewhere is not locked out.
            _ = try await fixture.login("root", via: operatorHost)
            fixture.throttleClock.advance(by: 600)
            let later = await rpcError { _ = try await fixture.login("root", via: attacker) }
            #expect(later?.metadata["retry-after"] == "300")
            fixture.throttleClock.advance(by: 300)
            _ = try await fixture.login("root", via: attacker)
        }
    }

    @Test("a refresh rotates the pair; presenting the old refresh token revokes the whole family")
    func refreshRotationAndReuse() async throws {
        try await ServiceFixture.with { fixture in
            try await fixture.createUser("ana", .analyst)
            let first = try #require(try await fixture.login("ana").tokens)
            let second = try #require(try await self.refresh(fixture, first.refreshToken).tokens)
            #expect(second.refreshToken != first.refreshToken)
            _ = try await fixture.call(
                VigilMethods.whoAmI, WhoAmIRequest(), token: second.accessToken, as: WhoAmIResponse.self)
            // Reuse of the first: refused, and the family (second included) is revoked.
            #expect(await statusCode { _ = try await self.refresh(fixture, first.refreshToken) } == .unauthenticated)
            #expect(await statusCode { _ = try await self.refresh(fixture, second.refreshToken) } == .unauthenticated)
            // Another login is another family and still works.
            let other = try #require(try await fixture.login("ana").tokens)
            _ = try await self.refresh(fixture, other.refreshToken)
        }
    }

    @Test("an access token is refused as a refresh token, and a refresh token as a bearer")
    func tokenTypes() async throws {
        try await ServiceFixture.with { fixture in
            try await fixture.createUser("ana", .analyst)
            let tokens = try #require(try await fixture.login("ana").tokens)
            #expect(await statusCode { _ = try await self.refresh(fixture, tokens.accessToken) } == .unauthenticated)
            let code = await statusCode {
                _ = try await fixture.call(
                    VigilMethods.whoAmI, WhoAmIRequest(), token: tokens.refreshToken, as: WhoAmIResponse.self)
            }
            #expect(code == .unauthenticated)
        }
    }

    @Test("an expired access token is refused")
    func expiry() async throws {
        let clock = ManualClock(AuthClock.system.now())
        let configure: (inout VigilServer.Configuration) -> Void = { $0.clock = clock.clock }
        try await ServiceFixture.with(configure: configure) { fixture in
            let token = try await fixture.userWithToken("ana", .analyst).token
            clock.advance(by: 3599)
            _ = try await fixture.call(VigilMethods.whoAmI, WhoAmIRequest(), token: token, as: WhoAmIResponse.self)
            clock.advance(by: 1)
            let code = await statusCode {
                _ = try await fixture.call(VigilMethods.whoAmI, WhoAmIRequest(), token: token, as: WhoAmIResponse.self)
            }
            #expect(code == .unauthenticated)
        }
    }

    @Test("a login with a hash weaker than the server's (a Django migration) upgrades it and revokes nothing")
    func weakHashUpgraded() async throws {
        try await ServiceFixture.with { fixture in
            // The fixture's pool hashes with 200 iterations; this user arrives with 100.
            let weak = try PasswordHasher(iterations: 100).hash(servicePassword)
            let user = try await fixture.store.createUser(NewUser(username: "migrated", role: .analyst, passwordHash: weak))
            let first = try #require(try await fixture.login("migrated").tokens)
            let stored = try #require(try await fixture.store.user(id: user.id))
            #expect(stored.passwordHash.hasPrefix("pbkdf2_sha256$200$"))
            #expect(stored.passwordHash != weak)
            #expect(stored.tokenEpoch == user.tokenEpoch)
            // The token issued at the upgrading login still works, and so does the password.
            #expect(await self.whoAmI(fixture, first.accessToken) == .ok)
            _ = try await fixture.login("migrated")
            #expect(try await fixture.store.user(id: user.id)?.passwordHash == stored.passwordHash)
        }
    }

    @Test("disabling a user refuses its tokens at once; re-enabling lets it log in again")
    func disableRevokes() async throws {
        try await ServiceFixture.with { fixture in
            let admin = try await fixture.userWithToken("root", .admin).token
            let ana = try await fixture.createUser("ana", .analyst)
            let tokens = try #require(try await fixture.login("ana").tokens)
            // A call first, so the server has the caller cached when the change lands.
            #expect(await self.whoAmI(fixture, tokens.accessToken) == .ok)
            try await self.update(fixture, admin, ana.id) { $0.disabled = true }
            #expect(await self.whoAmI(fixture, tokens.accessToken) == .unauthenticated)
            #expect(await statusCode { _ = try await self.refresh(fixture, tokens.refreshToken) } == .unauthenticated)
            #expect(await statusCode { _ = try await fixture.login("ana") } == .unauthenticated)
            try await self.update(fixture, admin, ana.id) { $0.disabled = false }
            let fresh = try #require(try await fixture.login("ana").tokens)
            #expect(await self.whoAmI(fixture, fresh.accessToken) == .ok)
        }
    }

    @Test("a password reset refuses earlier tokens at once; a login with the new password right after works")
    func resetRevokes() async throws {
        try await ServiceFixture.with { fixture in
            let admin = try await fixture.userWithToken("root", .admin).token
            let ana = try await fixture.createUser("ana", .analyst)
            let tokens = try #require(try await fixture.login("ana").tokens)
            #expect(await self.whoAmI(fixture, tokens.accessToken) == .ok)
            try await self.update(fixture, admin, ana.id) { $0.newPassword = "a brand new passphrase" }
            #expect(await self.whoAmI(fixture, tokens.accessToken) == .unauthenticated)
            #expect(await statusCode { _ = try await self.refresh(fixture, tokens.refreshToken) } == .unauthenticated)
            #expect(await statusCode { _ = try await fixture.login("ana") } == .unauthenticated)
            // Same second as the reset: the token epoch, not the clock, decides.
            let fresh = try #require(try await fixture.login("ana", "a brand new passphrase").tokens)
            #expect(await self.whoAmI(fixture, fresh.accessToken) == .ok)
            _ = try await self.refresh(fixture, fresh.refreshToken)
        }
    }

    @Test("a demoted admin's old token carries no admin rights: the stored role decides")
    func demotionTakesEffect() async throws {
        try await ServiceFixture.with { fixture in
            let root = try await fixture.userWithToken("root", .admin).token
            let other = try await fixture.userWithToken("boss", .admin)
            try await self.update(fixture, root, other.user.id) { $0.role = .analyst }
            let code = await statusCode {
                _ = try await fixture.call(
                    VigilMethods.listUsers, ListUsersRequest(), token: other.token, as: ListUsersResponse.self)
            }
            #expect(code == .permissionDenied)
        }
    }

    @Test(
        "the caller cache keys by the whole authorization value: any spelling of the scheme works, and no other value rides on a cached one"
    )
    func cacheKeysByHeader() async throws {
        try await ServiceFixture.with { fixture in
            let (_, token) = try await fixture.userWithToken("ana", .analyst)
            func whoAmI(_ value: String) async -> Status.Code? {
                await statusCode {
                    _ = try await fixture.client.unary(
                        VigilMethods.whoAmI, request: WhoAmIRequest(), responseType: WhoAmIResponse.self,
                        metadata: Metadata(["authorization": value]))
                }
            }
            // Twice each: the second call of a spelling is served from the cache under that spelling.
            for value in ["Bearer \(token)", "bEaReR \(token)", "Bearer  \(token)"] {
                #expect(await whoAmI(value) == .ok, "\(value.prefix(9))")
                #expect(await whoAmI(value) == .ok, "\(value.prefix(9))")
            }
            #expect(await whoAmI("Bearer \(token)x") == .unauthenticated)
            #expect(await whoAmI("Basic \(token)") == .unauthenticated)
            #expect(await whoAmI("\(token)") == .unauthenticated)
        }
    }

    @Test("bearer values and peer addresses parse as documented")
    func parsing() {
        #expect(VigilServer.bearerToken("Bearer abc") == "abc")
        #expect(VigilServer.bearerToken("bearer  abc") == "abc")
        #expect(VigilServer.bearerToken("Bearer ") == nil)
        #expect(VigilServer.bearerToken("Basic abc") == nil)
        #expect(VigilServer.bearerToken("abc") == nil)
        #expect(VigilServer.bearerToken("BEARER abc") == "abc")
        #expect(VigilServer.bearerToken("Bearer\u{0}abc") == nil)
        #expect(VigilServer.bearerToken("Bearer\tabc") == nil)
        #expect(VigilServer.bearerToken("Bëarer abc") == nil)
        #expect(VigilServer.clientAddress("10.1.2.3:5555") == "10.1.2.3")
        #expect(VigilServer.clientAddress("[::1]:7443") == "::1")
        #expect(VigilServer.clientAddress("in-process") == "in-process")
        #expect(VigilServer.clientAddress("::1") == "::1")
    }

    @Test("tokens carry the user's epoch (tep); without one, the revocation second decides")
    func epochClaim() throws {
        let codec = try TokenCodec(secret: TokenCodec.makeSecret())
        let issued = try codec.issue(userID: 3, role: .agent, type: .access, lifetime: 60, epoch: 7)
        #expect(try codec.verify(issued.token, expecting: .access).epoch == 7)
        let legacy = try codec.issue(userID: 3, role: .agent, type: .access, lifetime: 60)
        #expect(try codec.verify(legacy.token, expecting: .access).epoch == nil)
        var user = User()
        user.id = 3
        let stored = StoredUser(user: user, passwordHash: "", tokenEpoch: 7, tokensRevokedAt: issued.claims.issuedAt)
        #expect(VigilServer.isCurrent(issued.claims, for: stored))
        #expect(!VigilServer.isCurrent(legacy.claims, for: stored))
        var bumped = stored
        bumped.tokenEpoch = 8
        #expect(!VigilServer.isCurrent(issued.claims, for: bumped))
        bumped.tokensRevokedAt = legacy.claims.issuedAt - 1
        #expect(VigilServer.isCurrent(legacy.claims, for: bumped))
    }

    // MARK: Helpers

    func refresh(_ fixture: ServiceFixture, _ token: String) async throws -> RefreshTokenResponse {
        var request = RefreshTokenRequest()
        request.refreshToken = token
        return try await fixture.call(VigilMethods.refreshToken, request, token: nil, as: RefreshTokenResponse.self)
    }

    func whoAmI(_ fixture: ServiceFixture, _ token: String) async -> Status.Code {
        await statusCode {
            _ = try await fixture.call(VigilMethods.whoAmI, WhoAmIRequest(), token: token, as: WhoAmIResponse.self)
        }
    }

    func update(
        _ fixture: ServiceFixture, _ admin: String, _ id: Int64, _ change: (inout UpdateUserRequest) -> Void
    ) async throws {
        var request = UpdateUserRequest()
        request.id = id
        change(&request)
        _ = try await fixture.call(VigilMethods.updateUser, request, token: admin, as: UpdateUserResponse.self)
    }
}
