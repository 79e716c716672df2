// Strict UTF-8 validation for strings read off the wire. The stdlib's `String(validating:as:)` goes through a
// generic Unicode-encoding path that instantiates type metadata on every call (a third of string decoding time in
// the profile of `vigilbench codec`); this checks the bytes directly, eight ASCII bytes at a time, and leaves the
// copy into a String to `String(decoding:as:)`, which cannot repair anything once the bytes are known valid.

public enum UTF8Validation {
    /// Whether `bytes` is well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF,
    /// no truncated sequence.
    @inlinable
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        self.isASCII(bytes) || self.isValidMultiByte(bytes)
    }

    /// Whether every character of `text` is ASCII, checked on its UTF-8 bytes in place (eight per step) when the
    /// string stores them contiguously, as every string this codec decodes does. Iterating `String.UTF8View` a
    /// byte at a time instead was an eighth of the event loop's time in a sustained ingest (perf), spent checking
    /// event fields for whitespace.
    public static func isASCII(_ text: String) -> Bool {
        if let answer = text.utf8.withContiguousStorageIfAvailable({ self.isASCII(UnsafeRawBufferPointer($0)) }) {
            return answer
        }
        return text.utf8.allSatisfy { $0 < 0x80 }
    }

    /// Whether every byte is below 0x80: eight bytes per step, the tail ORed together, no branch per byte. Most
    /// strings on the wire (host names, event types, keys) are ASCII, and short, so this is the path that counts.
    @inlinable
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = bytes.count
        var high: UInt64 = 0
        if count >= 8 {
            var index = 0
            while index &+ 8 < count {
                high |= bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                index &+= 8
            }
            // The last eight bytes, overlapping what was read already: no byte-by-byte tail.
            high |= bytes.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
        } else {
            for index in 0..<count { high |= UInt64(bytes[index]) }
        }
        return high & 0x8080_8080_8080_8080 == 0
    }

    @usableFromInline
    static func isValidMultiByte(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = bytes.count
        var index = 0
        while index < count {
            // ASCII runs dominate real text: test eight bytes per step.
            while index &+ 8 <= count {
                let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                if word & 0x8080_8080_8080_8080 != 0 { break }
                index &+= 8
            }
            guard index < count else { return true }
            let lead = bytes[index]
            if lead < 0x80 {
                index &+= 1
                continue
            }
            let length: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lower = 0xA0  // no overlong three-byte forms
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; upper = 0x9F  // no UTF-16 surrogates
            case 0xF0: length = 4; lower = 0x90  // no overlong four-byte forms
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; upper = 0x8F  // nothing above U+10FFFF
            default: return false  // continuation byte, C0/C1 overlong lead, or F5...FF
            }
            guard count &- index >= length else { return false }
            let second = bytes[index &+ 1]
            guard second >= lower, second <= upper else { return false }
            if length >= 3 {
                guard bytes[index &+ 2] & 0xC0 == 0x80 else { return false }
            }
            if length == 4 {
                guard bytes[index &+ 3] & 0xC0 == 0x80 else { return false }
            }
            index &+= length
        }
        return true
    }
}
