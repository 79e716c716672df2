// The wire's UTF-8 check against the standard library's strict validator: hand-picked edge cases of RFC 3629 and
// random byte strings biased toward multi-byte sequences must get the same verdict from both.
import Testing
import VigilTesting
import VigilWire

@Suite struct UTF8ValidationTests {
    static func ours(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { UTF8Validation.isValid($0) } }
    static func stdlib(_ bytes: [UInt8]) -> Bool { String(validating: bytes, as: UTF8.self) != nil }

    static let cases: [(bytes: [UInt8], valid: Bool)] = [
        ([], true), (Array("plain ascii, longer than one word".utf8), true), (Array("héllo 日本 🔥".utf8), true),
        ([0xC2, 0x80], true), ([0xDF, 0xBF], true), ([0xE0, 0xA0, 0x80], true), ([0xED, 0x9F, 0xBF], true),
        ([0xEE, 0x80, 0x80], true), ([0xF0, 0x90, 0x80, 0x80], true), ([0xF4, 0x8F, 0xBF, 0xBF], true),
        ([0x80], false), ([0xBF], false), ([0xC0, 0x80], false), ([0xC1, 0xBF], false), ([0xC2], false),
        ([0xC2, 0x41], false), ([0xE0, 0x9F, 0xBF], false), ([0xED, 0xA0, 0x80], false), ([0xE1, 0x80], false),
        ([0xF0, 0x8F, 0xBF, 0xBF], false), ([0xF4, 0x90, 0x80, 0x80], false), ([0xF5, 0x80, 0x80, 0x80], false),
        ([0xFF], false), ([0xF0, 0x90, 0x80], false), (Array("12345678".utf8) + [0xE2, 0x82], false),
    ]

    @Test("a string is ASCII exactly when none of its scalars is above U+007F, at any length and position")
    func stringIsASCII() {
        for length in 0...40 {
            let plain = String(repeating: "a", count: length)
            #expect(UTF8Validation.isASCII(plain), "length \(length)")
            for position in 0..<length {
                for odd in ["é", "\u{7F}", "🙂"] {
                    var scalars = Array(plain)
                    scalars[position] = Character(odd)
                    let text = String(scalars)
                    let expected = text.unicodeScalars.allSatisfy { $0.value < 0x80 }
                    #expect(UTF8Validation.isASCII(text) == expected, "\(odd) at \(position) of \(length)")
                }
            }
        }
    }

    @Test("agrees with RFC 3629 on the edge cases", arguments: cases.indices)
    func edgeCase(index: Int) {
        let (bytes, valid) = Self.cases[index]
        #expect(Self.ours(bytes) == valid, "\(bytes)")
        #expect(Self.stdlib(bytes) == valid, "\(bytes)")
    }

    @Test("agrees with the standard library on random bytes")
    func randomBytes() {
        let seed: UInt64 = 0x0075_7466_38
        var generator = SplitMix64(seed: seed)
        let alphabet: [UInt8] = [0x41, 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5]
        for iteration in 0..<50_000 {
            let count = Int(generator.next() % 24)
            let bytes = (0..<count).map { _ in
                generator.next() % 3 == 0 ? UInt8(truncatingIfNeeded: generator.next()) : alphabet[Int(generator.next() % 14)]
            }
            guard Self.ours(bytes) == Self.stdlib(bytes) else {
                Issue.record("verdicts differ for \(bytes) (seed \(seed), iteration \(iteration))")
                return
            }
        }
    }
}
