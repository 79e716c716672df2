// Users and refresh tokens as the auth layer needs them: with the secrets-adjacent fields the API never returns
// (password hash, revocation marks), which is why their descriptions redact them.
public import VigilAPI

/// A user as stored: the API's `User` plus what authentication checks.
public struct StoredUser: Sendable, Hashable, CustomStringConvertible {
    public var user: User
    /// `pbkdf2_sha256$<iterations>$<salt>$<hash>`; never logged.
    public var passwordHash: String
    /// Incremented whenever every earlier token must be refused (disabling, password reset).
    public var tokenEpoch: Int64
    /// Seconds since the epoch of the last such revocation (0: never). Tokens whose `iat` is at or before this
    /// second are refused; a login in the same second as a reset must wait for the next second.
    public var tokensRevokedAt: Int64

    public var id: Int64 { self.user.id }

    public var description: String {
        "StoredUser(id: \(self.user.id), username: \(self.user.username), role: \(self.user.role.protoName), "
            + "disabled: \(self.user.disabled), tokenEpoch: \(self.tokenEpoch), passwordHash: <redacted>)"
    }
}

/// A user to create; the password is already hashed (on the hashing pool, never on the writer thread).
public struct NewUser: Sendable, Hashable, CustomStringConvertible {
    public var username: String
    public var role: Role
    public var passwordHash: String

    public init(username: String, role: Role, passwordHash: String) {
        self.username = username
        self.role = role
        self.passwordHash = passwordHash
    }

    public var description: String { "NewUser(username: \(self.username), role: \(self.role.protoName))" }
}

/// The fields UpdateUser may change; nil leaves a field as it is. Disabling or a new password hash revokes
/// every earlier token (epoch bump and every refresh token revoked) in the same transaction.
public struct UserChanges: Sendable, Hashable, CustomStringConvertible {
    public var role: Role?
    public var disabled: Bool?
    public var passwordHash: String?
    /// When true, a change that would leave no enabled admin (demoting or disabling the last one) fails with
    /// `failedPrecondition`, checked inside the update's transaction so two concurrent changes cannot both pass.
    /// UpdateUser always sets it; offline repair tools may leave it off.
    public var keepsAnEnabledAdmin: Bool

    public init(
        role: Role? = nil, disabled: Bool? = nil, passwordHash: String? = nil, keepsAnEnabledAdmin: Bool = false
    ) {
        self.role = role
        self.disabled = disabled
        self.passwordHash = passwordHash
        self.keepsAnEnabledAdmin = keepsAnEnabledAdmin
    }

    public var description: String {
        "UserChanges(role: \(self.role?.protoName ?? "-"), disabled: \(self.disabled.map(String.init) ?? "-"), "
            + "passwordHash: \(self.passwordHash == nil ? "-" : "<redacted>"))"
    }
}

/// One refresh token as recorded for rotation and reuse detection (the token itself is never stored, only its id).
public struct RefreshTokenRecord: Sendable, Hashable {
    /// The token's `jti`.
    public var tokenID: String
    public var userID: Int64
    /// The `jti` of the first token of the login it descends from.
    public var familyID: String
    /// The token it was rotated from; nil for the first of a family.
    public var parentTokenID: String?
    /// Seconds since the epoch, as in the token's claims.
    public var issuedAt: Int64
    public var expiresAt: Int64
    /// Seconds since the epoch when it was revoked (rotated, family revoked, user reset); nil while usable.
    public var revokedAt: Int64?

    public init(
        tokenID: String,
        userID: Int64,
        familyID: String,
        parentTokenID: String?,
        issuedAt: Int64,
        expiresAt: Int64,
        revokedAt: Int64? = nil
    ) {
        self.tokenID = tokenID
        self.userID = userID
        self.familyID = familyID
        self.parentTokenID = parentTokenID
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }
}

/// The outcome of presenting a refresh token for rotation.
public enum RotationOutcome: Sendable, Hashable {
    /// The presented token was active: it is now revoked and its successor stored.
    case rotated
    /// The presented token had already been revoked: a reuse. Every token of its family is now revoked
    /// (`revokedCount` of them were still active) and no successor was stored.
    case reuseDetected(revokedCount: Int)
    /// No such token is recorded (or it belongs to another user).
    case unknown
}
