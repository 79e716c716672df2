// libFuzzer harness for the bearer-token parser (Sources/VigilService/Auth: TokenCodec.verify, Base64URL), which
// reads an `authorization` value from any caller before anything else is known about them. Compiled together with
// the token files only (not all of VigilService, which would pull in SQLite and the store). Input: one mode byte,
// then:
// - mode 0: a token string, verified as an access and as a refresh token; it must not trap, and a token that
//   verifies must re-encode to itself (the codec writes exactly one spelling of each claim set);
// - mode 1: header JSON, a 0x00 byte, payload JSON: signed with the codec's own secret and then verified, so the
//   fuzzer gets past the signature into the header and claims parsers (which a forger never reaches);
// - mode 2: Base64URL text: decoding must be canonical (decode then encode gives the text back).
// The clock is fixed, so which claims are expired does not depend on when the harness runs.

import VigilAPI
import VigilTLS

let secret = Array("fuzz-secret-0123456789abcdef-0123456789".utf8)
let now: Int64 = 1_800_000_000
let tokenCodec: TokenCodec = {
    do {
        return try TokenCodec(secret: secret, clock: .fixed(now))
    } catch {
        fatalError("cannot make the fuzz codec: \(error)")
    }
}()
let mac: HMACSHA256 = {
    do {
        return try HMACSHA256(key: secret)
    } catch {
        fatalError("cannot key HMAC: \(error)")
    }
}()

/// Verifies `token` both ways; a token that verifies is one the codec would have written itself.
func checkVerify(_ token: String) {
    for type in TokenType.allCases {
        guard let claims = try? tokenCodec.verify(token, expecting: type) else { continue }
        fuzzCheck(claims.tokenType == type, "verified a \(claims.tokenType) token as \(type)")
        fuzzCheck(claims.expiresAt > now, "verified an expired token")
        do {
            let again = try tokenCodec.verify(try tokenCodec.encode(claims), expecting: type)
            fuzzCheck(again == claims, "re-encoding \(claims) verified as \(again)")
        } catch {
            fuzzCheck(false, "claims \(claims) from a verified token do not re-encode: \(error)")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzBytes(data, size)
    guard let mode = input.first else { return 0 }
    let body = input.dropFirst()
    switch mode % 3 {
    case 0:
        checkVerify(String(decoding: body, as: UTF8.self))
    case 1:
        let split = body.firstIndex(of: 0) ?? body.endIndex
        let header = body[..<split]
        let payload = split < body.endIndex ? body[(split + 1)...] : []
        let signingInput = Base64URL.encode(header) + "." + Base64URL.encode(payload)
        checkVerify(signingInput + "." + Base64URL.encode(mac.authenticationCode(for: signingInput.utf8)))
    default:
        if let decoded = Base64URL.decode(body) {
            let text = Base64URL.encode(decoded)
            fuzzCheck(text.utf8.elementsEqual(body), "base64url \(Array(body)) decoded but re-encodes as \(text)")
        }
        let encoded = Base64URL.encode(body)
        fuzzCheck(Base64URL.decode(encoded.utf8).map { $0.elementsEqual(body) } ?? false, "base64url of \(body) fails")
    }
    return 0
}
