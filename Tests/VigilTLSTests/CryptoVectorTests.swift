// The crypto helpers against published test vectors: HMAC-SHA256 from RFC 4231 section 4, PBKDF2-HMAC-SHA256 from
// RFC 7914 section 11, SHA-256 from FIPS 180-2 appendix B. Passwords and tokens depend on these being exact.
import Testing
import VigilTLS

@Suite("Crypto test vectors")
struct CryptoVectorTests {
    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    static let hmacCases: [(name: String, key: [UInt8], message: String, mac: String)] = [
        ("RFC 4231 case 1", [UInt8](repeating: 0x0B, count: 20), "Hi There",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        ("RFC 4231 case 2", Array("Jefe".utf8), "what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        ("RFC 4231 case 6 (key longer than a block)", [UInt8](repeating: 0xAA, count: 131),
         "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    ]

    @Test("HMAC-SHA256 matches RFC 4231", arguments: hmacCases.indices)
    func hmac(index: Int) throws {
        let testCase = Self.hmacCases[index]
        let expected = Self.hex(testCase.mac)
        #expect(try HMACSHA256.authenticationCode(key: testCase.key, message: Array(testCase.message.utf8)) == expected)
        // A reusable keyed context gives the same answer every time, and verifies in constant time.
        let keyed = try HMACSHA256(key: testCase.key)
        for _ in 0..<3 { #expect(keyed.authenticationCode(for: Array(testCase.message.utf8)) == expected) }
        #expect(keyed.isValidAuthenticationCode(expected, for: Array(testCase.message.utf8)))
        var tampered = expected
        tampered[31] ^= 1
        #expect(!keyed.isValidAuthenticationCode(tampered, for: Array(testCase.message.utf8)))
    }

    @Test("PBKDF2-HMAC-SHA256 matches RFC 7914 section 11")
    func pbkdf2() throws {
        #expect(try PBKDF2.sha256(password: "passwd", salt: Array("salt".utf8), iterations: 1, derivedKeyLength: 64)
            == Self.hex("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                + "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"))
        #expect(try PBKDF2.sha256(password: "Password", salt: Array("NaCl".utf8), iterations: 80_000, derivedKeyLength: 64)
            == Self.hex("4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
                + "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"))
    }

    /// Edges RFC 7914 does not reach, against Python's hashlib.pbkdf2_hmac (an independent implementation):
    /// a password longer than SHA-256's block (HMAC hashes it first), one exactly a block long, an empty password
    /// or salt, and a key that ends part-way through a second block.
    @Test("PBKDF2 handles long, block-sized and empty passwords and salts")
    func pbkdf2Edges() throws {
        #expect(try PBKDF2.sha256(password: String(repeating: "p", count: 100), salt: Array("NaCl".utf8),
            iterations: 4096, derivedKeyLength: 32)
            == Self.hex("6acce8d5191d376fe7508c80041da355a4f916ffe8213efabc6d393c132c2cb8"))
        #expect(try PBKDF2.sha256(password: String(repeating: "x", count: 64), salt: [UInt8](),
            iterations: 3, derivedKeyLength: 40)
            == Self.hex("db855ad82ccd85db17d754ca0f2ba391d531f4681d2212e8cec8e4ecfe7434f4f78a1c1e8468ec35"))
        #expect(try PBKDF2.sha256(password: "", salt: Array("salt".utf8), iterations: 2, derivedKeyLength: 32)
            == Self.hex("62384466264daadc4144018c6bd864648272b34da8980d31521ffcce92ae003b"))
    }

    @Test("PBKDF2 run in steps of any size gives the one-call result, and only once finished")
    func pbkdf2Steps() throws {
        let expected = Self.hex("4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56")
        for step in [1, 7, 1_000, 79_999, 80_000, 1_000_000] {
            var block = try PBKDF2.SHA256Block(password: Array("Password".utf8), salt: Array("NaCl".utf8),
                iterations: 80_000)
            #expect(block.remainingIterations == 79_999)
            var steps = 0
            while !block.isFinished {
                #expect(block.derivedBlock == nil)
                block.advance(by: step)
                steps += 1
                if steps > 80_000 { break }
            }
            #expect(steps == (79_999 + step - 1) / step, "step \(step)")
            #expect(block.derivedBlock == expected, "step \(step)")
            block.advance(by: 5)
            #expect(block.derivedBlock == expected)
        }
        #expect(throws: (any Error).self) {
            try PBKDF2.SHA256Block(password: Array("p".utf8), salt: [1], iterations: 0)
        }
    }

    @Test("PBKDF2 refuses an iteration count or key length it cannot honour")
    func pbkdf2Limits() {
        #expect(throws: (any Error).self) {
            try PBKDF2.sha256(password: "p", salt: [1], iterations: 0, derivedKeyLength: 32)
        }
        #expect(throws: (any Error).self) {
            try PBKDF2.sha256(password: "p", salt: [1], iterations: 1, derivedKeyLength: PBKDF2.maximumDerivedKeyLength + 1)
        }
    }

    @Test("SHA-256 matches FIPS 180-2")
    func sha256() {
        #expect(SHA256.hash(Array("abc".utf8)) == Self.hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        #expect(SHA256.hash([UInt8]()) == Self.hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
    }

    @Test("constant-time comparison compares content and length")
    func constantTime() {
        #expect(ConstantTime.equals([1, 2, 3] as [UInt8], [1, 2, 3] as [UInt8]))
        #expect(!ConstantTime.equals([1, 2, 3] as [UInt8], [1, 2, 4] as [UInt8]))
        #expect(!ConstantTime.equals([1, 2, 3] as [UInt8], [1, 2] as [UInt8]))
        #expect(ConstantTime.equals([UInt8](), [UInt8]()))
    }

    @Test("random bytes are the length asked for and differ between calls")
    func randomBytes() {
        let first = SecureRandom.bytes(32)
        let second = SecureRandom.bytes(32)
        #expect(first.count == 32 && second.count == 32)
        #expect(first != second)
        #expect(SecureRandom.bytes(0).isEmpty)
    }
}
