// Password hashing for stored credentials: PBKDF2-HMAC-SHA256 (RFC 8018) with a caller-chosen iteration count,
// via OpenSSL's PKCS5_PBKDF2_HMAC. Deliberately slow: never call it on the cooperative thread pool.
import COpenSSL

/// PBKDF2 key derivation (RFC 8018 §5.2).
public enum PBKDF2 {
    /// Derived keys longer than this are refused: past 32 bytes each extra block costs the defender a full run of
    /// `iterations` and buys the attacker nothing.
    public static let maximumDerivedKeyLength = 1024

    /// PBKDF2-HMAC-SHA256 of `password` and `salt`. Takes time proportional to `iterations` (600,000 is about a
    /// quarter of a second): run it on a thread of its own, not on the cooperative pool.
    public static func sha256(
        password: some Collection<UInt8>,
        salt: some Collection<UInt8>,
        iterations: Int,
        derivedKeyLength: Int
    ) throws -> [UInt8] {
        guard iterations >= 1, iterations <= Int(Int32.max) else {
            throw TLSError(.invalidArgument, "PBKDF2 needs 1 to 2^31-1 iterations, not \(iterations)")
        }
        guard derivedKeyLength >= 1, derivedKeyLength <= self.maximumDerivedKeyLength else {
            throw TLSError(.invalidArgument, "PBKDF2 output must be 1 to \(self.maximumDerivedKeyLength) bytes")
        }
        return try password.withContiguousBytes { password in
            try salt.withContiguousBytes { salt in
                guard password.count <= Int(Int32.max), salt.count <= Int(Int32.max) else {
                    throw TLSError(.invalidArgument, "PBKDF2 password and salt must be under 2 GiB")
                }
                var failure: TLSError? = nil
                let key = [UInt8](unsafeUninitializedCapacity: derivedKeyLength) { output, initialized in
                    OpenSSLErrorQueue.clear()
                    let status = PKCS5_PBKDF2_HMAC(
                        password.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(password.count),
                        salt.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(salt.count),
                        Int32(iterations), OpenSSLAlgorithms.sha256.pointer, Int32(derivedKeyLength),
                        output.baseAddress
                    )
                    if status == 1 {
                        initialized = derivedKeyLength
                    } else {
                        initialized = 0
                        failure = TLSError.drainingQueue(.cryptoFailure, "PKCS5_PBKDF2_HMAC failed")
                    }
                }
                if let failure { throw failure }
                return key
            }
        }
    }

    /// PBKDF2-HMAC-SHA256 of a password string (its UTF-8 bytes); see `sha256(password:salt:iterations:...)`.
    public static func sha256(
        password: String,
        salt: some Collection<UInt8>,
        iterations: Int,
        derivedKeyLength: Int
    ) throws -> [UInt8] {
        try self.sha256(
            password: password.utf8,
            salt: salt,
            iterations: iterations,
            derivedKeyLength: derivedKeyLength
        )
    }
}
