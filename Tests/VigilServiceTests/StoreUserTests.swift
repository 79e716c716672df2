// Users and refresh tokens: unique usernames (case-insensitive), lookups, pages, updates that revoke tokens, and
// refresh rotation with reuse detection revoking the whole family.
import Testing
import VigilAPI
import VigilRPC

@testable import VigilService

@Suite("Store users and tokens")
struct StoreUserTests {
    private func create(_ store: SQLiteStore, _ name: String, _ role: Role = .analyst) async throws -> StoredUser {
        try await store.createUser(
            NewUser(username: name, role: role, passwordHash: "pbkdf2_sha256$600000$s$h-\(name)"))
    }

    @Test("creates users, finds them by id and case-insensitive username, refuses a taken name")
    func createAndFind() async throws {
        try await StoreFixture.with { fixture in
            #expect(try await fixture.store.hasUsers() == false)
            let alice = try await self.create(fixture.store, "Alice", .admin)
            #expect(alice.user.username == "Alice" && alice.user.role == .admin && !alice.user.disabled)
            #expect(alice.passwordHash == "pbkdf2_sha256$600000$s$h-Alice")
            #expect(!alice.description.contains("pbkdf2"))
            #expect(try await fixture.store.hasUsers())
            #expect(try await fixture.store.user(id: alice.id) == alice)
            #expect(try await fixture.store.user(username: "alice") == alice)
            #expect(try await fixture.store.user(username: "bob") == nil)
            let error = await #expect(throws: StoreError.self) { try await self.create(fixture.store, "ALICE") }
            #expect(error?.code == .alreadyExists && error?.statusCode == .alreadyExists)
            let noRole = await #expect(throws: StoreError.self) {
                try await self.create(fixture.store, "carol", .unspecified)
            }
            #expect(noRole?.statusCode == .invalidArgument)
        }
    }

    @Test("lists users by id in pages, optionally by role")
    func listUsers() async throws {
        try await StoreFixture.with { fixture in
            var created: [StoredUser] = []
            for index in 0..<7 {
                created.append(try await self.create(fixture.store, "u\(index)", index % 2 == 0 ? .agent : .analyst))
            }
            var token = ""
            var listed: [User] = []
            repeat {
                let page = try await fixture.store.listUsers(role: nil, pageSize: 3, pageToken: token)
                listed += page.items
                token = page.nextPageToken
            } while !token.isEmpty
            #expect(listed == created.map(\.user))
            let agents = try await fixture.store.listUsers(role: .agent, pageSize: 2, pageToken: "")
            #expect(agents.items.map(\.username) == ["u0", "u2"])
            let rest = try await fixture.store.listUsers(role: .agent, pageSize: 10, pageToken: agents.nextPageToken)
            #expect(rest.items.map(\.username) == ["u4", "u6"] && rest.nextPageToken.isEmpty)
            let error = await #expect(throws: StoreError.self) {
                try await fixture.store.listUsers(role: .analyst, pageSize: 10, pageToken: agents.nextPageToken)
            }
            #expect(error?.code == .invalidPageToken)
        }
    }

    @Test("disabling and a password reset revoke earlier tokens; a role change does not")
    func updatesRevokeTokens() async throws {
        try await StoreFixture.with { fixture in
            let user = try await self.create(fixture.store, "dave")
            let family = "family-1"
            try await fixture.store.storeRefreshToken(self.record("r1", user.id, family))
            let promoted = try await fixture.store.updateUser(id: user.id, UserChanges(role: .admin))
            #expect(promoted.user.role == .admin && promoted.tokenEpoch == 0 && promoted.tokensRevokedAt == 0)
            #expect(try await fixture.store.refreshToken(id: "r1")?.revokedAt == nil)

            let disabled = try await fixture.store.updateUser(id: user.id, UserChanges(disabled: true))
            #expect(disabled.user.disabled && disabled.tokenEpoch == 1 && disabled.tokensRevokedAt > 0)
            #expect(try await fixture.store.refreshToken(id: "r1")?.revokedAt != nil)

            try await fixture.store.storeRefreshToken(self.record("r2", user.id, "family-2"))
            let enabled = try await fixture.store.updateUser(id: user.id, UserChanges(disabled: false))
            #expect(!enabled.user.disabled && enabled.tokenEpoch == 1)
            let reset = try await fixture.store.updateUser(
                id: user.id, UserChanges(passwordHash: "pbkdf2_sha256$1$x$y"))
            #expect(reset.passwordHash == "pbkdf2_sha256$1$x$y" && reset.tokenEpoch == 2)
            #expect(try await fixture.store.refreshToken(id: "r2")?.revokedAt != nil)
            #expect(try #require(reset.user.updatedAt).unixNanoseconds > user.user.updatedAt?.unixNanoseconds ?? 0)

            let missing = await #expect(throws: StoreError.self) {
                try await fixture.store.updateUser(id: 999, UserChanges(disabled: true))
            }
            #expect(missing?.code == .notFound)
        }
    }

    @Test("rotation revokes the presented token; presenting it again revokes the whole family")
    func refreshRotationAndReuse() async throws {
        try await StoreFixture.with { fixture in
            let user = try await self.create(fixture.store, "erin")
            let store = fixture.store
            try await store.storeRefreshToken(self.record("a", user.id, "a"))
            #expect(
                try await store.rotateRefreshToken(
                    presentedID: "a", successor: self.record("b", user.id, "a", parent: "a")) == .rotated)
            #expect(
                try await store.rotateRefreshToken(
                    presentedID: "b", successor: self.record("c", user.id, "a", parent: "b")) == .rotated)
            #expect(try await store.refreshToken(id: "a")?.revokedAt != nil)
            #expect(try await store.refreshToken(id: "c")?.revokedAt == nil)
            #expect(try await store.refreshToken(id: "c")?.parentTokenID == "b")
            // Another login's family is untouched by the reuse below.
            try await store.storeRefreshToken(self.record("other", user.id, "other"))

            let reuse = try await store.rotateRefreshToken(
                presentedID: "a", successor: self.record("d", user.id, "a", parent: "a"))
            #expect(reuse == .reuseDetected(revokedCount: 1))
            #expect(try await store.refreshToken(id: "c")?.revokedAt != nil)
            #expect(try await store.refreshToken(id: "d") == nil)
            #expect(try await store.refreshToken(id: "other")?.revokedAt == nil)
            #expect(
                try await store.rotateRefreshToken(presentedID: "nope", successor: self.record("e", user.id, "x"))
                    == .unknown)

            #expect(try await store.revokeRefreshToken(id: "other"))
            #expect(try await store.revokeRefreshToken(id: "other") == false)
            try await store.storeRefreshToken(self.record("f1", user.id, "f"))
            try await store.storeRefreshToken(self.record("f2", user.id, "f", parent: "f1"))
            #expect(try await store.revokeRefreshFamily("f") == 2)
            try await store.storeRefreshToken(self.record("g", user.id, "g"))
            #expect(try await store.revokeAllRefreshTokens(userID: user.id) == 1)
        }
    }

    @Test("a token of an unknown user is notFound; a reused token id is alreadyExists")
    func tokenConstraints() async throws {
        try await StoreFixture.with { fixture in
            let user = try await self.create(fixture.store, "gina")
            let unknownUser = await #expect(throws: StoreError.self) {
                try await fixture.store.storeRefreshToken(self.record("t", user.id + 50, "t"))
            }
            #expect(unknownUser?.code == .notFound)
            try await fixture.store.storeRefreshToken(self.record("t", user.id, "t"))
            let taken = await #expect(throws: StoreError.self) {
                try await fixture.store.storeRefreshToken(self.record("t", user.id, "t"))
            }
            #expect(taken?.code == .alreadyExists)
        }
    }

    @Test("concurrent rotations of one token: exactly one succeeds")
    func concurrentRotation() async throws {
        try await StoreFixture.with { fixture in
            let user = try await self.create(fixture.store, "frank")
            let store = fixture.store
            try await store.storeRefreshToken(self.record("root", user.id, "root"))
            let outcomes = try await withThrowingTaskGroup(of: RotationOutcome.self) { group in
                for index in 0..<4 {
                    let successor = self.record("next-\(index)", user.id, "root", parent: "root")
                    group.addTask { try await store.rotateRefreshToken(presentedID: "root", successor: successor) }
                }
                return try await group.reduce(into: [RotationOutcome]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .rotated }.count == 1)
        }
    }

    private func record(_ id: String, _ userID: Int64, _ family: String, parent: String? = nil) -> RefreshTokenRecord {
        RefreshTokenRecord(
            tokenID: id, userID: userID, familyID: family, parentTokenID: parent, issuedAt: 1_700_000_000,
            expiresAt: 1_700_604_800)
    }
}
