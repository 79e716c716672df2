// Refresh-token records for rotation and reuse detection (OAuth 2.0 security BCP): a refresh token can be used
// once; presenting it again means it leaked, so its whole family (every token rotated from the same login) is
// revoked. Rotation is one transaction, so two concurrent refreshes with the same token cannot both succeed.
import VigilSQLite

extension SQLiteStore {
    public func storeRefreshToken(_ record: RefreshTokenRecord) async throws(StoreError) {
        try await self.write { database in try Self.insert(database, record) }
    }

    public func refreshToken(id: String) async throws(StoreError) -> RefreshTokenRecord? {
        try await self.read { database in
            try database.queryFirst(
                "SELECT \(Rows.refreshTokenColumns) FROM refresh_tokens WHERE jti = ?",
                arguments: [id]
            ) { row in try Rows.refreshToken(row) }
        }
    }

    public func rotateRefreshToken(
        presentedID: String,
        successor: RefreshTokenRecord
    ) async throws(StoreError) -> RotationOutcome {
        let now = Self.seconds(self.clock())
        return try await self.write { database in
            let presented = try database.queryFirst(
                "SELECT \(Rows.refreshTokenColumns) FROM refresh_tokens WHERE jti = ?",
                arguments: [presentedID]
            ) { row in try Rows.refreshToken(row) }
            guard let presented, presented.userID == successor.userID else { return .unknown }
            guard presented.revokedAt == nil else {
                return .reuseDetected(revokedCount: try Self.revokeFamily(database, presented.familyID, at: now))
            }
            try database.execute(
                "UPDATE refresh_tokens SET revoked_at = ? WHERE jti = ?", arguments: [now, presentedID])
            try Self.insert(database, successor)
            return .rotated
        }
    }

    public func revokeRefreshToken(id: String) async throws(StoreError) -> Bool {
        let now = Self.seconds(self.clock())
        return try await self.write { database in
            try database.execute(
                "UPDATE refresh_tokens SET revoked_at = ? WHERE jti = ? AND revoked_at IS NULL",
                arguments: [now, id]
            )
            return database.changes == 1
        }
    }

    public func revokeRefreshFamily(_ familyID: String) async throws(StoreError) -> Int {
        let now = Self.seconds(self.clock())
        return try await self.write { database in try Self.revokeFamily(database, familyID, at: now) }
    }

    public func revokeAllRefreshTokens(userID: Int64) async throws(StoreError) -> Int {
        let now = Self.seconds(self.clock())
        return try await self.write { database in try Self.revokeRefreshTokens(database, userID: userID, at: now) }
    }

    static func insert(_ database: Database, _ record: RefreshTokenRecord) throws {
        do throws(SQLiteError) {
            try database.execute(
                """
                INSERT INTO refresh_tokens (jti, user_id, family_id, parent_jti, issued_at, expires_at, revoked_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                arguments: [
                    record.tokenID, record.userID, record.familyID, record.parentTokenID, record.issuedAt,
                    record.expiresAt, record.revokedAt,
                ]
            )
        } catch {
            guard error.code == .constraint else { throw error }
            // SQLITE_CONSTRAINT_FOREIGNKEY: the user does not exist; anything else: the jti is taken.
            if error.extendedCode == 787 {
                throw StoreError(.notFound, "no user has id \(record.userID)", cause: error)
            }
            throw StoreError(.alreadyExists, "a refresh token with this id is already recorded", cause: error)
        }
    }

    static func revokeFamily(_ database: Database, _ familyID: String, at now: Int64) throws -> Int {
        try database.execute(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
            arguments: [now, familyID]
        )
        return database.changes
    }

    @discardableResult
    static func revokeRefreshTokens(_ database: Database, userID: Int64, at now: Int64) throws -> Int {
        try database.execute(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            arguments: [now, userID]
        )
        return database.changes
    }
}
