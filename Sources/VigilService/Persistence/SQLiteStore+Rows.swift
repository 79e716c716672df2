// Reading rows into API values. The column lists are constants shared by every query that returns the type, so a
// mapper and its SELECT cannot drift apart; a row holding a value the code cannot represent is `internal`.
import VigilAPI
import VigilSQLite

enum Rows {
    /// Alert columns: the event's severity (a list's sort key, at column 7) and its encoding (at 8) last.
    static let alertColumns = """
        a.id, a.event_id, a.status, a.created_at, a.updated_at, a.resolved_at, a.version, a.severity, a.event
        """

    static func alert(_ row: Statement) throws -> Alert {
        var alert = Alert()
        alert.id = row.int64(at: 0)
        alert.eventId = row.int64(at: 1)
        alert.status = AlertStatus(rawValue: Int32(truncatingIfNeeded: row.int64(at: 2)))
        alert.createdAt = Timestamp(unixNanoseconds: row.int64(at: 3))
        alert.updatedAt = Timestamp(unixNanoseconds: row.int64(at: 4))
        alert.resolvedAt = row.isNull(at: 5) ? nil : Timestamp(unixNanoseconds: row.int64(at: 5))
        alert.version = row.int64(at: 6)
        guard let encoding = try row.blob(at: 8) else {
            throw StoreError(.internal, "alert \(alert.id) has no copy of its event")
        }
        alert.event = try EventBatchRecord.decode(encoding[...], id: alert.eventId)
        return alert
    }

    static let alertChangeColumns = """
        alert_id, changed_by_user_id, changed_by_username, from_status, to_status, changed_at, version
        """

    static func alertChange(_ row: Statement) throws -> AlertChange {
        var change = AlertChange()
        change.alertId = row.int64(at: 0)
        change.changedByUserId = row.int64(at: 1)
        change.changedByUsername = try self.text(row, 2)
        change.fromStatus = AlertStatus(rawValue: Int32(truncatingIfNeeded: row.int64(at: 3)))
        change.toStatus = AlertStatus(rawValue: Int32(truncatingIfNeeded: row.int64(at: 4)))
        change.changedAt = Timestamp(unixNanoseconds: row.int64(at: 5))
        change.version = row.int64(at: 6)
        return change
    }

    static let userColumns = """
        id, username, role, disabled, created_at, updated_at, password_hash, token_epoch, tokens_revoked_at
        """

    static func storedUser(_ row: Statement) throws -> StoredUser {
        var user = User()
        user.id = row.int64(at: 0)
        user.username = try self.text(row, 1)
        user.role = Role(rawValue: Int32(truncatingIfNeeded: row.int64(at: 2)))
        user.disabled = row.bool(at: 3)
        user.createdAt = Timestamp(unixNanoseconds: row.int64(at: 4))
        user.updatedAt = Timestamp(unixNanoseconds: row.int64(at: 5))
        return StoredUser(
            user: user,
            passwordHash: try self.text(row, 6),
            tokenEpoch: row.int64(at: 7),
            tokensRevokedAt: row.int64(at: 8)
        )
    }

    static let refreshTokenColumns = "jti, user_id, family_id, parent_jti, issued_at, expires_at, revoked_at"

    static func refreshToken(_ row: Statement) throws -> RefreshTokenRecord {
        RefreshTokenRecord(
            tokenID: try self.text(row, 0),
            userID: row.int64(at: 1),
            familyID: try self.text(row, 2),
            parentTokenID: try row.string(at: 3),
            issuedAt: row.int64(at: 4),
            expiresAt: row.int64(at: 5),
            revokedAt: row.isNull(at: 6) ? nil : row.int64(at: 6)
        )
    }

    /// A NOT NULL text column; NULL would mean a schema the code does not know.
    private static func text(_ row: Statement, _ column: Int) throws -> String {
        guard let text = try row.string(at: column) else {
            throw StoreError(.internal, "column \(row.columnName(at: column)) is unexpectedly NULL")
        }
        return text
    }
}
