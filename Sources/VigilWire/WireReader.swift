// Reads protobuf wire data from a borrowed buffer. Raw pointers stay inside this file. Three rules make it safe
// on any input: every read is checked against the end of the enclosing message; a length prefix is checked
// against the bytes that remain before anything is allocated for it; nesting is bounded.

/// A cursor over one serialized message. Created only by VigilWire for the duration of a decode call, so the
/// buffer it borrows always outlives it.
public struct WireReader {
    /// Protobuf's customary recursion limit.
    @inlinable public static var defaultMaxDepth: Int { 100 }

    @usableFromInline let buffer: UnsafeRawBufferPointer
    @usableFromInline var position: Int
    /// End of the message being decoded: the buffer's end at the top, a length prefix's end inside a nested one.
    @usableFromInline var end: Int
    @usableFromInline var depthRemaining: Int
    /// Where the current field's key started, so an unknown field can be kept byte for byte.
    @usableFromInline var tagStart: Int
    /// The array `buffer` points into, when the caller decoded from one: string fields then borrow slices of it
    /// (`WireString`) instead of copying into new `String`s. `buffer[0]` is `owner[owner.startIndex]`.
    @usableFromInline let owner: ArraySlice<UInt8>?

    @usableFromInline
    init(buffer: UnsafeRawBufferPointer, maxDepth: Int, owner: ArraySlice<UInt8>? = nil) {
        self.buffer = buffer
        self.position = 0
        self.end = buffer.count
        self.depthRemaining = maxDepth
        self.tagStart = 0
        self.owner = owner
    }

    /// Runs `body` with a reader over `bytes`.
    @inlinable
    static func withReader<Result>(
        _ bytes: UnsafeRawBufferPointer,
        maxDepth: Int,
        _ body: (inout WireReader) throws(WireDecodingError) -> Result
    ) throws(WireDecodingError) -> Result {
        var reader = WireReader(buffer: bytes, maxDepth: maxDepth)
        return try body(&reader)
    }

    @inlinable
    func error(_ code: WireDecodingError.Code, field: Int? = nil) -> WireDecodingError {
        WireDecodingError(code, offset: self.position, fieldNumber: field)
    }

    /// True while the current message has bytes left.
    @inlinable
    public var hasMore: Bool { self.position < self.end }

    // MARK: Primitives

    @inlinable @inline(__always)
    public mutating func readVarint() throws(WireDecodingError) -> UInt64 {
        if self.position < self.end {
            let first = self.buffer[self.position]
            if first < 0x80 {
                self.position &+= 1
                return UInt64(first)
            }
        }
        return try self.readVarintSlow()
    }

    @inlinable
    mutating func readVarintSlow() throws(WireDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var offset = self.position
        while offset < self.end {
            let byte = self.buffer[offset]
            offset &+= 1
            // The 10th byte holds bit 63 only; higher bits are dropped, as every protobuf runtime does.
            result |= UInt64(byte & 0x7F) &<< shift
            if byte < 0x80 {
                self.position = offset
                return result
            }
            shift &+= 7
            if shift >= 70 { throw self.error(.varintTooLong) }
        }
        throw self.error(.truncated)
    }

    @inlinable
    public mutating func readFixed32() throws(WireDecodingError) -> UInt32 {
        guard self.end &- self.position >= 4 else { throw self.error(.truncated) }
        let value = self.buffer.loadUnaligned(fromByteOffset: self.position, as: UInt32.self)
        self.position &+= 4
        return UInt32(littleEndian: value)
    }

    @inlinable
    public mutating func readFixed64() throws(WireDecodingError) -> UInt64 {
        guard self.end &- self.position >= 8 else { throw self.error(.truncated) }
        let value = self.buffer.loadUnaligned(fromByteOffset: self.position, as: UInt64.self)
        self.position &+= 8
        return UInt64(littleEndian: value)
    }

    /// Reads a length prefix and checks it against what remains, so no caller ever allocates for bytes that are
    /// not there.
    @inlinable
    public mutating func readLength() throws(WireDecodingError) -> Int {
        let length = try self.readVarint()
        guard length <= UInt64(self.end &- self.position) else { throw self.error(.lengthPastEnd) }
        return Int(length)
    }

    @inlinable
    mutating func readLengthDelimitedBuffer() throws(WireDecodingError) -> UnsafeRawBufferPointer {
        let length = try self.readLength()
        let start = self.position
        self.position = start &+ length
        return UnsafeRawBufferPointer(rebasing: self.buffer[start..<(start &+ length)])
    }

    /// Reads a length-prefixed UTF-8 string, refusing invalid UTF-8 instead of repairing it.
    @inlinable
    public mutating func readString() throws(WireDecodingError) -> String {
        let start = self.position
        let bytes = try self.readLengthDelimitedBuffer()
        guard UTF8Validation.isValid(bytes) else { throw WireDecodingError(.invalidUTF8, offset: start) }
        return bytes.withMemoryRebound(to: UInt8.self) { String(decoding: $0, as: UTF8.self) }
    }

    /// Reads a length-prefixed UTF-8 string as a `WireString`: a slice of the input when the reader has its owning
    /// array, a new `String` otherwise. Invalid UTF-8 is refused either way.
    @inlinable
    public mutating func readWireString() throws(WireDecodingError) -> WireString {
        let start = self.position
        let bytes = try self.readLengthDelimitedBuffer()
        guard UTF8Validation.isValid(bytes) else { throw WireDecodingError(.invalidUTF8, offset: start) }
        guard let owner = self.owner else {
            return WireString(bytes.withMemoryRebound(to: UInt8.self) { String(decoding: $0, as: UTF8.self) })
        }
        let first = owner.startIndex &+ (self.position &- bytes.count)
        return WireString(validatedUTF8: owner[first..<(first &+ bytes.count)])
    }

    @inlinable
    public mutating func readBytes() throws(WireDecodingError) -> [UInt8] {
        [UInt8](try self.readLengthDelimitedBuffer())
    }

    // MARK: Keys and fields

    /// The next field's key, or nil at the end of the current message.
    @inlinable
    public mutating func readTag() throws(WireDecodingError) -> FieldTag? {
        guard self.position < self.end else { return nil }
        self.tagStart = self.position
        let key = try self.readVarint()
        let number = key >> 3
        guard number >= 1, number <= UInt64(FieldTag.maxFieldNumber) else {
            throw WireDecodingError(.invalidFieldNumber, offset: self.tagStart)
        }
        guard let wireType = WireType(rawValue: UInt8(truncatingIfNeeded: key & 7)) else {
            throw WireDecodingError(.invalidWireType, offset: self.tagStart, fieldNumber: Int(number))
        }
        if wireType == .startGroup || wireType == .endGroup {
            throw WireDecodingError(.groupNotSupported, offset: self.tagStart, fieldNumber: Int(number))
        }
        return FieldTag(fieldNumber: Int(number), wireType: wireType)
    }

    @inlinable @inline(__always)
    func expect(_ tag: FieldTag, _ wireType: WireType) throws(WireDecodingError) {
        guard tag.wireType == wireType else {
            throw WireDecodingError(.wrongWireType, offset: self.tagStart, fieldNumber: tag.fieldNumber)
        }
    }

    /// Skips the payload of a field this message does not know.
    @inlinable
    public mutating func skip(_ tag: FieldTag) throws(WireDecodingError) {
        switch tag.wireType {
        case .varint: _ = try self.readVarint()
        case .fixed64: _ = try self.readFixed64()
        case .fixed32: _ = try self.readFixed32()
        case .lengthDelimited: _ = try self.readLengthDelimitedBuffer()
        case .startGroup, .endGroup:
            throw WireDecodingError(.groupNotSupported, offset: self.tagStart, fieldNumber: tag.fieldNumber)
        }
    }

    /// Skips an unknown field and keeps its bytes (key included), so re-encoding the message preserves it.
    @inlinable
    public mutating func skip(_ tag: FieldTag, keepingIn unknownFields: inout UnknownFields) throws(WireDecodingError) {
        let start = self.tagStart
        try self.skip(tag)
        unknownFields.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: self.buffer[start..<self.position]))
    }

    /// Reads a singular scalar, string or bytes field.
    @inlinable
    public mutating func read<Codec: WireCodec>(
        _ codec: Codec.Type,
        _ tag: FieldTag
    ) throws(WireDecodingError) -> Codec.Value {
        try self.expect(tag, Codec.wireType)
        return try Codec.read(from: &self)
    }

    /// Reads one occurrence of a repeated field, accepting both packed and unpacked encodings of numeric types.
    @inlinable
    public mutating func readRepeated<Codec: WireCodec>(
        _ codec: Codec.Type,
        _ tag: FieldTag,
        into values: inout [Codec.Value]
    ) throws(WireDecodingError) {
        if tag.wireType == .lengthDelimited && Codec.wireType != .lengthDelimited {
            let length = try self.readLength()
            if let width = Codec.fixedWidth {
                guard length % width == 0 else {
                    throw WireDecodingError(.invalidPackedLength, offset: self.position, fieldNumber: tag.fieldNumber)
                }
                values.reserveCapacity(values.count + length / width)
            }
            let savedEnd = self.end
            self.end = self.position &+ length
            while self.position < self.end { values.append(try Codec.read(from: &self)) }
            self.end = savedEnd
            return
        }
        try self.expect(tag, Codec.wireType)
        values.append(try Codec.read(from: &self))
    }

    /// Runs `body` over the body of a length-delimited field (a nested message or map entry), with the reader's end
    /// moved to the field's end and one level of nesting used up.
    @inlinable
    public mutating func readNested<Result>(
        _ tag: FieldTag,
        _ body: (inout WireReader) throws(WireDecodingError) -> Result
    ) throws(WireDecodingError) -> Result {
        try self.expect(tag, .lengthDelimited)
        let length = try self.readLength()
        guard self.depthRemaining > 0 else {
            throw WireDecodingError(.nestingTooDeep, offset: self.position, fieldNumber: tag.fieldNumber)
        }
        let savedEnd = self.end
        self.end = self.position &+ length
        self.depthRemaining &-= 1
        let result = try body(&self)
        self.depthRemaining &+= 1
        self.position = self.end
        self.end = savedEnd
        return result
    }

    /// Merges a nested message field into `message` (a repeated occurrence of a singular message merges, as in
    /// protobuf).
    @inlinable
    public mutating func readMessage<Message: WireMessage>(
        _ tag: FieldTag,
        into message: inout Message
    ) throws(WireDecodingError) {
        try self.readNested(tag) { (reader: inout WireReader) throws(WireDecodingError) in
            try message.decodeFields(from: &reader)
        }
    }

    /// Reads an optional message field, merging into the value already there (a repeated occurrence of a singular
    /// message merges, as in protobuf). The value is moved out and back (`take()`), not copied, so its fields are
    /// not retained and released once more per decode.
    @inlinable
    public mutating func readMessage<Message: WireMessage>(
        _ tag: FieldTag,
        into message: inout Message?
    ) throws(WireDecodingError) {
        var value = message.take() ?? Message()
        try self.readMessage(tag, into: &value)
        message = value
    }

    /// Reads one occurrence of a repeated message field, decoding it in place at the end of `messages`.
    ///
    /// Two costs of the obvious `append(readMessage(...))` show in the profile of a 1,000-event batch: moving each
    /// decoded message into the array (a memcpy of the whole struct), and the array doubling (each time copying
    /// every message so far). So the array grows once to the number of elements the remaining bytes would hold
    /// if they were the size of this one (at most one per 16 bytes of input, and at most four bytes of array per
    /// byte of input), and
    /// each message is decoded where it will stay. On a throw the decode as a whole fails, so the partly decoded
    /// last element is never seen.
    @inlinable
    public mutating func readRepeatedMessage<Message: WireMessage>(
        _ tag: FieldTag,
        into messages: inout [Message]
    ) throws(WireDecodingError) {
        try self.expect(tag, .lengthDelimited)
        if messages.count == messages.capacity {
            let start = self.position
            let length = try self.readLength()
            self.position = start
            let remaining = self.end &- start
            // Capped at four bytes of array per byte of input left, so a small first element followed by one
            // large one cannot make the array reserve more than the input could ever fill.
            let estimate = min(remaining / max(16, length &+ 2), 4 &* remaining / max(1, MemoryLayout<Message>.stride))
            messages.reserveCapacity(messages.count &+ 1 &+ estimate)
        }
        messages.append(Message())
        let result = messages.withUnsafeMutableBufferPointer { buffer in
            Result { () throws(WireDecodingError) in
                guard let last = buffer.baseAddress.map({ $0 + (buffer.count - 1) }) else { return }
                try self.readMessage(tag, into: &last.pointee)
            }
        }
        try result.get()
    }

    @inlinable
    public mutating func readMessage<Message: WireMessage>(
        _ type: Message.Type,
        _ tag: FieldTag
    ) throws(WireDecodingError) -> Message {
        var message = Message()
        try self.readMessage(tag, into: &message)
        return message
    }

    /// Reads one entry of a `map<K, V>` with a scalar value. A missing key or value takes its default, and a later
    /// entry with the same key replaces an earlier one, as in protobuf.
    @inlinable
    public mutating func readMapEntry<Key: WireCodec, Value: WireCodec>(
        _ key: Key.Type,
        _ value: Value.Type,
        _ tag: FieldTag,
        into map: inout [Key.Value: Value.Value]
    ) throws(WireDecodingError) {
        let (entryKey, entryValue) = try self.readNested(tag) {
            (reader: inout WireReader) throws(WireDecodingError) -> (Key.Value, Value.Value) in
            var entryKey = Key.defaultValue
            var entryValue = Value.defaultValue
            while let field = try reader.readTag() {
                switch field.fieldNumber {
                case 1: entryKey = try reader.read(Key.self, field)
                case 2: entryValue = try reader.read(Value.self, field)
                default: try reader.skip(field)
                }
            }
            return (entryKey, entryValue)
        }
        map[entryKey] = entryValue
    }

    /// Reads one entry of a `map<K, Message>`; see `readMapEntry(_:_:_:into:)`.
    @inlinable
    public mutating func readMapEntry<Key: WireCodec, Message: WireMessage>(
        _ key: Key.Type,
        _ tag: FieldTag,
        into map: inout [Key.Value: Message]
    ) throws(WireDecodingError) {
        let (entryKey, message) = try self.readNested(tag) {
            (reader: inout WireReader) throws(WireDecodingError) -> (Key.Value, Message) in
            var entryKey = Key.defaultValue
            var message = Message()
            while let field = try reader.readTag() {
                switch field.fieldNumber {
                case 1: entryKey = try reader.read(Key.self, field)
                case 2: try reader.readMessage(field, into: &message)
                default: try reader.skip(field)
                }
            }
            return (entryKey, message)
        }
        map[entryKey] = message
    }
}
