// PasswordHasher against independent oracles: RFC 7914's PBKDF2-HMAC-SHA256 vectors, hashes made by Python's
// hashlib in Django's format (hard-coded and, when python3 is installed, computed at test time), and the
// malformed encodings a migrated table could hold.
import Foundation
import Testing
import VigilService
import VigilTLS
import VigilTesting

@Suite struct AuthPasswordHasherTests {
    /// Few iterations so the suite stays fast; the production default is checked separately, without running it.
    let hasher = PasswordHasher(iterations: 1000)

    @Test("the default is at least 600,000 iterations")
    func defaultIterations() {
        #expect(PasswordHasher.defaultIterations >= 600_000)
        #expect(PasswordHasher().iterations == PasswordHasher.defaultIterations)
        #expect(PasswordHasher().dummyHash.hasPrefix("pbkdf2_sha256$\(PasswordHasher.defaultIterations)$"))
    }

    @Test("PBKDF2-HMAC-SHA256 matches the RFC 7914 §11 vectors")
    func rfcVectors() throws {
        // RFC 7914 §11: P="passwd", S="salt", c=1, dkLen=64.
        let one = try PBKDF2.sha256(password: "passwd", salt: Array("salt".utf8), iterations: 1, derivedKeyLength: 64)
        #expect(
            Self.hex(one)
                == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                + "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
        )
        // Widely published vectors for PBKDF2-HMAC-SHA256, P="password", S="salt" (checked with Python's hashlib).
        let c1 = try PBKDF2.sha256(password: "password", salt: Array("salt".utf8), iterations: 1, derivedKeyLength: 32)
        #expect(Self.hex(c1) == "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b")
        let c4096 = try PBKDF2.sha256(
            password: "password", salt: Array("salt".utf8), iterations: 4096, derivedKeyLength: 32)
        #expect(Self.hex(c4096) == "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
    }

    /// Made by: python3 -c "import hashlib,base64;print('pbkdf2_sha256\$1000\$DjangoSaltAbc123xyz789\$'+
    ///   base64.b64encode(hashlib.pbkdf2_hmac('sha256',b'correct horse battery staple',b'DjangoSaltAbc123xyz789',
    ///   1000)).decode())"
    static let djangoVector =
        "pbkdf2_sha256$1000$DjangoSaltAbc123xyz789$DJLm7hgKyALjLryzp+7A6lW6NeNucGUh5Axr37u9Xcg="

    @Test("verifies a Django-format hash made by Python and encodes the same salt identically")
    func djangoVector() throws {
        #expect(self.hasher.verify("correct horse battery staple", against: Self.djangoVector))
        #expect(!self.hasher.verify("correct horse battery stapl", against: Self.djangoVector))
        #expect(
            try self.hasher.hash("correct horse battery staple", salt: "DjangoSaltAbc123xyz789") == Self.djangoVector)
        // Another hasher's iteration count does not matter: the stored count is used.
        #expect(PasswordHasher(iterations: 7).verify("correct horse battery staple", against: Self.djangoVector))
    }

    /// Made by: python3 -c "import hashlib,base64;print(base64.b64encode(hashlib.pbkdf2_hmac('sha256',
    ///   'pässwörd-ünïcode'.encode(),b'sel.!@#%^&*()',2000)).decode())"
    @Test("verifies a non-alphanumeric ASCII salt and a non-ASCII password as Django does")
    func punctuationSalt() {
        let encoded = "pbkdf2_sha256$2000$sel.!@#%^&*()$rWJw+4OsgoJviOmWk1qgFxzfC0jcQu00jWBfR5ADlJo="
        #expect(self.hasher.verify("pässwörd-ünïcode", against: encoded))
        #expect(!self.hasher.verify("passwörd-ünïcode", against: encoded))
    }

    @Test("agrees with Python's hashlib on a freshly generated hash", .enabled(if: Subprocess.which("python3") != nil))
    func pythonOracle() throws {
        let password = "Tr0ub4dor&3 — ünïcode"
        let encoded = try self.hasher.hash(password)
        let parts = encoded.split(separator: "$").map(String.init)
        try #require(parts.count == 4)
        let script = """
            import sys, hashlib, base64
            pw, salt, n = sys.stdin.read().split('\\n')[:3]
            print('pbkdf2_sha256$%s$%s$%s' % (n, salt, base64.b64encode(
                hashlib.pbkdf2_hmac('sha256', pw.encode(), salt.encode(), int(n))).decode()))
            """
        let python = try #require(Subprocess.which("python3"))
        let result = try Subprocess.run(
            python, ["-c", script], stdin: Array("\(password)\n\(parts[2])\n\(parts[1])\n".utf8))
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == encoded)
    }

    @Test("new hashes have Django's shape and a fresh 22-character alphanumeric salt")
    func shape() throws {
        let first = try self.hasher.hash("a long enough password")
        let second = try self.hasher.hash("a long enough password")
        #expect(first != second)
        let parts = first.split(separator: "$", omittingEmptySubsequences: false)
        #expect(parts.count == 4)
        #expect(parts[0] == "pbkdf2_sha256")
        #expect(parts[1] == "1000")
        #expect(parts[2].count == 22)
        #expect(parts[2].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        #expect(Data(base64Encoded: String(parts[3]))?.count == 32)
        #expect(self.hasher.verify("a long enough password", against: first))
        #expect(self.hasher.verify("a long enough password", against: second))
        #expect(!self.hasher.verify("a long enough passworD", against: first))
        #expect(!self.hasher.verify("", against: first))
    }

    @Test(
        "refuses malformed encodings without crashing",
        arguments: [
            "",
            "$$$",
            "pbkdf2_sha256",
            "pbkdf2_sha256$1000$salt",
            "pbkdf2_sha256$1000$DjangoSaltAbc123xyz789$DJLm7hgKyALjLryzp+7A6lW6NeNucGUh5Axr37u9Xcg=$extra",
            "pbkdf2_sha1$1000$DjangoSaltAbc123xyz789$DJLm7hgKyALjLryzp+7A6lW6NeNucGUh5Axr37u9Xcg=",
            "PBKDF2_SHA256$1000$DjangoSaltAbc123xyz789$DJLm7hgKyALjLryzp+7A6lW6NeNucGUh5Axr37u9Xcg=",
            "pbkdf2_sha256$0$DjangoSaltAbc123xyz789$DJLm7hgKyALjLryzp+7A6lW6NeNucGUh5Axr37u9Xcg=",
            "pbkdf2_sha256$-1000$DjangoSaltAbc123xyz789$DJLm7hgKyALjLryzp+7A6lW6NeNucGUh5Axr37u9Xcg=",
            "pbkdf2_sha256$+1000$DjangoSaltAbc123xyz789$DJLm7hgKyALjLryzp+7A6lW6NeNucGUh5Axr37u9Xcg=",
            "pbkdf2_sha256$99999999999999999999$DjangoSaltAbc123xyz789$DJLm7hgKyALjLryzp+7A6lW6NeNucGUh5Axr37u9Xcg=",
            "pbkdf2_sha256$1000000000$DjangoSaltAbc123xyz789$DJLm7hgKyALjLryzp+7A6lW6NeNucGUh5Axr37u9Xcg=",
            "pbkdf2_sha256$abc$DjangoSaltAbc123xyz789$DJLm7hgKyALjLryzp+7A6lW6NeNucGUh5Axr37u9Xcg=",
            "pbkdf2_sha256$1000$$DJLm7hgKyALjLryzp+7A6lW6NeNucGUh5Axr37u9Xcg=",
            "pbkdf2_sha256$1000$salt with space$DJLm7hgKyALjLryzp+7A6lW6NeNucGUh5Axr37u9Xcg=",
            "pbkdf2_sha256$1000$sält$DJLm7hgKyALjLryzp+7A6lW6NeNucGUh5Axr37u9Xcg=",
            "pbkdf2_sha256$1000$DjangoSaltAbc123xyz789$",
            "pbkdf2_sha256$1000$DjangoSaltAbc123xyz789$not base64!",
            "pbkdf2_sha256$1000$DjangoSaltAbc123xyz789$DJLm7hgKyALjLryzp+7A6lW6NeNucGUh5Axr37u9Xc",
            "pbkdf2_sha256$1000$DjangoSaltAbc123xyz789$AAAA",
            "!pbkdf2_sha256$1000$DjangoSaltAbc123xyz789$DJLm7hgKyALjLryzp+7A6lW6NeNucGUh5Axr37u9Xcg=",
        ]
    )
    func malformed(encoded: String) {
        #expect(!self.hasher.verify("correct horse battery staple", against: encoded))
        #expect(self.hasher.needsRehash(encoded))
    }

    @Test("the dummy hash is well formed, matches nothing, and costs a real verification")
    func dummy() {
        #expect(self.hasher.dummyHash.hasPrefix("pbkdf2_sha256$1000$"))
        #expect(!self.hasher.needsRehash(self.hasher.dummyHash))
        #expect(!self.hasher.verifyDummy("anything at all"))
        #expect(!self.hasher.verify("", against: self.hasher.dummyHash))
    }

    @Test("rehash is needed for fewer iterations, not for as many or more")
    func rehash() throws {
        #expect(
            self.hasher.needsRehash("pbkdf2_sha256$999$DjangoSaltAbc123xyz789$" + String(Self.djangoVector.suffix(44))))
        #expect(!self.hasher.needsRehash(Self.djangoVector))
        #expect(!PasswordHasher(iterations: 10).needsRehash(Self.djangoVector))
    }

    @Test("hashing refuses an over-long password and a bad salt with typed errors")
    func hashingErrors() {
        let long = String(repeating: "x", count: PasswordHasher.maximumPasswordBytes + 1)
        #expect(#expect(throws: PasswordHashError.self) { try self.hasher.hash(long) }?.code == .passwordTooLong)
        #expect(!self.hasher.verify(long, against: self.hasher.dummyHash))
        let badSalt = #expect(throws: PasswordHashError.self) {
            try self.hasher.hash("a long enough password", salt: "a$b")
        }
        #expect(badSalt?.code == .malformedHash)
    }

    @Test("salts are alphanumeric, 22 characters, and differ")
    func salts() {
        let salts = (0..<200).map { _ in PasswordHasher.makeSalt() }
        #expect(Set(salts).count == salts.count)
        for salt in salts {
            #expect(salt.utf8.count == 22)
            #expect(salt.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        }
        // Every character of the alphabet turns up in 4,400 draws (each is missing with probability ~1e-31).
        #expect(Set(salts.joined()).count == 62)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}

@Suite struct AuthPasswordPolicyTests {
    let policy = PasswordPolicy()

    @Test("accepts 12 characters or more that are not the username")
    func accepts() throws {
        try self.policy.validate(password: "twelve chars", username: "alice")
        try self.policy.validate(password: "ééééééééééé1", username: "alice")
    }

    @Test(
        "refuses short passwords and the username in any case",
        arguments: [
            ("short", "alice", PasswordPolicyError.Reason.tooShort),
            ("elevenchars", "alice", .tooShort),
            ("", "alice", .tooShort),
            ("AdministratorX", "administratorx", .sameAsUsername),
            ("administratorx", "AdministratorX", .sameAsUsername),
            (String(repeating: "p", count: 4097), "alice", .tooLong),
        ]
    )
    func refuses(password: String, username: String, reason: PasswordPolicyError.Reason) {
        let error = #expect(throws: PasswordPolicyError.self) {
            try self.policy.validate(password: password, username: username)
        }
        #expect(error?.reason == reason)
        #expect(error.map { !$0.message.isEmpty && (password.isEmpty || !$0.message.contains(password)) } ?? false)
    }

    @Test("the minimum is 12 and counts characters, not bytes")
    func counting() {
        #expect(PasswordPolicy.minimumLength == 12)
        // 11 characters, 22 bytes: still too short.
        #expect(throws: PasswordPolicyError.self) {
            try self.policy.validate(password: String(repeating: "é", count: 11), username: "bob")
        }
    }
}
