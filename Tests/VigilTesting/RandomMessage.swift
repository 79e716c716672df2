// Random values of generated messages, for round-trip property tests. The generator writes the conformances
// (Tests/*/Generated/Random*.swift) from Proto/, so every field of every message is exercised.
public import VigilWire

/// A message that can make random instances of itself; `depth` bounds nesting so values stay small.
public protocol RandomMessage: WireMessage {
    static func random(using generator: inout SplitMix64, depth: Int) -> Self
}

/// A small, fast, seedable generator, so a failing random test can print its seed and be replayed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { self.state = seed }

    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random field values of each protobuf type, biased toward edge cases (0, extremes, multi-byte UTF-8).
public enum RandomValues {
    public static func int32(_ g: inout SplitMix64) -> Int32 {
        switch g.next() % 4 {
        case 0: 0
        case 1: [Int32.min, Int32.max, -1, 1].randomElement(using: &g) ?? 0
        default: Int32(truncatingIfNeeded: g.next() >> (g.next() % 32))
        }
    }

    public static func int64(_ g: inout SplitMix64) -> Int64 {
        switch g.next() % 4 {
        case 0: 0
        case 1: [Int64.min, Int64.max, -1, 1].randomElement(using: &g) ?? 0
        default: Int64(bitPattern: g.next() >> (g.next() % 64))
        }
    }

    public static func uint32(_ g: inout SplitMix64) -> UInt32 { UInt32(truncatingIfNeeded: self.int32(&g)) }
    public static func uint64(_ g: inout SplitMix64) -> UInt64 { UInt64(bitPattern: self.int64(&g)) }
    public static func bool(_ g: inout SplitMix64) -> Bool { g.next() & 1 == 1 }

    public static func float(_ g: inout SplitMix64) -> Float {
        [0, 1.5, -2.25, .greatestFiniteMagnitude, .infinity, Float(self.int32(&g))].randomElement(using: &g) ?? 0
    }

    public static func double(_ g: inout SplitMix64) -> Double {
        [0, 1.5, -2.25, .leastNonzeroMagnitude, -.infinity, Double(self.int64(&g))].randomElement(using: &g) ?? 0
    }

    private static let alphabet: [Character] = ["a", "Z", "0", " ", "é", "ß", "日", "本", "🔥", "\u{0}", "\n", "\""]

    public static func string(_ g: inout SplitMix64) -> String {
        let length = Int(g.next() % 24)
        return String((0..<length).map { _ in self.alphabet[Int(g.next() % UInt64(self.alphabet.count))] })
    }

    public static func bytes(_ g: inout SplitMix64) -> [UInt8] {
        (0..<Int(g.next() % 24)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
    }

    /// 0 to 3 elements; none at all when `depth` is exhausted, so recursion stops.
    public static func count(_ g: inout SplitMix64) -> Int { Int(g.next() % 4) }

    /// An enum number: usually a declared one, sometimes one the schema does not name.
    public static func enumValue(_ g: inout SplitMix64, known: [Int32]) -> Int32 {
        if g.next() % 8 == 0 { return Int32(truncatingIfNeeded: g.next() % 1000) + 100 }
        return known.isEmpty ? 0 : known[Int(g.next() % UInt64(known.count))]
    }
}
