// The randomised round-trip property shared by the codec tests and the API tests: a random value encodes to exactly
// its reported size, decodes back to an equal value, and re-encodes to the same bytes. It returns a description of
// the first failure (with the seed and iteration to replay it) rather than asserting, so this target needs no
// test framework.
import VigilWire

public enum RandomRoundTrip {
    /// Checks `count` random values of `type` drawn from `seed`; nil when all pass.
    public static func firstFailure(_ type: any RandomMessage.Type, seed: UInt64, count: Int, depth: Int = 3) -> String? {
        self.check(type, seed: seed, count: count, depth: depth)
    }

    private static func check<M: RandomMessage>(_ type: M.Type, seed: UInt64, count: Int, depth: Int) -> String? {
        var generator = SplitMix64(seed: seed)
        for iteration in 0..<count {
            let value = M.random(using: &generator, depth: depth)
            let replay = "\(M.protoMessageName): seed \(seed), iteration \(iteration)"
            let bytes = value.serializedBytes()
            guard bytes.count == value.serializedSize() else {
                return "\(replay): wrote \(bytes.count) bytes, serializedSize said \(value.serializedSize())"
            }
            let decoded: M
            do {
                decoded = try M(serializedBytes: bytes)
            } catch {
                return "\(replay): our own bytes do not decode: \(error)"
            }
            guard decoded == value else { return "\(replay): decoded value differs from the original" }
            // Map order aside, encoding is deterministic: decode then encode reproduces the bytes.
            guard decoded.serializedBytes() == bytes else { return "\(replay): re-encoding changed the bytes" }
        }
        return nil
    }
}
