// The second pass of two-pass encoding: writes into a buffer allocated once at the exact size the first pass
// computed. Raw pointers stay inside this file; every store is bounds-checked against the buffer, so a size
// mismatch (a bug) traps instead of writing past the allocation.

/// Appends protobuf wire data to a buffer sized in advance. Created only by VigilWire (`serializedBytes()`,
/// `appendSerialized(to:)`), so the buffer it points to always outlives it.
public struct WireWriter {
    @usableFromInline let buffer: UnsafeMutableRawBufferPointer
    @usableFromInline var position: Int

    @usableFromInline
    init(buffer: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
        self.position = 0
    }

    /// Bytes written so far.
    @inlinable
    public var count: Int { self.position }

    @inlinable @inline(__always)
    mutating func reserve(_ byteCount: Int) -> Int {
        let start = self.position
        precondition(byteCount <= self.buffer.count &- start, "WireWriter: message wrote more than its size")
        self.position = start &+ byteCount
        return start
    }

    @inlinable @inline(__always)
    public mutating func writeByte(_ byte: UInt8) {
        let at = self.reserve(1)
        self.buffer.storeBytes(of: byte, toByteOffset: at, as: UInt8.self)
    }

    @inlinable
    public mutating func writeVarint(_ value: UInt64) {
        if value < 0x80 {
            self.writeByte(UInt8(truncatingIfNeeded: value))
            return
        }
        let at = self.reserve(WireSize.varint(value))
        var offset = at
        var rest = value
        while rest >= 0x80 {
            self.buffer.storeBytes(of: UInt8(truncatingIfNeeded: rest) | 0x80, toByteOffset: offset, as: UInt8.self)
            rest >>= 7
            offset &+= 1
        }
        self.buffer.storeBytes(of: UInt8(truncatingIfNeeded: rest), toByteOffset: offset, as: UInt8.self)
    }

    @inlinable @inline(__always)
    public mutating func writeTag(_ fieldNumber: Int, _ wireType: WireType) {
        self.writeVarint(FieldTag(fieldNumber: fieldNumber, wireType: wireType).key)
    }

    @inlinable
    public mutating func writeFixed32(_ value: UInt32) {
        let at = self.reserve(4)
        self.buffer.storeBytes(of: value.littleEndian, toByteOffset: at, as: UInt32.self)
    }

    @inlinable
    public mutating func writeFixed64(_ value: UInt64) {
        let at = self.reserve(8)
        self.buffer.storeBytes(of: value.littleEndian, toByteOffset: at, as: UInt64.self)
    }

    /// Copies raw bytes, with no prefix.
    @inlinable
    public mutating func writeRawBytes(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        let at = self.reserve(bytes.count)
        UnsafeMutableRawBufferPointer(rebasing: self.buffer[at..<(at &+ bytes.count)]).copyMemory(from: bytes)
    }

    @inlinable
    public mutating func writeRawBytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { self.writeRawBytes($0) }
    }

    /// Writes a string's UTF-8 bytes with no prefix.
    @inlinable
    public mutating func writeRawUTF8(_ string: String) {
        // Native strings lend their UTF-8 storage without a copy; only bridged or lazily decoded ones need one.
        let written: Void? = string.utf8.withContiguousStorageIfAvailable { self.writeRawBytes(UnsafeRawBufferPointer($0)) }
        if written == nil {
            var copy = string
            copy.withUTF8 { self.writeRawBytes(UnsafeRawBufferPointer($0)) }
        }
    }

    // MARK: Fields

    /// Writes one field of a scalar, string or bytes type: key, then payload.
    @inlinable
    public mutating func write<Codec: WireCodec>(_ codec: Codec.Type, _ value: Codec.Value, field: Int) {
        self.writeTag(field, Codec.wireType)
        Codec.write(value, to: &self)
    }

    /// Writes a repeated numeric field packed: one key, one length, the values back to back.
    @inlinable
    public mutating func writePacked<Codec: WireCodec>(_ codec: Codec.Type, _ values: [Codec.Value], field: Int) {
        guard !values.isEmpty else { return }
        self.writeTag(field, .lengthDelimited)
        self.writeVarint(UInt64(WireSize.packedPayload(Codec.self, values)))
        for value in values { Codec.write(value, to: &self) }
    }

    /// Writes a repeated string or bytes field: one key and payload per element.
    @inlinable
    public mutating func writeRepeated<Codec: WireCodec>(_ codec: Codec.Type, _ values: [Codec.Value], field: Int) {
        for value in values { self.write(Codec.self, value, field: field) }
    }

    /// Writes a nested message: key, length, body.
    @inlinable
    public mutating func writeMessage<Message: WireMessage>(_ message: Message, field: Int) {
        self.writeTag(field, .lengthDelimited)
        let prefix = self.beginLengthPrefix()
        message.write(to: &self)
        self.endLengthPrefix(prefix)
    }

    /// `writeMessage` for an element the caller lends `inout` (see `writeRepeatedMessages`); it is only read.
    @inlinable
    static func writeMessage<Message: WireMessage>(_ message: inout Message, field: Int, to writer: inout WireWriter) {
        writer.writeTag(field, .lengthDelimited)
        let prefix = writer.beginLengthPrefix()
        message.write(to: &writer)
        writer.endLengthPrefix(prefix)
    }

    // A nested message's length prefix comes before its body, but computing the body's size first means a second
    // size computation of every nested message (the size pass already made one, for the allocation). Instead one
    // byte is reserved, the body written, and the prefix filled in: a body under 128 bytes (most nested messages)
    // needs nothing more; a longer one moves forward by the extra prefix bytes. The move never runs past the
    // buffer: the size pass counted the real prefix, so the writer is behind its plan by exactly those bytes.

    @inlinable
    mutating func beginLengthPrefix() -> Int { self.reserve(1) }

    @inlinable
    mutating func endLengthPrefix(_ prefixOffset: Int) {
        let start = prefixOffset &+ 1
        let size = self.position &- start
        if size < 0x80 {
            self.buffer.storeBytes(of: UInt8(truncatingIfNeeded: size), toByteOffset: prefixOffset, as: UInt8.self)
            return
        }
        let extra = WireSize.varint(UInt64(size)) &- 1
        _ = self.reserve(extra)
        let body = UnsafeRawBufferPointer(rebasing: self.buffer[start..<(start &+ size)])
        // copyMemory is memmove: the regions overlap.
        UnsafeMutableRawBufferPointer(rebasing: self.buffer[(start &+ extra)...]).copyMemory(from: body)
        var offset = prefixOffset
        var rest = UInt64(size)
        while rest >= 0x80 {
            self.buffer.storeBytes(of: UInt8(truncatingIfNeeded: rest) | 0x80, toByteOffset: offset, as: UInt8.self)
            rest >>= 7
            offset &+= 1
        }
        self.buffer.storeBytes(of: UInt8(truncatingIfNeeded: rest), toByteOffset: offset, as: UInt8.self)
    }

    @inlinable
    public mutating func writeRepeatedMessages<Message: WireMessage>(_ messages: [Message], field: Int) {
        // Each element is handed on `inout`, which is never read or written: an inout parameter is known not to
        // alias anything else, so the compiler can leave it in place. A borrowed element (`for message in
        // messages`, a subscript, `pointee`) gets copied before each call instead, because the writer's raw-pointer
        // stores might in principle reach the array; that copy, one retain per string field, was 28 % of encoding.
        messages.withUnsafeBufferPointer { messages in
            guard let base = messages.baseAddress else { return }
            let elements = UnsafeMutablePointer(mutating: base)
            for index in 0..<messages.count { Self.writeMessage(&elements[index], field: field, to: &self) }
        }
    }

    /// Writes a `map<K, V>` with a scalar value: one entry message per key, key = 1 and value = 2, both always written
    /// (as protoc does). Keys are sorted so equal maps always encode to equal bytes.
    @inlinable
    public mutating func writeMap<Key: WireCodec, Value: WireCodec>(
        _ key: Key.Type,
        _ value: Value.Type,
        _ map: [Key.Value: Value.Value],
        field: Int
    ) where Key.Value: Comparable {
        for entryKey in map.keys.sorted() {
            guard let entryValue = map[entryKey] else { continue }
            self.writeTag(field, .lengthDelimited)
            let size = 2 + Key.size(of: entryKey) + Value.size(of: entryValue)
            self.writeVarint(UInt64(size))
            self.write(Key.self, entryKey, field: 1)
            self.write(Value.self, entryValue, field: 2)
        }
    }

    /// Writes a `map<K, Message>`; see `writeMap(_:_:_:field:)`.
    @inlinable
    public mutating func writeMap<Key: WireCodec, Message: WireMessage>(
        _ key: Key.Type,
        _ map: [Key.Value: Message],
        field: Int
    ) where Key.Value: Comparable {
        for entryKey in map.keys.sorted() {
            guard let message = map[entryKey] else { continue }
            self.writeTag(field, .lengthDelimited)
            let entry = self.beginLengthPrefix()
            self.write(Key.self, entryKey, field: 1)
            self.writeMessage(message, field: 2)
            self.endLengthPrefix(entry)
        }
    }

    @inlinable
    public mutating func writeUnknownFields(_ fields: UnknownFields) {
        if !fields.bytes.isEmpty { self.writeRawBytes(fields.bytes) }
    }
}

extension WireSize {
    /// Payload bytes of a packed repeated field (without key and length prefix).
    @inlinable
    public static func packedPayload<Codec: WireCodec>(_ codec: Codec.Type, _ values: [Codec.Value]) -> Int {
        if let width = Codec.fixedWidth { return width * values.count }
        var total = 0
        for value in values { total &+= Codec.size(of: value) }
        return total
    }

    /// Bytes of a packed repeated field with its key; 0 when empty (not written).
    @inlinable
    public static func packed<Codec: WireCodec>(_ codec: Codec.Type, _ values: [Codec.Value], field: Int) -> Int {
        guard !values.isEmpty else { return 0 }
        return self.tag(field) + self.lengthDelimited(self.packedPayload(Codec.self, values))
    }

    /// Bytes of a repeated string/bytes field, one key per element.
    @inlinable
    public static func repeated<Codec: WireCodec>(_ codec: Codec.Type, _ values: [Codec.Value], field: Int) -> Int {
        var total = 0
        let tagSize = self.tag(field)
        for value in values { total &+= tagSize &+ Codec.size(of: value) }
        return total
    }

    /// Bytes of one nested message field with its key.
    @inlinable
    public static func message<Message: WireMessage>(_ message: Message, field: Int) -> Int {
        self.tag(field) + self.lengthDelimited(message.serializedSize())
    }

    @inlinable
    public static func repeatedMessages<Message: WireMessage>(_ messages: [Message], field: Int) -> Int {
        var total = 0
        let tagSize = self.tag(field)
        messages.withUnsafeBufferPointer { messages in
            guard let base = messages.baseAddress else { return }
            for index in 0..<messages.count {
                total &+= tagSize &+ self.lengthDelimited((base + index).pointee.serializedSize())
            }
        }
        return total
    }

    @inlinable
    public static func map<Key: WireCodec, Value: WireCodec>(
        _ key: Key.Type,
        _ value: Value.Type,
        _ map: [Key.Value: Value.Value],
        field: Int
    ) -> Int {
        var total = 0
        let tagSize = self.tag(field)
        for (entryKey, entryValue) in map {
            total &+= tagSize &+ self.lengthDelimited(2 + Key.size(of: entryKey) + Value.size(of: entryValue))
        }
        return total
    }

    @inlinable
    public static func map<Key: WireCodec, Message: WireMessage>(
        _ key: Key.Type,
        _ map: [Key.Value: Message],
        field: Int
    ) -> Int {
        var total = 0
        let tagSize = self.tag(field)
        for (entryKey, message) in map {
            let entry = 1 + Key.size(of: entryKey) + 1 + self.lengthDelimited(message.serializedSize())
            total &+= tagSize &+ self.lengthDelimited(entry)
        }
        return total
    }
}
