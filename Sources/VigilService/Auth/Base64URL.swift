// JWT segments are base64url without padding (RFC 7515 §2). Foundation's decoder accepts padding, whitespace and
// non-zero leftover bits, so one token could be spelled several ways and a tampered last character could still
// verify. This codec is strict: one spelling per byte string, anything else is refused.

/// Base64url (RFC 4648 §5) without padding, strict in what it decodes.
package enum Base64URL {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Alphabet index of each byte, or 0xFF for bytes outside the alphabet.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in Self.alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// The unpadded base64url text of `bytes`.
    package static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity((input.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= input.count {
            let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
            output.append(Self.alphabet[Int(value >> 18 & 0x3F)])
            output.append(Self.alphabet[Int(value >> 12 & 0x3F)])
            output.append(Self.alphabet[Int(value >> 6 & 0x3F)])
            output.append(Self.alphabet[Int(value & 0x3F)])
            index += 3
        }
        switch input.count - index {
        case 1:
            let value = UInt32(input[index]) << 16
            output.append(Self.alphabet[Int(value >> 18 & 0x3F)])
            output.append(Self.alphabet[Int(value >> 12 & 0x3F)])
        case 2:
            let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
            output.append(Self.alphabet[Int(value >> 18 & 0x3F)])
            output.append(Self.alphabet[Int(value >> 12 & 0x3F)])
            output.append(Self.alphabet[Int(value >> 6 & 0x3F)])
        default:
            break
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes spelled by `text`, or nil when it is not canonical unpadded base64url: a byte outside the
    /// alphabet, padding, a length of 1 mod 4, or non-zero bits in the last character's unused low bits.
    package static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        let input = Array(text)
        guard input.count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in input {
            let value = Self.decodeTable[Int(byte)]
            guard value != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        // Leftover bits (2 or 4) must be zero, or two spellings would decode to the same bytes.
        guard accumulator == 0 else { return nil }
        return output
    }
}
