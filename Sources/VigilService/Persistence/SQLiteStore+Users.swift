// Users: created by admins (and by vigild on first start), looked up on every authenticated call, changed by
// UpdateUser. Disabling a user or resetting its password revokes every earlier token in the same transaction:
// the epoch and revocation second move (access tokens are refused from then on) and every refresh token is revoked.
public import VigilAPI
import Synchronization
import VigilSQLite

extension SQLiteStore {
    public func createUser(_ newUser: NewUser) async throws(StoreError) -> StoredUser {
        let role = try Self.validRole(newUser.role)
        let now = self.clock()
        return try await self.write { database in
            let taken = try database.queryFirst("SELECT 1 FROM users WHERE username = ?", arguments: [newUser.username])
            { _ in true }
            guard taken == nil else {
                throw StoreError(.alreadyExists, "the username \(newUser.username) is taken")
            }
            try database.execute(
                """
                INSERT INTO users (username, role, password_hash, disabled, created_at, updated_at)
                VALUES (?, ?, ?, 0, ?, ?)
                """,
                arguments: [newUser.username, Int64(role.rawValue), newUser.passwordHash, now, now]
            )
            return try Self.loadUser(database, id: database.lastInsertRowID)
        }
    }

    public func user(id: Int64) async throws(StoreError) -> StoredUser? {
        try await self.read { database in
            try database.queryFirst("SELECT \(Rows.userColumns) FROM users WHERE id = ?", arguments: [id]) { row in
                try Rows.storedUser(row)
            }
        }
    }

    public func user(username: String) async throws(StoreError) -> StoredUser? {
        try await self.read { database in
            try database.queryFirst("SELECT \(Rows.userColumns) FROM users WHERE username = ?", arguments: [username]) {
                row in try Rows.storedUser(row)
            }
        }
    }

    public func hasUsers() async throws(StoreError) -> Bool {
        try await self.read { database in
            try database.queryFirst("SELECT 1 FROM users LIMIT 1") { _ in true } ?? false
        }
    }

    public func listUsers(role: Role?, pageSize: Int32, pageToken: String) async throws(StoreError) -> Page<User> {
        let role = try role.map { role throws(StoreError) in try Self.validRole(role) }
        let limit = try PageSize.resolve(pageSize)
        var scope = PageScope(kind: 3, order: 0, ascending: true)
        scope.add(ranks: role.map { [$0.rawValue] } ?? [])
        let after = try self.pageTokens.readToken(pageToken, scope: scope, keyCount: 1)?[0] ?? 0
        let codec = self.pageTokens
        let roleScope = scope
        return try await self.read { database in
            let sql =
                role == nil
                ? "SELECT \(Rows.userColumns) FROM users WHERE id > ? ORDER BY id LIMIT ?"
                : "SELECT \(Rows.userColumns) FROM users WHERE id > ? AND role = ? ORDER BY id LIMIT ?"
            let arguments: [any SQLiteBindable] =
                role.map { [after, Int64($0.rawValue), limit + 1] } ?? [after, limit + 1]
            var users = try database.query(sql, arguments: arguments) { row in try Rows.storedUser(row).user }
            var token = ""
            if users.count > limit {
                users.removeLast(users.count - limit)
                token = codec.makeToken(keys: [users[limit - 1].id], scope: roleScope)
            }
            return Page(items: users, nextPageToken: token)
        }
    }

    public func upgradePasswordHash(userID: Int64, from oldHash: String, to newHash: String) async throws(StoreError)
        -> Bool
    {
        let now = self.clock()
        return try await self.write { database in
            try database.execute(
                "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?",
                arguments: [newHash, now, userID, oldHash]
            )
            return database.changes > 0
        }
    }

    public var usersChanged: UInt64 { self.userChanges.load(ordering: .acquiring) }

    public func updateUser(id: Int64, _ changes: UserChanges) async throws(StoreError) -> StoredUser {
        let role = try changes.role.map { role throws(StoreError) in try Self.validRole(role) }
        let now = self.clock()
        // Bumped after the commit, also when it failed (it costs a cache miss, never a stale answer).
        defer { self.userChanges.add(1, ordering: .releasing) }
        return try await self.write { database in
            let current = try database.queryFirst(
                "SELECT \(Rows.userColumns) FROM users WHERE id = ?",
                arguments: [id]
            ) { row in try Rows.storedUser(row) }
            guard let current else { throw StoreError(.notFound, "no user has id \(id)") }
            let disabling = changes.disabled == true && !current.user.disabled
            // Checked inside the write transaction, so two admins demoting each other at once cannot both succeed.
            let demoting = role.map { $0 != .admin } ?? false
            let losesAdmin =
                changes.keepsAnEnabledAdmin && current.user.role == .admin && !current.user.disabled
                && (disabling || demoting)
            if losesAdmin {
                let others =
                    try database.queryFirst(
                        "SELECT count(*) FROM users WHERE role = ? AND disabled = 0 AND id != ?",
                        arguments: [Int64(Role.admin.rawValue), id]
                    ) { row in row.int64(at: 0) } ?? 0
                guard others > 0 else {
                    throw StoreError(.failedPrecondition, "the change would leave no enabled admin")
                }
            }
            let revokes = disabling || changes.passwordHash != nil
            try database.execute(
                """
                UPDATE users SET role = ?, disabled = ?, password_hash = ?, updated_at = ?,
                    token_epoch = token_epoch + ?, tokens_revoked_at = CASE WHEN ? THEN ? ELSE tokens_revoked_at END
                WHERE id = ?
                """,
                arguments: [
                    Int64((role ?? current.user.role).rawValue), changes.disabled ?? current.user.disabled,
                    changes.passwordHash ?? current.passwordHash, now, revokes ? 1 : 0, revokes,
                    Self.seconds(now), id,
                ]
            )
            if revokes {
                try Self.revokeRefreshTokens(database, userID: id, at: Self.seconds(now))
            }
            return try Self.loadUser(database, id: id)
        }
    }

    static func loadUser(_ database: Database, id: Int64) throws -> StoredUser {
        let user = try database.queryFirst("SELECT \(Rows.userColumns) FROM users WHERE id = ?", arguments: [id]) {
            row in try Rows.storedUser(row)
        }
        guard let user else { throw StoreError(.notFound, "no user has id \(id)") }
        return user
    }

    static func validRole(_ role: Role) throws(StoreError) -> Role {
        switch role {
        case .admin, .analyst, .agent: return role
        default: throw StoreError(.invalidArgument, "role must be ADMIN, ANALYST or AGENT")
        }
    }

    /// Whole seconds of a nanosecond time, as JWT claims count time.
    static func seconds(_ nanoseconds: Int64) -> Int64 {
        nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000
    }
}
