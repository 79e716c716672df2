// WireString: decoded string fields borrow the input instead of copying, yet behave as values: equal and hashed
// by their UTF-8 bytes whichever form either side is in, and independent of the buffer's later fate.
import Testing
import VigilTesting
import VigilWire

@Suite struct WireStringTests {
    @Test("equality and hashing follow the bytes, across a String and a borrowed slice")
    func equalityAcrossForms() throws {
        var scalars = Scalars()
        scalars.fString = "host-7.dc3 with a name longer than fifteen bytes"
        let decoded = try Scalars(serializedBytes: scalars.serializedBytes())
        #expect(decoded.fStringUTF8 == WireString(scalars.fString))
        #expect(decoded == scalars)
        #expect(decoded.hashValue == scalars.hashValue)
        #expect(Set([decoded, scalars]).count == 1)
        #expect(decoded.fString == scalars.fString)
    }

    @Test("strings equal as text but different as bytes are different field values")
    func bytesNotCanonicalEquivalence() {
        let composed = WireString("\u{E9}")  // é as one scalar
        let decomposed = WireString("e\u{301}")  // e + combining acute
        #expect("\u{E9}" == "e\u{301}")  // Swift's String equality says equal
        #expect(composed != decomposed)  // protobuf's (and ours) says not
        #expect(WireString("") == WireString())
        #expect(WireString("a").hashValue != WireString("b").hashValue)
    }

    @Test("a decoded value stays valid after the input array is changed or dropped")
    func independentOfInput() throws {
        var scalars = Scalars()
        scalars.fString = "a value that is definitely stored out of line"
        var bytes = scalars.serializedBytes()
        let decoded = try Scalars(serializedBytes: bytes)
        for index in bytes.indices { bytes[index] = 0 }  // copy-on-write: the decoded slice keeps its own storage
        bytes = []
        #expect(decoded.fString == "a value that is definitely stored out of line")
        #expect(decoded.serializedBytes() == scalars.serializedBytes())
    }

    @Test("decoding from an array slice or from unowned memory gives the same values")
    func everyInputForm() throws {
        var scalars = Scalars()
        scalars.fString = "日本語 and ASCII, over fifteen bytes"
        let bytes = [0xFF, 0xFF] + scalars.serializedBytes() + [0xEE]
        let fromSlice = try Scalars(serializedBytes: bytes[2..<(bytes.count - 1)])
        let fromMemory = try bytes[2..<(bytes.count - 1)].withUnsafeBytes { try Scalars(unsafeSerializedBytes: $0) }
        #expect(fromSlice == scalars)
        #expect(fromMemory == scalars)
        #expect(fromSlice.fString == scalars.fString)
    }

    @Test("withUTF8 lends the bytes of either form")
    func withUTF8() {
        #expect(WireString("héllo").withUTF8 { Array($0) } == Array("héllo".utf8))
        #expect(WireString("héllo").utf8Count == 6)
        #expect(WireString().isEmpty)
    }
}
