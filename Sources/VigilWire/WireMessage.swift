// The contract between generated message types and the codec: a message knows its size, writes itself, and
// decodes one field at a time; everything else (top-level encode/decode, nesting, limits) is written once here.

/// A protobuf message with a hand-rolled or generated codec.
public protocol WireMessage: Sendable, Hashable {
    /// The fully qualified protobuf name, for example `vigil.v1.Event`.
    static var protoMessageName: String { get }
    /// The fields as the .proto file declares them; lets tests compare the Swift type with protoc's view.
    static var wireFields: [WireFieldDescriptor] { get }

    init()

    /// Fields this build does not know, kept byte for byte so a message passes through unchanged.
    var unknownFields: UnknownFields { get set }

    /// Exact number of bytes `write(to:)` produces.
    func serializedSize() -> Int
    func write(to writer: inout WireWriter)
    /// Decodes one field whose key was just read; unknown numbers go to `unknownFields`.
    mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader) throws(WireDecodingError)
}

extension WireMessage {
    /// Decodes every field until the end of the current message.
    @inlinable
    public mutating func decodeFields(from reader: inout WireReader) throws(WireDecodingError) {
        while let tag = try reader.readTag() {
            try self.decodeField(tag, from: &reader)
        }
    }

    /// Decodes a message from its serialized bytes.
    @inlinable
    public init(serializedBytes bytes: [UInt8], maxDepth: Int = WireReader.defaultMaxDepth) throws(WireDecodingError) {
        self.init()
        try self.merge(serializedBytes: bytes, maxDepth: maxDepth)
    }

    @inlinable
    public init(
        serializedBytes bytes: ArraySlice<UInt8>,
        maxDepth: Int = WireReader.defaultMaxDepth
    ) throws(WireDecodingError) {
        self.init()
        try self.merge(owner: bytes, maxDepth: maxDepth)
    }

    /// Decodes from memory the caller owns for the duration of the call (a frame buffer, for example).
    @inlinable
    public init(
        unsafeSerializedBytes bytes: UnsafeRawBufferPointer,
        maxDepth: Int = WireReader.defaultMaxDepth
    ) throws(WireDecodingError) {
        self.init()
        try self.merge(unsafeBytes: bytes, maxDepth: maxDepth)
    }

    /// Merges the fields of `bytes` into this message: scalars overwrite, repeated fields append, messages merge.
    @inlinable
    public mutating func merge(
        serializedBytes bytes: [UInt8],
        maxDepth: Int = WireReader.defaultMaxDepth
    ) throws(WireDecodingError) {
        try self.merge(owner: bytes[...], maxDepth: maxDepth)
    }

    @inlinable
    mutating func merge(unsafeBytes bytes: UnsafeRawBufferPointer, maxDepth: Int) throws(WireDecodingError) {
        var reader = WireReader(buffer: bytes, maxDepth: maxDepth)
        try self.decodeFields(from: &reader)
    }

    /// Decodes from an array the result may keep slices of (see `WireString`).
    @inlinable
    mutating func merge(owner bytes: ArraySlice<UInt8>, maxDepth: Int) throws(WireDecodingError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(WireDecodingError) in
                var reader = WireReader(buffer: raw, maxDepth: maxDepth, owner: bytes)
                try self.decodeFields(from: &reader)
            }
        }
        try result.get()
    }

    /// The message's wire encoding: sized first, then written into one allocation of exactly that size.
    @inlinable
    public func serializedBytes() -> [UInt8] {
        let size = self.serializedSize()
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var writer = WireWriter(buffer: UnsafeMutableRawBufferPointer(buffer))
            self.write(to: &writer)
            precondition(writer.count == size, "\(Self.self) wrote \(writer.count) bytes but reported \(size)")
            initialized = size
        }
    }

    /// Appends the encoding to `bytes` (a frame under construction, for example) without an intermediate array.
    @inlinable
    public func appendSerialized(to bytes: inout [UInt8]) {
        let size = self.serializedSize()
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: size))
        bytes.withUnsafeMutableBytes { raw in
            var writer = WireWriter(buffer: UnsafeMutableRawBufferPointer(rebasing: raw[start...]))
            self.write(to: &writer)
            precondition(writer.count == size, "\(Self.self) wrote \(writer.count) bytes but reported \(size)")
        }
    }
}

/// Field bytes a message did not recognise, in wire order.
public struct UnknownFields: Sendable, Hashable {
    public var bytes: [UInt8]

    @inlinable
    public init() { self.bytes = [] }

    @inlinable
    public var isEmpty: Bool { self.bytes.isEmpty }
}

/// A protobuf enum. Enums are open: `init(rawValue:)` accepts every number, keeping unknown ones.
public protocol WireEnum: Sendable, Hashable {
    init(rawValue: Int32)
    var rawValue: Int32 { get }
}
