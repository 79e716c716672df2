// The vigil.v1 messages against protoc: every message type has a golden vector, our encoding of protoc's bytes is
// byte-identical, protoc reads our bytes back to the fixture's text, and thousands of random values of every type
// round-trip.
import Testing
import VigilAPI
import VigilTesting
import VigilWire

@Suite struct GoldenAPITests {
    static let types: [String: any WireMessage.Type] = Dictionary(
        uniqueKeysWithValues: VigilAPIMessages.all.map { ($0.protoMessageName, $0) }
    )
    static let vectors = GoldenVector.all(prefix: "vigil.v1.")

    @Test("every vigil.v1 message type has a golden vector")
    func everyTypeHasAVector() {
        let covered = Set(Self.vectors.map(\.messageName))
        let missing = Self.types.keys.filter { $0.hasPrefix("vigil.v1.") && !covered.contains($0) }.sorted()
        #expect(missing.isEmpty, "no golden vector for \(missing)")
        let unknown = covered.filter { Self.types[$0] == nil }.sorted()
        #expect(unknown.isEmpty, "golden vectors name types VigilAPI lacks: \(unknown)")
    }

    @Test("every API golden vector re-encodes byte for byte", arguments: vectors)
    func reencodes(vector: GoldenVector) throws {
        let type = try #require(Self.types[vector.messageName], "no Swift type for \(vector.messageName)")
        #expect(try GoldenRoundTrip.reencode(type, vector.bytes) == vector.bytes)
    }

    @Test("protoc reads our encoding back to the fixture's text", .enabled(if: Protoc.isInstalled), arguments: vectors)
    func protocReadsOurBytes(vector: GoldenVector) throws {
        let type = try #require(Self.types[vector.messageName])
        let result = try Protoc.decode(try GoldenRoundTrip.reencode(type, vector.bytes), as: vector.messageName)
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText == vector.text)
    }

    @Test("random values of every API message survive encode and decode", arguments: VigilAPIMessages.all.indices)
    func randomRoundTrip(index: Int) throws {
        let type = try #require(VigilAPIMessages.all[index] as? any RandomMessage.Type)
        let failure = RandomRoundTrip.firstFailure(type, seed: 0xA91_0000 + UInt64(index), count: 1000)
        #expect(failure == nil, "\(failure ?? "")")
    }

    @Test("an Event decodes to the values its fixture spells out")
    func eventFields() throws {
        let vector = try #require(Self.vectors.first { $0.name == "vigil.v1.Event" })
        var expected = Event()
        expected.id = 42
        expected.sourceName = "web-01"
        expected.eventType = "ssh.login_failed"
        expected.severity = .high
        expected.description = "5 failed SSH logins for root from 203.0.113.7 within 60 s"
        expected.occurredAt = Timestamp(seconds: 1_764_000_000, nanos: 123_000_000)
        expected.receivedAt = Timestamp(seconds: 1_764_000_001, nanos: 500)
        expected.submittedByUserId = 3
        expected.submittedByUsername = "agent-web"
        expected.idempotencyKey = "imp-2026-11-25-0001"
        #expect(try Event(serializedBytes: vector.bytes) == expected)
        #expect(expected.serializedBytes() == vector.bytes)
    }
}
