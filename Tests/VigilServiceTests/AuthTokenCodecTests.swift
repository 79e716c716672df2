// TokenCodec against RFC 7515's HS256 example, and every way a token must be refused. Forged tokens are built here
// with an independent base64url (Foundation's, trimmed) and signed with the real secret, so each refusal is for
// the reason under test and not an accidental bad signature.
import Foundation
import Testing
import VigilAPI
import VigilService
import VigilTLS

@Suite struct AuthTokenCodecTests {
    static let secret = Array("0123456789abcdef0123456789abcdef-vigil-test".utf8)
    let clock = ManualClock()
    let codec: TokenCodec

    init() throws {
        self.codec = try TokenCodec(secret: Self.secret, clock: self.clock.clock)
    }

    // MARK: Helpers

    static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func base64URLDecode(_ text: some StringProtocol) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map { [UInt8]($0) }
    }

    /// A token with this header and payload JSON, correctly signed with `secret`.
    static func forge(header: String, payload: String, secret: [UInt8] = Self.secret) throws -> String {
        let input = Self.base64URL(header.utf8) + "." + Self.base64URL(payload.utf8)
        return input + "." + Self.base64URL(try HMACSHA256.authenticationCode(key: secret, message: input.utf8))
    }

    var validPayload: String {
        "{\"user_id\":7,\"role\":\"analyst\",\"token_type\":\"access\",\"iat\":\(self.clock.now),"
            + "\"exp\":\(self.clock.now + 60),\"jti\":\"abc123\"}"
    }

    func expect(
        _ token: String, _ type: TokenType = .access, refusedWith code: TokenError.Code,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let error = #expect(throws: TokenError.self, sourceLocation: sourceLocation) {
            try self.codec.verify(token, expecting: type)
        }
        #expect(error?.code == code, sourceLocation: sourceLocation)
    }

    // MARK: Round trips

    @Test("an issued access token verifies to the same claims")
    func roundTrip() throws {
        let issued = try self.codec.issue(userID: 42, role: .admin, type: .access, lifetime: 3600)
        let claims = try self.codec.verify(issued.token, expecting: .access)
        #expect(claims == issued.claims)
        #expect(claims.userID == 42)
        #expect(claims.role == .admin)
        #expect(claims.issuedAt == self.clock.now)
        #expect(claims.expiresAt == self.clock.now + 3600)
        #expect(claims.familyID == nil)
        #expect(claims.tokenID.utf8.count == 22)
    }

    @Test("refresh tokens start a family named after their jti, and rotation keeps it")
    func families() throws {
        let first = try self.codec.issue(userID: 3, role: .agent, type: .refresh, lifetime: 604_800)
        #expect(first.claims.familyID == first.claims.tokenID)
        let rotated = try self.codec.issue(
            userID: 3, role: .agent, type: .refresh, lifetime: 604_800, familyID: first.claims.familyID)
        #expect(rotated.claims.familyID == first.claims.tokenID)
        #expect(rotated.claims.tokenID != first.claims.tokenID)
        #expect(try self.codec.verify(rotated.token, expecting: .refresh) == rotated.claims)
    }

    @Test("every role round-trips; jti values differ")
    func roles() throws {
        var ids = Set<String>()
        for role in Role.assignable {
            let issued = try self.codec.issue(userID: 1, role: role, type: .access, lifetime: 60)
            #expect(try self.codec.verify(issued.token, expecting: .access).role == role)
            ids.insert(issued.claims.tokenID)
        }
        #expect(ids.count == Role.assignable.count)
    }

    @Test("the token is a standard JWT: fixed HS256 header, claims with the documented names and JSON types")
    func wireShape() throws {
        let issued = try self.codec.issue(userID: 9, role: .analyst, type: .refresh, lifetime: 10)
        let segments = issued.token.split(separator: ".", omittingEmptySubsequences: false)
        try #require(segments.count == 3)
        #expect(!issued.token.contains("="))
        let header = try #require(Self.base64URLDecode(segments[0]))
        #expect(String(decoding: header, as: UTF8.self) == #"{"alg":"HS256","typ":"JWT"}"#)
        let payload = try #require(Self.base64URLDecode(segments[1]))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
        #expect(object["user_id"] as? Int == 9)
        #expect(object["role"] as? String == "analyst")
        #expect(object["token_type"] as? String == "refresh")
        #expect(object["iat"] as? Int == Int(self.clock.now))
        #expect(object["exp"] as? Int == Int(self.clock.now + 10))
        #expect(object["jti"] as? String == issued.claims.tokenID)
        #expect(object["fam"] as? String == issued.claims.tokenID)
        // The signature is HMAC-SHA256 over "header.payload", checked with the one-shot API.
        let mac = try HMACSHA256.authenticationCode(key: Self.secret, message: "\(segments[0]).\(segments[1])".utf8)
        #expect(Self.base64URL(mac) == segments[2])
    }

    @Test("RFC 7515 A.1: the example's HS256 signature verifies and only its claims are refused")
    func rfc7515() throws {
        let key = try #require(
            Self.base64URLDecode(
                "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"))
        let codec = try TokenCodec(secret: key, clock: .fixed(1_300_000_000))
        let token =
            "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
            + ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
            + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        // The signature verifies; the claims are not Vigil's (no user_id, role, ...).
        #expect(
            #expect(throws: TokenError.self) { try codec.verify(token, expecting: .access) }?.code == .invalidClaims)
        let tampered = String(token.dropLast()) + "Y"
        #expect(
            #expect(throws: TokenError.self) { try codec.verify(tampered, expecting: .access) }?.code == .badSignature)
    }

    @Test("unknown extra claims are ignored")
    func extraClaims() throws {
        let payload = String(self.validPayload.dropLast()) + ",\"iss\":\"django\",\"nested\":{\"a\":[1,2]}}"
        let token = try Self.forge(header: #"{"typ":"JWT","alg":"HS256"}"#, payload: payload)
        #expect(try self.codec.verify(token, expecting: .access).userID == 7)
    }

    // MARK: Refusals

    @Test("changing any single character of any segment is refused")
    func tamperEveryCharacter() throws {
        let token = try self.codec.issue(userID: 5, role: .analyst, type: .access, lifetime: 60).token
        let bytes = Array(token.utf8)
        let replacements = Array("AQgw-_z9".utf8)
        var refused = 0
        for index in bytes.indices where bytes[index] != UInt8(ascii: ".") {
            for replacement in replacements where replacement != bytes[index] {
                var tampered = bytes
                tampered[index] = replacement
                #expect(throws: TokenError.self) {
                    try self.codec.verify(String(decoding: tampered, as: UTF8.self), expecting: .access)
                }
                refused += 1
            }
        }
        #expect(refused > 1000)
    }

    @Test("a payload re-signed under another secret, or an elevated role, is a bad signature")
    func forgedPayload() throws {
        let other = try Self.forge(
            header: #"{"alg":"HS256","typ":"JWT"}"#, payload: self.validPayload,
            secret: Array("another secret that is long enough!!".utf8))
        self.expect(other, refusedWith: .badSignature)
        let genuine = try self.codec.issue(userID: 7, role: .analyst, type: .access, lifetime: 60).token
        let parts = genuine.split(separator: ".")
        let elevated = self.validPayload.replacingOccurrences(of: "analyst", with: "admin")
        self.expect("\(parts[0]).\(Self.base64URL(elevated.utf8)).\(parts[2])", refusedWith: .badSignature)
        self.expect(
            "\(parts[0]).\(parts[1]).\(Self.base64URL([UInt8](repeating: 0, count: 32)))", refusedWith: .badSignature)
        self.expect("\(parts[0]).\(parts[1]).\(parts[2].dropLast(3))", refusedWith: .badSignature)
    }

    @Test(
        "any algorithm but exactly HS256 is refused, even correctly signed",
        arguments: [
            #"{"alg":"none","typ":"JWT"}"#, #"{"alg":"HS512","typ":"JWT"}"#, #"{"alg":"hs256","typ":"JWT"}"#,
            #"{"alg":"HS256 ","typ":"JWT"}"#, #"{"alg":" HS256"}"#, #"{"alg":"RS256"}"#, #"{"alg":"HS384"}"#,
            #"{"typ":"JWT"}"#, #"{"alg":1}"#, #"{"alg":null}"#, #"{"alg":["HS256"]}"#, #"{"alg":"ES256"}"#,
        ]
    )
    func algorithms(header: String) throws {
        self.expect(try Self.forge(header: header, payload: self.validPayload), refusedWith: .unsupportedAlgorithm)
    }

    @Test("alg none with an empty signature is refused as an algorithm, before any MAC")
    func algNone() throws {
        let token =
            Self.base64URL(#"{"alg":"none","typ":"JWT"}"#.utf8) + "." + Self.base64URL(self.validPayload.utf8) + "."
        self.expect(token, refusedWith: .unsupportedAlgorithm)
    }

    @Test("a typ other than JWT, or a crit header, is refused")
    func headers() throws {
        self.expect(
            try Self.forge(header: #"{"alg":"HS256","typ":"JOSE+JSON"}"#, payload: self.validPayload),
            refusedWith: .unsupportedHeader)
        self.expect(
            try Self.forge(header: #"{"alg":"HS256","crit":["exp"],"exp":1}"#, payload: self.validPayload),
            refusedWith: .unsupportedHeader)
        // typ may be absent, and keys may come in any order.
        let plain = try Self.forge(header: #"{ "alg" : "HS256" }"#, payload: self.validPayload)
        #expect(try self.codec.verify(plain, expecting: .access).userID == 7)
    }

    @Test(
        "a header or payload that is not a JSON object is malformed JSON",
        arguments: [
            ("not json", true), ("[1,2]", true), ("\"HS256\"", true), ("null", true),
            ("not json", false), ("[]", false), ("42", false), ("{\"user_id\":", false),
        ])
    func notJSON(text: String, inHeader: Bool) throws {
        let token =
            inHeader
            ? try Self.forge(header: text, payload: self.validPayload)
            : try Self.forge(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: text)
        self.expect(token, refusedWith: .malformedJSON)
    }

    @Test(
        "claims of the wrong type, missing, or out of range are refused",
        arguments: [
            #""user_id":"7","role":"analyst","token_type":"access","iat":1,"exp":99999999999,"jti":"a""#,
            #""user_id":7.5,"role":"analyst","token_type":"access","iat":1,"exp":99999999999,"jti":"a""#,
            #""user_id":true,"role":"analyst","token_type":"access","iat":1,"exp":99999999999,"jti":"a""#,
            #""user_id":0,"role":"analyst","token_type":"access","iat":1,"exp":99999999999,"jti":"a""#,
            #""user_id":-3,"role":"analyst","token_type":"access","iat":1,"exp":99999999999,"jti":"a""#,
            #""user_id":99999999999999999999,"role":"admin","token_type":"access","iat":1,"exp":99999999999,"jti":"a""#,
            #""role":"analyst","token_type":"access","iat":1,"exp":99999999999,"jti":"a""#,
            #""user_id":7,"role":"root","token_type":"access","iat":1,"exp":99999999999,"jti":"a""#,
            #""user_id":7,"role":"Admin","token_type":"access","iat":1,"exp":99999999999,"jti":"a""#,
            #""user_id":7,"role":2,"token_type":"access","iat":1,"exp":99999999999,"jti":"a""#,
            #""user_id":7,"role":"analyst","token_type":"ACCESS","iat":1,"exp":99999999999,"jti":"a""#,
            #""user_id":7,"role":"analyst","token_type":"id","iat":1,"exp":99999999999,"jti":"a""#,
            #""user_id":7,"role":"analyst","token_type":"access","iat":"1","exp":99999999999,"jti":"a""#,
            #""user_id":7,"role":"analyst","token_type":"access","iat":1,"exp":"99999999999","jti":"a""#,
            #""user_id":7,"role":"analyst","token_type":"access","iat":1,"jti":"a""#,
            #""user_id":7,"role":"analyst","token_type":"access","iat":99999999999,"exp":99999999998,"jti":"a""#,
            #""user_id":7,"role":"analyst","token_type":"access","iat":1,"exp":99999999999"#,
            #""user_id":7,"role":"analyst","token_type":"access","iat":1,"exp":99999999999,"jti":"""#,
            #""user_id":7,"role":"analyst","token_type":"access","iat":1,"exp":99999999999,"jti":"a b""#,
            #""user_id":7,"role":"analyst","token_type":"access","iat":1,"exp":99999999999,"jti":7"#,
            #""user_id":7,"role":"analyst","token_type":"access","iat":1,"exp":99999999999,"jti":"a","fam":"../x""#,
            #""user_id":null,"role":"analyst","token_type":"access","iat":1,"exp":99999999999,"jti":"a""#,
        ]
    )
    func badClaims(fields: String) throws {
        let token = try Self.forge(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: "{\(fields)}")
        self.expect(token, refusedWith: .invalidClaims)
    }

    @Test("a token is valid until the second before exp and expired from exp on")
    func expiry() throws {
        let issued = try self.codec.issue(userID: 1, role: .agent, type: .access, lifetime: 3600)
        self.clock.advance(by: 3599)
        #expect(try self.codec.verify(issued.token, expecting: .access).userID == 1)
        self.clock.advance(by: 1)
        self.expect(issued.token, refusedWith: .expired)
        self.clock.advance(by: 1_000_000)
        self.expect(issued.token, refusedWith: .expired)
    }

    @Test("an access token is refused where a refresh token is expected, and the reverse")
    func wrongType() throws {
        let access = try self.codec.issue(userID: 1, role: .admin, type: .access, lifetime: 60)
        let refresh = try self.codec.issue(userID: 1, role: .admin, type: .refresh, lifetime: 60)
        self.expect(access.token, .refresh, refusedWith: .wrongTokenType)
        self.expect(refresh.token, .access, refusedWith: .wrongTokenType)
    }

    @Test("secrets shorter than 32 bytes are refused")
    func shortSecret() throws {
        let short = #expect(throws: TokenError.self) { try TokenCodec(secret: [UInt8](repeating: 7, count: 31)) }
        #expect(short?.code == .secretTooShort)
        #expect(#expect(throws: TokenError.self) { try TokenCodec(secret: []) }?.code == .secretTooShort)
        _ = try TokenCodec(secret: [UInt8](repeating: 7, count: 32))
        #expect(TokenCodec.makeSecret().count >= 32)
        #expect(TokenCodec.makeSecret() != TokenCodec.makeSecret())
    }

    @Test(
        "garbage is malformed",
        arguments: [
            "", ".", "..", "...", "a", "a.b", "a.b.c.d", "eyJ.eyJ.", ".eyJ.abc", "!!!.###.$$$",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ=.abc", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9==.e30.abc",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.a", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e3 0.abc",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.ab+/", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.ü.abc",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30", "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.abc",
        ]
    )
    func garbage(token: String) {
        self.expect(token, refusedWith: .malformedToken)
    }

    @Test("a signature with non-zero leftover bits (a second spelling of the same bytes) is malformed")
    func canonicalBase64() throws {
        let token = try self.codec.issue(userID: 1, role: .admin, type: .access, lifetime: 60).token
        // 43 characters carry 258 bits for 256: the last character's low 2 bits are unused and must be zero.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let last = try #require(token.last)
        let value = try #require(alphabet.firstIndex(of: last))
        #expect(value & 3 == 0)
        let respelled = String(token.dropLast()) + String(alphabet[value | 1])
        self.expect(respelled, refusedWith: .malformedToken)
    }

    @Test("tokens over 4 KiB are refused before parsing")
    func oversized() throws {
        let padding = String(repeating: "x", count: 5000)
        let payload = String(self.validPayload.dropLast()) + ",\"pad\":\"\(padding)\"}"
        self.expect(try Self.forge(header: #"{"alg":"HS256"}"#, payload: payload), refusedWith: .tooLarge)
        self.expect(String(repeating: "A", count: 4097), refusedWith: .tooLarge)
    }

    @Test("issuing refuses unassignable roles, bad ids and non-positive lifetimes")
    func issuingRefusals() throws {
        #expect(throws: TokenError.self) {
            try self.codec.issue(userID: 1, role: .unspecified, type: .access, lifetime: 60)
        }
        #expect(throws: TokenError.self) {
            try self.codec.issue(userID: 1, role: .unrecognized(9), type: .access, lifetime: 60)
        }
        #expect(throws: TokenError.self) { try self.codec.issue(userID: 1, role: .admin, type: .access, lifetime: 0) }
        #expect(throws: TokenError.self) { try self.codec.issue(userID: 0, role: .admin, type: .access, lifetime: 60) }
        #expect(throws: TokenError.self) {
            try self.codec.issue(userID: 1, role: .admin, type: .access, lifetime: .max)
        }
        #expect(throws: TokenError.self) {
            try self.codec.issue(userID: 1, role: .admin, type: .refresh, lifetime: 60, familyID: "\"}")
        }
    }

    @Test("descriptions never show the token or the secret")
    func redaction() throws {
        let issued = try self.codec.issue(userID: 1, role: .admin, type: .access, lifetime: 60)
        let signature = String(issued.token.split(separator: ".")[2])
        #expect(!String(describing: issued).contains(signature))
        #expect(!String(reflecting: issued).contains(signature))
        #expect(String(describing: issued).contains("redacted"))
        #expect(!String(describing: self.codec).contains("0123456789abcdef"))
        let error = TokenError(.badSignature, "x")
        #expect(String(describing: error).contains("badSignature"))
    }
}
