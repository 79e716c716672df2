// SHA-256 for fingerprints and content hashes, through the digest fetched once per process (see
// OpenSSLAlgorithms) rather than OpenSSL's per-call implicit lookup.
import COpenSSL

/// SHA-256 (FIPS 180-4).
public enum SHA256 {
    public static let byteCount = 32

    /// The 32-byte digest of `bytes`.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: self.byteCount) { digest, initialized in
            var length: UInt32 = 0
            OpenSSLErrorQueue.clear()
            // Only allocation failure makes EVP_Digest fail; nothing useful can be returned then.
            guard EVP_Digest(bytes.baseAddress, bytes.count, digest.baseAddress, &length,
                OpenSSLAlgorithms.sha256.pointer, nil) == 1, length == UInt32(self.byteCount)
            else {
                fatalError("EVP_Digest(SHA256) failed: \(OpenSSLErrorQueue.drain().map(\.text))")
            }
            initialized = self.byteCount
        }
    }

    /// The 32-byte digest of `bytes` (an array, a slice, a string's `utf8`).
    public static func hash(_ bytes: some Collection<UInt8>) -> [UInt8] {
        bytes.withContiguousBytes { self.hash($0) }
    }
}
