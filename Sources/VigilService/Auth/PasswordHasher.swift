// Stored passwords: PBKDF2-HMAC-SHA256 in Django's encoding, `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`,
// so the Django platform's users table migrates as is and their passwords keep working. Django's salt is an ASCII
// string whose UTF-8 bytes are the PBKDF2 salt; we generate 22 alphanumeric characters as Django does (about 131
// bits) and accept any printable-ASCII salt without `$`. Hashing is deliberately slow: run it on `HashingPool`,
// never on the cooperative pool or an I/O loop.
import Foundation
import VigilTLS

/// Hashes and verifies passwords; a value, safe to share.
public struct PasswordHasher: Sendable, CustomStringConvertible {
    /// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256 (and Django 4.2's default): about 80 ms per hash here.
    public static let defaultIterations = 600_000
    /// A stored hash asking for more is refused rather than run: it would cost minutes per login.
    public static let maximumIterations = 100_000_000
    /// The `algorithm` field of Django's encoding.
    public static let algorithm = "pbkdf2_sha256"
    /// Django's salt length: 22 characters of 62 carry at least 128 bits.
    public static let saltLength = 22
    /// PBKDF2 output length: SHA-256's size, as Django derives.
    public static let hashLength = 32
    /// Longer passwords are refused outright: nobody types 4 KiB, and a cap bounds what a caller can make us hash.
    public static let maximumPasswordBytes = 4096

    private static let saltAlphabet: [UInt8] = Array(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8
    )

    /// Iterations for new hashes. Verification uses the count stored in each hash.
    public let iterations: Int

    /// A hasher for new hashes at `iterations` (tests pass a small count; production keeps the default).
    public init(iterations: Int = PasswordHasher.defaultIterations) {
        precondition(iterations >= 1 && iterations <= Self.maximumIterations, "PBKDF2 iterations out of range")
        self.iterations = iterations
    }

    public var description: String { "PasswordHasher(\(Self.algorithm), \(self.iterations) iterations)" }

    // MARK: Hashing

    /// The encoded hash of `password` with a fresh random salt.
    public func hash(_ password: String, steps: Steps = .whole) throws(PasswordHashError) -> String {
        try self.hash(password, salt: Self.makeSalt(), steps: steps)
    }

    /// The encoded hash of `password` with `salt`: for compatibility tests and migrations; use `hash(_:)` otherwise.
    public func hash(_ password: String, salt: String, steps: Steps = .whole) throws(PasswordHashError) -> String {
        guard password.utf8.count <= Self.maximumPasswordBytes else {
            throw PasswordHashError(.passwordTooLong, "passwords are at most \(Self.maximumPasswordBytes) bytes")
        }
        guard Self.isValidSalt(salt) else {
            throw PasswordHashError(.malformedHash, "a salt is printable ASCII without '$'")
        }
        let derived = try Self.derive(password, salt: salt, iterations: self.iterations, steps: steps)
        return "\(Self.algorithm)$\(self.iterations)$\(salt)$\(Data(derived).base64EncodedString())"
    }

    /// A new salt: 22 characters from [a-zA-Z0-9], drawn without modulo bias from the CSPRNG.
    public static func makeSalt() -> String {
        var salt: [UInt8] = []
        salt.reserveCapacity(Self.saltLength)
        while salt.count < Self.saltLength {
            // 248 = 4 * 62: bytes at or above it would favour the first characters, so they are drawn again.
            for byte in SecureRandom.bytes(Self.saltLength) where byte < 248 && salt.count < Self.saltLength {
                salt.append(Self.saltAlphabet[Int(byte % 62)])
            }
        }
        return String(decoding: salt, as: UTF8.self)
    }

    // MARK: Verifying

    /// True when `encoded` is a well-formed hash of `password`. The derived key is compared in constant time;
    /// a malformed `encoded` (or an over-long password) is false, never a crash.
    public func verify(_ password: String, against encoded: String, steps: Steps = .whole) -> Bool {
        guard let stored = StoredHash(encoded), password.utf8.count <= Self.maximumPasswordBytes,
            let derived = try? Self.derive(password, salt: stored.salt, iterations: stored.iterations, steps: steps)
        else { return false }
        return ConstantTime.equals(derived, stored.hash)
    }

    /// Does the work of verifying against a hash at this hasher's iteration count and returns false: called for
    /// an unknown username so that answering "no such user" costs what "wrong password" costs.
    public func verifyDummy(_ password: String, steps: Steps = .whole) -> Bool {
        _ = self.verify(password, against: self.dummyHash, steps: steps)
        return false
    }

    /// A hash no password matches (its key is fixed, not derived), at this hasher's iteration count. Built from
    /// constants rather than by hashing, so making one costs nothing at startup.
    public var dummyHash: String {
        "\(Self.algorithm)$\(self.iterations)$VigilDummySaltNoUser00$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    }

    /// True when `encoded` should be replaced by a fresh hash after a successful login: another algorithm or
    /// fewer iterations than this hasher uses (Django migrations arrive with older counts).
    public func needsRehash(_ encoded: String) -> Bool {
        guard let stored = StoredHash(encoded) else { return true }
        return stored.iterations < self.iterations
    }

    // MARK: Parts

    /// Where a long PBKDF2 run stops for breath: `pause` runs on the hashing thread after every `iterations`
    /// (HashingPool paces logins this way while other RPCs are served). `whole` runs without stopping.
    public struct Steps {
        public let iterations: Int
        public let pause: () -> Void

        public init(iterations: Int, pause: @escaping () -> Void) {
            precondition(iterations >= 1, "a PBKDF2 step runs at least one iteration")
            self.iterations = iterations
            self.pause = pause
        }

        public static var whole: Steps { Steps(iterations: Int(Int32.max), pause: {}) }
    }

    /// PBKDF2 of one block (`hashLength` is SHA-256's size), run in `steps`.
    private static func derive(
        _ password: String, salt: String, iterations: Int, steps: Steps
    ) throws(PasswordHashError) -> [UInt8] {
        do {
            var block = try PBKDF2.SHA256Block(password: password.utf8, salt: salt.utf8, iterations: iterations)
            while !block.isFinished {
                block.advance(by: steps.iterations)
                if !block.isFinished { steps.pause() }
            }
            return block.derivedBlock ?? []
        } catch {
            throw PasswordHashError(.cryptoFailure, "PBKDF2 failed", cause: error)
        }
    }

    /// Printable ASCII (0x21...0x7E) without `$`, 1 to 128 bytes: what Django's salts are, and nothing that
    /// could split or break the encoding.
    static func isValidSalt(_ salt: String) -> Bool {
        let bytes = salt.utf8
        guard !bytes.isEmpty, bytes.count <= 128 else { return false }
        return bytes.allSatisfy { $0 >= 0x21 && $0 <= 0x7E && $0 != UInt8(ascii: "$") }
    }

    /// A parsed `pbkdf2_sha256$<iterations>$<salt>$<hash>`; nil for anything else.
    struct StoredHash {
        let iterations: Int
        let salt: String
        let hash: [UInt8]

        init?(_ encoded: String) {
            guard encoded.utf8.count <= 512 else { return nil }
            let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0] == PasswordHasher.algorithm else { return nil }
            // Digits only: Int("+5") and Int("-5") parse, and Django never writes either.
            guard !parts[1].isEmpty, parts[1].utf8.count <= 10,
                parts[1].utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let iterations = Int(parts[1]), iterations >= 1, iterations <= PasswordHasher.maximumIterations
            else { return nil }
            let salt = String(parts[2])
            guard PasswordHasher.isValidSalt(salt) else { return nil }
            guard let hash = Data(base64Encoded: String(parts[3])), hash.count == PasswordHasher.hashLength else {
                return nil
            }
            self.iterations = iterations
            self.salt = salt
            self.hash = [UInt8](hash)
        }
    }
}
