// Vigil's bearer tokens: JWT (RFC 7519) signed with HS256 (RFC 7515), the shape the Django original issued, so
// existing tooling can read them. Verification runs on every RPC, so the HMAC key is set up once (a reusable keyed
// context) and a token is checked in a fixed order that never trusts a byte before it must: size, shape, header,
// signature, and only then the claims. Only exactly `HS256` is accepted: the classic JWT attacks are `alg: none`
// and algorithm confusion, and a verifier that accepts one algorithm has neither.
import Foundation
public import VigilAPI
import VigilTLS

/// Signs and verifies Vigil tokens with one secret; safe to share between threads.
public final class TokenCodec: Sendable, CustomStringConvertible {
    /// Shorter secrets can be brute-forced offline from any one token (RFC 7518 §3.2 asks for at least the hash size).
    public static let minimumSecretLength = 32
    /// Tokens longer than this are refused before parsing: ours are under 400 bytes, and a large header or payload
    /// would only be someone making the server parse JSON for them.
    public static let maximumTokenLength = 4096
    /// Token ids and family ids: 1 to 64 characters of the base64url alphabet (hex fits), so they need no JSON
    /// escaping and cannot smuggle anything into logs.
    public static let maximumIDLength = 64

    /// base64url of `{"alg":"HS256","typ":"JWT"}`: every token this codec signs starts with it.
    static let headerSegment = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

    private let mac: HMACSHA256
    private let clock: AuthClock

    /// A codec signing with `secret`, which must be at least `minimumSecretLength` bytes of random data.
    public init(secret: some Collection<UInt8>, clock: AuthClock = .system) throws(TokenError) {
        guard secret.count >= Self.minimumSecretLength else {
            throw TokenError(.secretTooShort, "the token secret must be at least \(Self.minimumSecretLength) bytes")
        }
        do {
            self.mac = try HMACSHA256(key: secret)
        } catch {
            throw TokenError(.secretTooShort, "cannot key HMAC-SHA256 with the token secret", cause: error)
        }
        self.clock = clock
    }

    /// A fresh secret for a new installation: 32 bytes from the CSPRNG.
    public static func makeSecret() -> [UInt8] { SecureRandom.bytes(Self.minimumSecretLength) }

    public var description: String { "TokenCodec(secret: <redacted>)" }

    // MARK: Issuing

    /// Signs a new token for `userID` valid for `lifetime` seconds from now. A refresh token without a `familyID`
    /// starts a new family named after its own `jti`; pass the presented token's family when rotating. `epoch` is
    /// the user's token epoch, written as `tep` so that a later revocation refuses this token.
    public func issue(
        userID: Int64,
        role: Role,
        type: TokenType,
        lifetime: Int64,
        familyID: String? = nil,
        epoch: Int64? = nil
    ) throws(TokenError) -> IssuedToken {
        guard lifetime > 0 else { throw TokenError(.invalidClaims, "a token lifetime must be positive") }
        let now = self.clock.now()
        let (expiresAt, overflow) = now.addingReportingOverflow(lifetime)
        guard !overflow else { throw TokenError(.invalidClaims, "the token lifetime overflows the expiry") }
        let tokenID = TokenClaims.makeTokenID()
        let family = familyID ?? (type == .refresh ? tokenID : nil)
        let claims = TokenClaims(
            userID: userID,
            role: role,
            tokenType: type,
            issuedAt: now,
            expiresAt: expiresAt,
            tokenID: tokenID,
            familyID: family,
            epoch: epoch
        )
        return IssuedToken(token: try self.encode(claims), claims: claims)
    }

    /// The signed compact JWT for `claims`. Refuses claims no token may carry (an unassignable role, a user id
    /// below 1, `iat` after `exp`, ids outside the base64url alphabet).
    public func encode(_ claims: TokenClaims) throws(TokenError) -> String {
        try Self.validate(claims)
        guard let role = claims.role.claimName else {
            throw TokenError(.invalidClaims, "role \(claims.role.protoName) cannot be put in a token")
        }
        // Every value is a number or a string already checked to need no escaping, so the JSON is written directly.
        var json = "{\"user_id\":\(claims.userID),\"role\":\"\(role)\",\"token_type\":\"\(claims.tokenType.rawValue)\""
        json += ",\"iat\":\(claims.issuedAt),\"exp\":\(claims.expiresAt),\"jti\":\"\(claims.tokenID)\""
        if let family = claims.familyID { json += ",\"fam\":\"\(family)\"" }
        if let epoch = claims.epoch { json += ",\"tep\":\(epoch)" }
        json += "}"
        let signingInput = Self.headerSegment + "." + Base64URL.encode(json.utf8)
        let signature = self.mac.authenticationCode(for: signingInput.utf8)
        return signingInput + "." + Base64URL.encode(signature)
    }

    // MARK: Verifying

    /// The claims of `token` if this codec signed it, it has not expired, and it is of type `expected`; otherwise
    /// the first reason it fails, checked in order: size, shape, header, signature, claims, type, expiry.
    public func verify(_ token: String, expecting expected: TokenType) throws(TokenError) -> TokenClaims {
        let bytes = Array(token.utf8)
        guard bytes.count <= Self.maximumTokenLength else {
            throw TokenError(.tooLarge, "the token is longer than \(Self.maximumTokenLength) bytes")
        }
        let dots = bytes.indices.filter { bytes[$0] == UInt8(ascii: ".") }
        guard dots.count == 2 else { throw TokenError(.malformedToken, "a token has three dot-separated segments") }
        let headerText = bytes[..<dots[0]]
        let payloadText = bytes[(dots[0] + 1)..<dots[1]]
        let signatureText = bytes[(dots[1] + 1)...]

        // The header is read before the signature is checked, because it says how to check it; anything but
        // HS256 (`none` with its empty signature included) is refused without computing a MAC.
        guard !headerText.isEmpty, let headerBytes = Base64URL.decode(headerText) else {
            throw TokenError(.malformedToken, "the token header is not canonical unpadded base64url")
        }
        if !headerText.elementsEqual(Self.headerSegment.utf8) { try Self.checkHeader(headerBytes) }

        guard !payloadText.isEmpty, !signatureText.isEmpty, let payloadBytes = Base64URL.decode(payloadText),
            let signature = Base64URL.decode(signatureText)
        else {
            throw TokenError(.malformedToken, "a token segment is empty or not canonical unpadded base64url")
        }

        let signed = self.mac.isValidAuthenticationCode(signature, for: bytes[..<dots[1]])
        guard signed else { throw TokenError(.badSignature, "the token signature does not verify") }

        let claims = try Self.decodeClaims(payloadBytes)
        guard claims.tokenType == expected else {
            throw TokenError(.wrongTokenType, "expected a \(expected.rawValue) token, got \(claims.tokenType.rawValue)")
        }
        guard claims.expiresAt > self.clock.now() else { throw TokenError(.expired, "the token has expired") }
        return claims
    }

    // MARK: Parts

    /// Refuses a header unless `alg` is exactly "HS256", `typ` (if present) is "JWT", and there is no `crit`.
    static func checkHeader(_ json: [UInt8]) throws(TokenError) {
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(json))
        } catch {
            throw TokenError(.malformedJSON, "the token header is not a JSON object", cause: error)
        }
        guard header.algorithm == "HS256" else {
            throw TokenError(.unsupportedAlgorithm, "only HS256 tokens are accepted")
        }
        guard header.type == nil || header.type == "JWT", !header.hasCritical else {
            throw TokenError(.unsupportedHeader, "the token header has an unsupported typ or crit")
        }
    }

    /// The claims in a payload whose signature has been verified.
    static func decodeClaims(_ json: [UInt8]) throws(TokenError) -> TokenClaims {
        let payload: Payload
        do {
            payload = try JSONDecoder().decode(Payload.self, from: Data(json))
        } catch {
            throw Self.classify(error)
        }
        guard let role = Role(claimName: payload.role) else {
            throw TokenError(.invalidClaims, "the role claim names no role")
        }
        guard let type = TokenType(rawValue: payload.tokenType) else {
            throw TokenError(.invalidClaims, "the token_type claim names no token type")
        }
        let claims = TokenClaims(
            userID: payload.userID,
            role: role,
            tokenType: type,
            issuedAt: payload.issuedAt,
            expiresAt: payload.expiresAt,
            tokenID: payload.tokenID,
            familyID: payload.familyID,
            epoch: payload.epoch
        )
        try Self.validate(claims)
        return claims
    }

    /// Errors before any claim is read (not JSON, not an object) are malformed JSON; `Payload` reports errors in
    /// a claim as `ClaimDecodingError`. (JSONDecoder alone cannot tell them apart: it reports a number that does not
    /// fit Int64 with an empty coding path, like a syntax error.)
    private static func classify(_ error: any Error) -> TokenError {
        if error is ClaimDecodingError {
            return TokenError(.invalidClaims, "a claim is missing or has the wrong type or value", cause: error)
        }
        return TokenError(.malformedJSON, "the token payload is not a JSON object", cause: error)
    }

    /// Range checks shared by signing and verifying.
    private static func validate(_ claims: TokenClaims) throws(TokenError) {
        guard claims.userID >= 1 else { throw TokenError(.invalidClaims, "user_id must be at least 1") }
        guard claims.issuedAt <= claims.expiresAt else { throw TokenError(.invalidClaims, "iat is after exp") }
        guard Self.isValidID(claims.tokenID) else { throw TokenError(.invalidClaims, "jti is not a valid id") }
        if let family = claims.familyID, !Self.isValidID(family) {
            throw TokenError(.invalidClaims, "fam is not a valid id")
        }
    }

    private static func isValidID(_ id: String) -> Bool {
        let bytes = id.utf8
        guard !bytes.isEmpty, bytes.count <= Self.maximumIDLength else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                true
            default:
                false
            }
        }
    }
}

// MARK: - JSON shapes

extension TokenCodec {
    /// The JOSE header. Fields of the wrong JSON type read as absent, so `{"alg": 1}` is an unsupported algorithm
    /// rather than malformed JSON.
    struct Header: Decodable {
        var algorithm: String?
        var type: String?
        var hasCritical: Bool

        private enum Keys: String, CodingKey {
            case alg, typ, crit
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            self.algorithm = (try? container.decodeIfPresent(String.self, forKey: .alg)) ?? nil
            self.type = (try? container.decodeIfPresent(String.self, forKey: .typ)) ?? nil
            self.hasCritical = container.contains(.crit)
        }
    }

    /// The claims as they appear in the payload; unknown claims are ignored, as RFC 7519 §4 asks.
    struct Payload: Decodable {
        var userID: Int64
        var role: String
        var tokenType: String
        var issuedAt: Int64
        var expiresAt: Int64
        var tokenID: String
        var familyID: String?
        var epoch: Int64?

        private enum CodingKeys: String, CodingKey {
            case userID = "user_id"
            case role
            case tokenType = "token_type"
            case issuedAt = "iat"
            case expiresAt = "exp"
            case tokenID = "jti"
            case familyID = "fam"
            case epoch = "tep"
        }

        init(from decoder: any Decoder) throws {
            // Not an object: let the decoder's error through (malformed JSON).
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // Inside the object, every failure is a claim's fault.
            do {
                self.userID = try container.decode(Int64.self, forKey: .userID)
                self.role = try container.decode(String.self, forKey: .role)
                self.tokenType = try container.decode(String.self, forKey: .tokenType)
                self.issuedAt = try container.decode(Int64.self, forKey: .issuedAt)
                self.expiresAt = try container.decode(Int64.self, forKey: .expiresAt)
                self.tokenID = try container.decode(String.self, forKey: .tokenID)
                self.familyID = try container.decodeIfPresent(String.self, forKey: .familyID)
                self.epoch = try container.decodeIfPresent(Int64.self, forKey: .epoch)
            } catch {
                throw ClaimDecodingError(cause: error)
            }
        }
    }

    /// A claim that is missing or of the wrong JSON type, as opposed to a payload that is not an object.
    struct ClaimDecodingError: Error {
        let cause: any Error
    }
}
