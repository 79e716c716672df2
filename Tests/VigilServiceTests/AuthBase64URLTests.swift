// Base64URL: RFC 4648 §10's vectors in the URL alphabet, agreement with Foundation on random inputs, and refusal
// of every spelling that is not the canonical unpadded one (the property that keeps a token from having twins).
import Foundation
import Testing
import VigilService

@Suite struct AuthBase64URLTests {
    @Test(
        "encodes and decodes the RFC 4648 §10 vectors without padding",
        arguments: [
            ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ])
    func rfcVectors(plain: String, encoded: String) {
        #expect(Base64URL.encode(plain.utf8) == encoded)
        #expect(Base64URL.decode(encoded.utf8) == Array(plain.utf8))
    }

    @Test("uses - and _ where standard base64 has + and /")
    func urlAlphabet() {
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("-_8".utf8) == [0xFB, 0xFF])
        #expect(Base64URL.decode("+/8".utf8) == nil)
    }

    @Test("agrees with Foundation's base64 on random inputs of every length up to 100")
    func randomRoundTrip() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...100 {
            let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let encoded = Base64URL.encode(bytes)
            let foundation = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(encoded == foundation)
            #expect(Base64URL.decode(encoded.utf8) == bytes)
        }
    }

    @Test(
        "refuses padding, stray bytes, impossible lengths and non-zero leftover bits",
        arguments: ["Zg==", "Zg=", "Z", "Zm9vY", "Zm 9v", "Zm9v\n", "Zh", "Zm9", "Zm8=", "Zm9vYmF5ü", "\0"])
    func refusals(text: String) {
        #expect(Base64URL.decode(text.utf8) == nil)
    }
}
