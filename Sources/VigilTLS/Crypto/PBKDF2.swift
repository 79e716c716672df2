// Password hashing for stored credentials: PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) with a caller-chosen iteration count.
//
// Two reasons it is not one call to OpenSSL's PKCS5_PBKDF2_HMAC:
// - Cost. Each iteration is HMAC(password, U), which is two SHA-256 block transforms once the password's inner and
//   outer keyed states are computed. OpenSSL copies a whole EVP HMAC context per iteration and takes 3.2 times as
//   long (250 ms against 77 ms at 600,000 iterations on this machine). An attacker's hashcat already does the
//   cheap version; the defender paying triple only costs logins, never strength.
// - Pausing. `SHA256Block` runs in steps, so the hashing pool can give the CPU back between steps when data RPCs
//   are busy (HashingPool, "pacing"); one opaque quarter-second call could not be paced.
// Deliberately slow at production counts: never call it on the cooperative pool.
import COpenSSL

/// PBKDF2 key derivation (RFC 8018 §5.2).
public enum PBKDF2 {
    /// Derived keys longer than this are refused: past 32 bytes each extra block costs the defender a full run of
    /// `iterations` and buys the attacker nothing.
    public static let maximumDerivedKeyLength = 1024
    /// SHA-256's output: one PBKDF2 block.
    public static let blockLength = 32

    /// PBKDF2-HMAC-SHA256 of `password` and `salt`. Takes time proportional to `iterations` (600,000 is about
    /// 80 ms here): run it on a thread of its own, not on the cooperative pool.
    public static func sha256(
        password: some Collection<UInt8>,
        salt: some Collection<UInt8>,
        iterations: Int,
        derivedKeyLength: Int
    ) throws(TLSError) -> [UInt8] {
        guard derivedKeyLength >= 1, derivedKeyLength <= self.maximumDerivedKeyLength else {
            throw TLSError(.invalidArgument, "PBKDF2 output must be 1 to \(self.maximumDerivedKeyLength) bytes")
        }
        var key: [UInt8] = []
        key.reserveCapacity(derivedKeyLength)
        var blockIndex: UInt32 = 1
        while key.count < derivedKeyLength {
            var block = try SHA256Block(password: password, salt: salt, iterations: iterations, blockIndex: blockIndex)
            block.advance(by: iterations)
            key.append(contentsOf: block.derivedBlock?.prefix(derivedKeyLength - key.count) ?? [])
            blockIndex += 1
        }
        return key
    }

    /// PBKDF2-HMAC-SHA256 of a password string (its UTF-8 bytes); see `sha256(password:salt:iterations:...)`.
    public static func sha256(
        password: String,
        salt: some Collection<UInt8>,
        iterations: Int,
        derivedKeyLength: Int
    ) throws(TLSError) -> [UInt8] {
        try self.sha256(
            password: password.utf8,
            salt: salt,
            iterations: iterations,
            derivedKeyLength: derivedKeyLength
        )
    }
}

extension PBKDF2 {
    /// One 32-byte block of PBKDF2-HMAC-SHA256 (T_i in RFC 8018), computed a number of iterations at a time.
    /// A value: copying it forks the computation.
    public struct SHA256Block: Sendable {
        /// SHA-256 state after the block `key XOR ipad`, and after `key XOR opad`: HMAC's two keyed prefixes.
        private let innerKeyed: SHA256_CTX
        private let outerKeyed: SHA256_CTX
        /// The message block of the next transform: a 32-byte digest, then SHA-256 padding for a 96-byte message
        /// (64 bytes of keyed prefix plus the digest), so each HMAC is exactly two `SHA256_Transform`s.
        private var message: [UInt8]
        /// T_i so far: the XOR of every U_j, as SHA-256 state words (big-endian when serialised).
        private var sum: [UInt32]
        /// Iterations not yet run.
        public private(set) var remainingIterations: Int

        /// Prepares block `blockIndex` (from 1) and runs the first iteration, U_1 = HMAC(password, salt ‖ index).
        public init(
            password: some Collection<UInt8>,
            salt: some Collection<UInt8>,
            iterations: Int,
            blockIndex: UInt32 = 1
        ) throws(TLSError) {
            guard iterations >= 1, iterations <= Int(Int32.max) else {
                throw TLSError(.invalidArgument, "PBKDF2 needs 1 to 2^31-1 iterations, not \(iterations)")
            }
            guard password.count <= Int(Int32.max), salt.count <= Int(Int32.max) else {
                throw TLSError(.invalidArgument, "PBKDF2 password and salt must be under 2 GiB")
            }
            // HMAC keys longer than SHA-256's block are hashed first (RFC 2104 §2).
            var key = password.count > 64 ? SHA256.hash(password) : Array(password)
            key.append(contentsOf: repeatElement(0, count: 64 - key.count))
            self.innerKeyed = Self.keyedState(key.map { $0 ^ 0x36 })
            self.outerKeyed = Self.keyedState(key.map { $0 ^ 0x5C })
            var first = Array(salt)
            first.append(contentsOf: [UInt8(blockIndex >> 24), UInt8(truncatingIfNeeded: blockIndex >> 16),
                UInt8(truncatingIfNeeded: blockIndex >> 8), UInt8(truncatingIfNeeded: blockIndex)])
            let firstCode: [UInt8]
            do {
                firstCode = try HMACSHA256.authenticationCode(key: password, message: first)
            } catch let error as TLSError {
                throw error
            } catch {
                throw TLSError(.cryptoFailure, "HMAC-SHA256 failed: \(error)")
            }
            self.message = firstCode + [0x80] + [UInt8](repeating: 0, count: 29) + [0x03, 0x00]  // 768 bits
            self.sum = (0..<8).map { word in
                firstCode[(word * 4)..<(word * 4 + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            }
            self.remainingIterations = iterations - 1
        }

        /// True once every iteration has run.
        public var isFinished: Bool { self.remainingIterations == 0 }

        /// The 32-byte T_i once finished; nil before.
        public var derivedBlock: [UInt8]? {
            guard self.isFinished else { return nil }
            return self.sum.flatMap { word in (0..<4).reversed().map { UInt8(truncatingIfNeeded: word >> ($0 * 8)) } }
        }

        /// Runs up to `count` more iterations (fewer when fewer remain).
        public mutating func advance(by count: Int) {
            let steps = min(max(count, 0), self.remainingIterations)
            guard steps > 0 else { return }
            let innerKeyed = self.innerKeyed
            let outerKeyed = self.outerKeyed
            var sum = self.sum
            self.message.withUnsafeMutableBytes { message in
                let block = message.baseAddress!.assumingMemoryBound(to: UInt8.self)
                for _ in 0..<steps {
                    var state = innerKeyed
                    vigil_SHA256_transform(&state, block)
                    Self.store(state.h, into: message)
                    state = outerKeyed
                    vigil_SHA256_transform(&state, block)
                    Self.store(state.h, into: message)
                    sum[0] ^= state.h.0
                    sum[1] ^= state.h.1
                    sum[2] ^= state.h.2
                    sum[3] ^= state.h.3
                    sum[4] ^= state.h.4
                    sum[5] ^= state.h.5
                    sum[6] ^= state.h.6
                    sum[7] ^= state.h.7
                }
            }
            self.sum = sum
            self.remainingIterations -= steps
        }

        /// SHA-256 state after one transform of `paddedKey` (64 bytes) from the initial value.
        private static func keyedState(_ paddedKey: [UInt8]) -> SHA256_CTX {
            var state = SHA256_CTX()
            vigil_SHA256_init(&state)
            paddedKey.withUnsafeBytes { key in
                vigil_SHA256_transform(&state, key.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            return state
        }

        /// Writes a digest (SHA-256 state words, big-endian) over the first 32 bytes of the message block.
        @inline(__always)
        private static func store(
            _ words: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32),
            into message: UnsafeMutableRawBufferPointer
        ) {
            message.storeBytes(of: words.0.bigEndian, toByteOffset: 0, as: UInt32.self)
            message.storeBytes(of: words.1.bigEndian, toByteOffset: 4, as: UInt32.self)
            message.storeBytes(of: words.2.bigEndian, toByteOffset: 8, as: UInt32.self)
            message.storeBytes(of: words.3.bigEndian, toByteOffset: 12, as: UInt32.self)
            message.storeBytes(of: words.4.bigEndian, toByteOffset: 16, as: UInt32.self)
            message.storeBytes(of: words.5.bigEndian, toByteOffset: 20, as: UInt32.self)
            message.storeBytes(of: words.6.bigEndian, toByteOffset: 24, as: UInt32.self)
            message.storeBytes(of: words.7.bigEndian, toByteOffset: 28, as: UInt32.self)
        }
    }
}
