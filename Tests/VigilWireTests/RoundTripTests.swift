// Randomised round trips: thousands of random values of every codec-test message must encode to exactly their
// reported size and decode back to an equal value. The seed is printed on failure so a case can be replayed.
import Testing
import VigilTesting
import VigilWire

@Suite struct RoundTripTests {
    static let types: [any RandomMessage.Type] = [
        Scalars.self, Repeated.self, Presence.self, Choice.self, Maps.self, Nested.self, Nested.Inner.self,
    ]

    @Test("random values survive encode and decode", arguments: 0..<types.count)
    func roundTrip(typeIndex: Int) {
        let failure = RandomRoundTrip.firstFailure(Self.types[typeIndex], seed: 0x5EED_0000 + UInt64(typeIndex), count: 3000)
        #expect(failure == nil, "\(failure ?? "")")
    }

    @Test("random and mutated bytes never crash the decoder")
    func garbage() {
        var generator = SplitMix64(seed: 0xBAD_B17E5)
        var decodedCount = 0
        for iteration in 0..<20_000 {
            var bytes: [UInt8]
            if iteration % 2 == 0 {
                bytes = (0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            } else {
                bytes = Nested.random(using: &generator, depth: 3).serializedBytes()
                if !bytes.isEmpty {
                    for _ in 0..<(1 + generator.next() % 3) {
                        let index = Int(generator.next() % UInt64(bytes.count))
                        bytes[index] ^= UInt8(truncatingIfNeeded: 1 << (generator.next() % 8))
                    }
                    bytes.removeLast(Int(generator.next() % UInt64(min(bytes.count, 4))))
                }
            }
            // Whatever decodes must re-encode to bytes that decode and re-encode to themselves. Bytes, not values,
            // are compared: a flipped bit can make a float NaN, which equals nothing, itself included.
            if let value = try? Nested(serializedBytes: bytes) {
                decodedCount += 1
                let encoded = value.serializedBytes()
                #expect((try? Nested(serializedBytes: encoded).serializedBytes()) == encoded, "input \(bytes)")
            }
            _ = try? Scalars(serializedBytes: bytes)
            _ = try? Repeated(serializedBytes: bytes)
            _ = try? Maps(serializedBytes: bytes)
        }
        #expect(decodedCount > 0)
    }
}
