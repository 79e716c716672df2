// Metadata keeps order and repeats, normalises keys, separates text from bytes, and never prints a secret.

import Testing
import VigilRPC

@Suite("Metadata")
struct MetadataTests {
    @Test("keys are lowercased; order and repeated keys are kept")
    func orderAndCase() {
        var metadata = Metadata()
        metadata.append("X-Request-ID", "1")
        metadata.append("b", "2")
        metadata.append("x-request-id", "3")
        #expect(metadata.map(\.key) == ["x-request-id", "b", "x-request-id"])
        #expect(metadata["X-REQUEST-ID"] == "1")
        #expect(metadata.values(forKey: "x-request-id") == [.string("1"), .string("3")])
        metadata.replace("x-request-id", with: "4")
        #expect(metadata.map(\.key) == ["x-request-id", "b"])
        #expect(metadata["x-request-id"] == "4")
        metadata.removeAll(forKey: "B")
        #expect(metadata.count == 1)
    }

    @Test("-bin keys hold bytes")
    func binary() {
        var metadata = Metadata()
        metadata.append("trace-bin", binary: [0, 255])
        #expect(metadata.binaryValue(forKey: "trace-bin") == [0, 255])
        #expect(metadata["trace-bin"] == nil)
    }

    @Test("lookups fold ASCII capitals only: a non-ASCII look-alike (the Kelvin sign, which Unicode folds to k) never matches")
    func asciiFolding() {
        var metadata = Metadata()
        metadata.append("key", "1")
        metadata.append("Trace-BIN", binary: [1])
        #expect(metadata["KEY"] == "1")
        #expect(metadata["\u{212A}ey"] == nil)
        #expect(metadata.values(forKey: "\u{212A}EY").isEmpty)
        #expect(metadata.binaryValue(forKey: "TRACE-bin") == [1])
        #expect(Metadata.isBinaryKey("trace-bin") && Metadata.isBinaryKey("-bin"))
        #expect(!Metadata.isBinaryKey("bin") && !Metadata.isBinaryKey("trace-bin2") && !Metadata.isBinaryKey(""))
    }

    @Test(
        "valid keys",
        arguments: [
            ("a", true), ("x-request-id", true), ("a.b_c-9", true), ("", false), ("A", false), ("a b", false),
            ("é", false), (":path", false), (String(repeating: "k", count: 255), true),
            (String(repeating: "k", count: 256), false),
        ])
    func keys(_ key: String, _ valid: Bool) {
        #expect(Metadata.isValidKey(key) == valid)
    }

    @Test(
        "descriptions redact credentials",
        arguments: [
            ("authorization", "Bearer abc", true), ("x-api-key", "k1", true), ("refresh-token", "r-0123456789", true),
            ("cookie", "s=1", true), ("x-password", "hunter2", true), ("x-forwarded-for", "Basic Zm9vOmJhcg==", true),
            ("x-jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", true), ("x-request-id", "42", false),
            ("user-agent", "vigilctl/1.0", false),
        ])
    func redaction(_ key: String, _ value: String, _ hidden: Bool) {
        var metadata = Metadata()
        metadata.append(key, value)
        let text = metadata.description
        #expect(text.contains(value) == !hidden, "\(text)")
        #expect(text.contains("<redacted>") == hidden)
        #expect(metadata.debugDescription.contains(value) == !hidden)
    }

    @Test("binary values print as their length")
    func binaryDescription() {
        var metadata = Metadata()
        metadata.append("session-bin", binary: [1, 2, 3])
        #expect(metadata.description == "[session-bin: <3 bytes>]")
    }
}
