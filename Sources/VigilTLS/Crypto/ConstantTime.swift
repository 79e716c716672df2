// Comparing a secret (a MAC, a token hash) with ordinary == leaks, through timing, how many leading bytes matched;
// an attacker can then guess a secret byte by byte. Every secret comparison in Vigil goes through here instead.
import COpenSSL

/// Comparisons whose duration does not depend on the contents compared.
public enum ConstantTime {
    /// True when `lhs` and `rhs` hold the same bytes. The time taken depends only on the lengths: contents are
    /// always compared in full (`CRYPTO_memcmp`), and unequal lengths still cost a full pass over `lhs`.
    public static func equals(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
        guard let left = lhs.baseAddress, !lhs.isEmpty else { return rhs.isEmpty }
        guard lhs.count == rhs.count, let right = rhs.baseAddress else {
            // Lengths are not secret, but the work is kept the same as an equal-length comparison anyway.
            _ = CRYPTO_memcmp(left, left, lhs.count)
            return false
        }
        return CRYPTO_memcmp(left, right, lhs.count) == 0
    }

    /// True when `lhs` and `rhs` hold the same bytes; see `equals(_: UnsafeRawBufferPointer, _:)`.
    public static func equals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        lhs.withContiguousBytes { left in rhs.withContiguousBytes { right in self.equals(left, right) } }
    }
}
