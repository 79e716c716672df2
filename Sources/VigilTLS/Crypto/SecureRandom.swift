// Salts, tokens and certificate serial numbers need unpredictable bytes; this is the module's single door to
// OpenSSL's CSPRNG so nothing reaches for a weaker generator.
import COpenSSL

/// Cryptographically secure random bytes (OpenSSL's `RAND_bytes`).
public enum SecureRandom {
    /// `count` random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0, "negative byte count")
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            self.fill(UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }

    /// Fills `buffer` with random bytes.
    ///
    /// Traps if the generator fails (it cannot be seeded): there is no safe way to continue, since tokens and
    /// salts made from predictable bytes would be guessable, and a caller could not do anything better.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard var base = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let chunk = min(remaining, Int(Int32.max))
            OpenSSLErrorQueue.clear()
            guard RAND_bytes(base.assumingMemoryBound(to: UInt8.self), Int32(chunk)) == 1 else {
                fatalError("RAND_bytes failed: \(OpenSSLErrorQueue.drain().map(\.text))")
            }
            base += chunk
            remaining -= chunk
        }
    }
}
