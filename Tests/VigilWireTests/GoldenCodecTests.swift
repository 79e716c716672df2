// The codec-test messages against protoc: protoc's bytes decode to the values written here by hand, our encoding
// of those values is byte-identical to protoc's, and protoc reads our bytes back to the fixture's text.
import Testing
import VigilTesting
import VigilWire

@Suite struct GoldenCodecTests {
    static let registry: [String: any WireMessage.Type] = [
        "vigil.testing.v1.Scalars": Scalars.self, "vigil.testing.v1.Repeated": Repeated.self,
        "vigil.testing.v1.Presence": Presence.self, "vigil.testing.v1.Choice": Choice.self,
        "vigil.testing.v1.Maps": Maps.self, "vigil.testing.v1.Nested": Nested.self,
        "vigil.testing.v1.Nested.Inner": Nested.Inner.self,
    ]

    static var scalars: Scalars {
        var value = Scalars()
        value.fInt32 = -1
        value.fInt64 = .min
        value.fUint32 = .max
        value.fUint64 = .max
        value.fSint32 = .min
        value.fSint64 = .max
        value.fBool = true
        value.fEnum = .blue
        value.fFixed32 = 305_419_896
        value.fFixed64 = 1_311_768_467_463_790_320
        value.fSfixed32 = -42
        value.fSfixed64 = -1
        value.fFloat = 1.5
        value.fDouble = -2.25
        value.fString = "héllo 日本 🔥"
        value.fBytes = [0, 1, 255]
        value.fHighNumber = 150
        return value
    }

    static var repeated: Repeated {
        var value = Repeated()
        value.rInt32 = [-1, 0, 1, .max]
        value.rInt64 = [-1, 300]
        value.rUint32 = [0, .max]
        value.rUint64 = [.max]
        value.rSint32 = [-1, 1, .min]
        value.rSint64 = [.min, 63]
        value.rBool = [true, false, true]
        value.rEnum = [.red, .blue, .unspecified]
        value.rFixed32 = [1, .max]
        value.rFixed64 = [2]
        value.rSfixed32 = [-3]
        value.rSfixed64 = [-4, 4]
        value.rFloat = [0.5, -1]
        value.rDouble = [1e100, -0.0]
        value.rString = ["", "a", "日本"]
        value.rBytes = [[], [255]]
        var first = Scalars()
        first.fInt32 = 1
        var third = Scalars()
        third.fString = "x"
        value.rMessage = [first, Scalars(), third]
        return value
    }

    static var presence: Presence {
        var value = Presence()
        value.maybeInt64 = 0
        value.maybeString = ""
        value.maybeBool = false
        value.maybeEnum = .unspecified
        value.maybeDouble = 0
        value.maybeMessage = Scalars()
        return value
    }

    static var maps: Maps {
        var value = Maps()
        value.counts = ["a": 1]
        value.names = [-1: "minus one"]
        var scalars = Scalars()
        scalars.fInt32 = 5
        value.messages = ["m": scalars]
        value.colors = [.max: .green]
        return value
    }

    static var nested: Nested {
        var value = Nested()
        var inner = Nested.Inner()
        inner.note = "in"
        inner.level = .deep
        value.inner = inner
        var first = Nested.Inner()
        first.note = "a"
        var second = Nested.Inner()
        second.level = .deep
        value.inners = [first, second]
        var choice = Choice()
        choice.value = .text("c")
        value.choice = choice
        var maps = Maps()
        maps.counts = ["k": 2]
        value.maps = maps
        return value
    }

    /// Hand-written values of the fixtures: the decoder must produce exactly these from protoc's bytes.
    static let expected: [String: any WireMessage] = [
        "vigil.testing.v1.Scalars": scalars,
        "vigil.testing.v1.Repeated": repeated,
        "vigil.testing.v1.Presence": presence,
        "vigil.testing.v1.Maps": maps,
        "vigil.testing.v1.Nested": nested,
    ]

    @Test("protoc's bytes decode to the hand-written values", arguments: Array(expected.keys).sorted())
    func decodesToExpected(name: String) throws {
        let vector = try #require(GoldenVector.all(prefix: name).first { $0.name == name })
        let expected = try #require(Self.expected[name])
        try Self.checkDecode(vector, expected)
    }

    static func checkDecode<M: WireMessage>(_ vector: GoldenVector, _ expected: M) throws {
        #expect(try M(serializedBytes: vector.bytes) == expected)
        #expect(expected.serializedBytes() == vector.bytes)
    }

    @Test("every codec golden vector re-encodes byte for byte",
          arguments: GoldenVector.all(prefix: "vigil.testing.v1."))
    func reencodes(vector: GoldenVector) throws {
        let type = try #require(Self.registry[vector.messageName], "no Swift type for \(vector.messageName)")
        let bytes = try GoldenRoundTrip.reencode(type, vector.bytes)
        #expect(bytes == vector.bytes)
    }

    @Test("protoc reads our encoding back to the fixture's text",
          .enabled(if: Protoc.isInstalled), arguments: GoldenVector.all(prefix: "vigil.testing.v1."))
    func protocReadsOurBytes(vector: GoldenVector) throws {
        let type = try #require(Self.registry[vector.messageName])
        let ours = try GoldenRoundTrip.reencode(type, vector.bytes)
        let result = try Protoc.decode(ours, as: vector.messageName)
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText == vector.text)
    }
}
