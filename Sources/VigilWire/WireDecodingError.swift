// Every way bytes can fail to be a message, as one typed error. Decoding never traps and never allocates more
// than the input justifies; everything it refuses is one of these codes.

/// A refusal to decode, with where it happened.
public struct WireDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong. A struct of statics, so codes can be added without breaking callers that switch on them.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt8
        @inlinable init(_ rawValue: UInt8) { self.rawValue = rawValue }

        /// The input ended inside a field.
        public static let truncated = Code(1)
        /// A varint ran past 10 bytes.
        public static let varintTooLong = Code(2)
        /// A length prefix points past the end of the enclosing message.
        public static let lengthPastEnd = Code(3)
        /// A known field arrived with a wire type its declared type cannot have.
        public static let wrongWireType = Code(4)
        /// A string field holds bytes that are not valid UTF-8.
        public static let invalidUTF8 = Code(5)
        /// Messages nest deeper than the decoder's limit.
        public static let nestingTooDeep = Code(6)
        /// A group (wire types 3 and 4): proto2-only, never valid in our schema.
        public static let groupNotSupported = Code(7)
        /// Wire type 6 or 7, which no protobuf encoder writes.
        public static let invalidWireType = Code(8)
        /// Field number 0 or above 2^29 - 1.
        public static let invalidFieldNumber = Code(9)
        /// A packed fixed-width field whose length is not a multiple of the element size.
        public static let invalidPackedLength = Code(10)
        /// The whole input is larger than the caller allowed.
        public static let messageTooLarge = Code(11)

        public var description: String {
            switch self {
            case .truncated: "truncated"
            case .varintTooLong: "varintTooLong"
            case .lengthPastEnd: "lengthPastEnd"
            case .wrongWireType: "wrongWireType"
            case .invalidUTF8: "invalidUTF8"
            case .nestingTooDeep: "nestingTooDeep"
            case .groupNotSupported: "groupNotSupported"
            case .invalidWireType: "invalidWireType"
            case .invalidFieldNumber: "invalidFieldNumber"
            case .invalidPackedLength: "invalidPackedLength"
            case .messageTooLarge: "messageTooLarge"
            default: "code\(self.rawValue)"
            }
        }
    }

    public let code: Code
    /// Byte offset in the outermost input where the problem was found.
    public let offset: Int
    /// The field being decoded, when one was.
    public let fieldNumber: Int?

    @inlinable
    public init(_ code: Code, offset: Int, fieldNumber: Int? = nil) {
        self.code = code
        self.offset = offset
        self.fieldNumber = fieldNumber
    }

    /// A sentence for logs and error statuses; never contains payload bytes.
    public var message: String {
        let field = self.fieldNumber.map { " in field \($0)" } ?? ""
        return "malformed protobuf: \(self.code)\(field) at byte \(self.offset)"
    }

    public var description: String { self.message }
}
