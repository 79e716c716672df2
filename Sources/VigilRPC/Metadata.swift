// Call metadata: the key/value pairs beside a call's messages (credentials, trace ids, request ids). An ordered
// multimap because the wire keeps order and allows repeats, and some uses (a chain of proxies) depend on both.
// Keys are lowercase ASCII so lookups never depend on how a peer capitalised them; keys ending in "-bin" hold bytes,
// every other key holds text, so binary data never has to be smuggled through an encoding convention.

/// An ordered list of metadata entries; a key may appear more than once.
public struct Metadata: Sendable, Hashable, RandomAccessCollection {
    /// A metadata value: text for ordinary keys, bytes for keys ending in `-bin`.
    public enum Value: Sendable, Hashable {
        case string(String)
        case binary([UInt8])
    }

    /// One key/value pair.
    public struct Entry: Sendable, Hashable {
        public let key: String
        public let value: Value
    }

    /// Longest key accepted, in bytes; keeps keys out of the way of the header-size limit's accounting.
    public static let maxKeyLength = 255

    @usableFromInline var entries: [Entry]

    public init() { self.entries = [] }

    /// `Metadata(["x-request-id": "42"])`; each key is normalised and checked as by `append(_:_:)`. (Not a
    /// dictionary literal: that protocol's `Value` would clash with `Metadata.Value`.)
    public init(_ elements: KeyValuePairs<String, String>) {
        self.entries = []
        for (key, value) in elements { self.append(key, value) }
    }

    /// Entries already checked (by the frame decoder), taken as they are.
    init(validatedEntries entries: [Entry]) { self.entries = entries }

    // MARK: Collection

    public var startIndex: Int { self.entries.startIndex }
    public var endIndex: Int { self.entries.endIndex }
    public subscript(position: Int) -> Entry { self.entries[position] }

    // MARK: Adding and removing

    /// Appends a text value. The key is lowercased; a key that is not 1 to 255 letters, digits, `-`, `_` or `.`,
    /// or that ends in `-bin`, is a programming error and traps: keys are names chosen in code, never input.
    public mutating func append(_ key: String, _ value: String) {
        let key = Self.normalizedKey(key)
        precondition(!Self.isBinaryKey(key), "Metadata: key \(key) ends in -bin; append bytes with append(_:binary:)")
        self.entries.append(Entry(key: key, value: .string(value)))
    }

    /// Appends a binary value; the key must end in `-bin` (traps otherwise, as `append(_:_:)` explains).
    public mutating func append(_ key: String, binary value: [UInt8]) {
        let key = Self.normalizedKey(key)
        precondition(Self.isBinaryKey(key), "Metadata: binary key \(key) must end in -bin")
        self.entries.append(Entry(key: key, value: .binary(value)))
    }

    /// Replaces every value of `key` with one text value, keeping the position of the first.
    public mutating func replace(_ key: String, with value: String) {
        let key = Self.normalizedKey(key)
        precondition(!Self.isBinaryKey(key), "Metadata: key \(key) ends in -bin; append bytes with append(_:binary:)")
        if let first = self.entries.firstIndex(where: { $0.key == key }) {
            self.entries[first] = Entry(key: key, value: .string(value))
            var index = self.entries.index(after: first)
            while index < self.entries.endIndex {
                if self.entries[index].key == key { self.entries.remove(at: index) } else { index += 1 }
            }
        } else {
            self.entries.append(Entry(key: key, value: .string(value)))
        }
    }

    /// Removes every value of `key`.
    public mutating func removeAll(forKey key: String) {
        let key = Self.asciiLowercased(key)
        self.entries.removeAll { $0.key == key }
    }

    // MARK: Reading

    /// The first text value of `key` (any capitalisation), or nil.
    public subscript(key: String) -> String? {
        let key = Self.asciiLowercased(key)
        for entry in self.entries where entry.key == key {
            if case .string(let text) = entry.value { return text }
        }
        return nil
    }

    /// Every value of `key`, in order.
    public func values(forKey key: String) -> [Value] {
        let key = Self.asciiLowercased(key)
        return self.entries.filter { $0.key == key }.map(\.value)
    }

    /// The first binary value of `key`, or nil.
    public func binaryValue(forKey key: String) -> [UInt8]? {
        let key = Self.asciiLowercased(key)
        for entry in self.entries where entry.key == key {
            if case .binary(let bytes) = entry.value { return bytes }
        }
        return nil
    }

    // MARK: Keys

    /// True for 1 to 255 bytes of `a-z`, `0-9`, `-`, `_`, `.`: what the wire accepts (no normalisation).
    public static func isValidKey(_ key: String) -> Bool {
        let utf8 = key.utf8
        guard !utf8.isEmpty, utf8.count <= Self.maxKeyLength else { return false }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                continue
            default:
                return false
            }
        }
        return true
    }

    /// True when the key's values are bytes.
    public static func isBinaryKey(_ key: String) -> Bool { key.utf8.reversed().starts(with: "nib-".utf8) }

    static func normalizedKey(_ key: String) -> String {
        let lowered = Self.asciiLowercased(key)
        precondition(Self.isValidKey(lowered), "Metadata: invalid key \(lowered.debugDescription)")
        return lowered
    }

    /// Lowercases ASCII letters only: `String.lowercased()` also folds non-ASCII letters, which could turn an
    /// invalid key into a valid one.
    /// A key with no capital letter (every key a caller writes, nearly) comes back as it is, without a copy: the
    /// client builds its `authorization` entry and the server looks it up on every call.
    static func asciiLowercased(_ key: String) -> String {
        guard key.utf8.contains(where: { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) else { return key }
        return String(
            decoding: key.utf8.map { byte in
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
            },
            as: UTF8.self
        )
    }
}
