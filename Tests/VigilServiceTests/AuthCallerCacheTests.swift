// The resolved-caller cache: an entry serves only while the store's user-change counter, the token's expiry and the
// entry's lifetime all allow; a user changed behind the server's back (straight in the store) is seen at the next
// call; memory stays bounded.
import Testing
import VigilAPI
import VigilRPC

@testable import VigilService

@Suite struct AuthCallerCacheTests {
    static func caller(expiresAt: Int64 = 1_000) -> Caller {
        var user = User()
        user.id = 7
        user.role = .analyst
        let stored = StoredUser(user: user, passwordHash: "x", tokenEpoch: 0, tokensRevokedAt: 0)
        let claims = TokenClaims(
            userID: 7, role: .analyst, tokenType: .access, issuedAt: 0, expiresAt: expiresAt, tokenID: "t")
        return Caller(user: stored, claims: claims)
    }

    @Test("an entry serves until the user counter moves, the token expires or the lifetime ends")
    func validity() {
        let cache = CallerCache(capacity: 10, lifetime: 5)
        cache.remember(Self.caller(expiresAt: 100), for: "a", usersChanged: 3, now: 10)
        #expect(cache.caller(for: "a", usersChanged: 3, now: 14)?.user.id == 7)
        #expect(cache.caller(for: "b", usersChanged: 3, now: 14) == nil)
        #expect(cache.caller(for: "a", usersChanged: 4, now: 14) == nil)
        #expect(cache.caller(for: "a", usersChanged: 3, now: 14) == nil, "a stale entry is dropped, not kept")
        cache.remember(Self.caller(expiresAt: 100), for: "a", usersChanged: 3, now: 10)
        #expect(cache.caller(for: "a", usersChanged: 3, now: 15) == nil, "older than the lifetime")
        cache.remember(Self.caller(expiresAt: 12), for: "a", usersChanged: 3, now: 10)
        #expect(cache.caller(for: "a", usersChanged: 3, now: 11) != nil)
        #expect(cache.caller(for: "a", usersChanged: 3, now: 12) == nil, "the token expired")
    }

    @Test("at capacity the cache starts over instead of growing")
    func bounded() {
        let cache = CallerCache(capacity: 4, lifetime: 5)
        for index in 0..<10 { cache.remember(Self.caller(), for: "t\(index)", usersChanged: 0, now: 0) }
        #expect(cache.count <= 4)
        #expect(cache.caller(for: "t9", usersChanged: 0, now: 0) != nil)
    }

    @Test("a user disabled straight in the store is refused at the next call, cached or not")
    func storeChangesInvalidate() async throws {
        try await ServiceFixture.with { fixture in
            let (user, token) = try await fixture.userWithToken("ana", .analyst)
            for _ in 0..<3 {
                _ = try await fixture.call(VigilMethods.whoAmI, WhoAmIRequest(), token: token, as: WhoAmIResponse.self)
            }
            #expect(fixture.server.callers.count >= 1)
            _ = try await fixture.store.updateUser(id: user.id, UserChanges(disabled: true))
            let code = await statusCode {
                _ = try await fixture.call(VigilMethods.whoAmI, WhoAmIRequest(), token: token, as: WhoAmIResponse.self)
            }
            #expect(code == .unauthenticated)
        }
    }
}
