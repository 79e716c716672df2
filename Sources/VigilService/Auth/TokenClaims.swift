// What a Vigil token asserts, as a value: the codec turns it into a signed JWT and back, the service decides what
// the claims allow. Kept apart from the codec so handlers and tests build claims without a secret.
public import VigilAPI
import VigilTLS

/// What a token is for: calling RPCs (`access`) or getting a new pair (`refresh`). A token is refused where the
/// other type is expected, so a leaked long-lived refresh token cannot call RPCs.
public enum TokenType: String, Sendable, Hashable, CaseIterable {
    case access
    case refresh
}

/// The claims of a Vigil token (JWT `user_id`, `role`, `token_type`, `iat`, `exp`, `jti`, `fam` and `tep`).
public struct TokenClaims: Sendable, Hashable {
    /// The user the token was issued to.
    public var userID: Int64
    /// The user's role when the token was issued. The service still checks the user is enabled on every call.
    public var role: Role
    public var tokenType: TokenType
    /// Issued at, seconds since the Unix epoch.
    public var issuedAt: Int64
    /// Expires at, seconds since the Unix epoch; the token is refused from this second on.
    public var expiresAt: Int64
    /// A unique id (128 random bits, base64url), so one token can be revoked and looked up.
    public var tokenID: String
    /// The refresh family: the `jti` of the first refresh token of a login, inherited by every refresh token
    /// rotated from it, so reuse of a revoked refresh token can revoke the whole family. Nil on access tokens
    /// issued without one.
    public var familyID: String?
    /// The user's token epoch when the token was issued (JWT `tep`). Disabling a user or resetting its password
    /// bumps the epoch, so every earlier token stops matching at once, even one issued in the same second (which a
    /// comparison of `iat` with a revocation second could not tell apart). Nil on tokens issued without one.
    public var epoch: Int64?

    public init(
        userID: Int64,
        role: Role,
        tokenType: TokenType,
        issuedAt: Int64,
        expiresAt: Int64,
        tokenID: String,
        familyID: String? = nil,
        epoch: Int64? = nil
    ) {
        self.userID = userID
        self.role = role
        self.tokenType = tokenType
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.tokenID = tokenID
        self.familyID = familyID
        self.epoch = epoch
    }

    /// A new token id: 128 bits from the CSPRNG, base64url (22 characters).
    public static func makeTokenID() -> String {
        Base64URL.encode(SecureRandom.bytes(16))
    }
}

/// A signed token and the claims inside it. The token is a bearer credential, so `description` redacts it.
public struct IssuedToken: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The compact JWT: send it, store its `jti` (never the token) server-side.
    public let token: String
    public let claims: TokenClaims

    public init(token: String, claims: TokenClaims) {
        self.token = token
        self.claims = claims
    }

    public var description: String {
        "IssuedToken(\(self.claims.tokenType.rawValue), user \(self.claims.userID), jti \(self.claims.tokenID), "
            + "exp \(self.claims.expiresAt), token: <redacted>)"
    }
    public var debugDescription: String { self.description }
}
