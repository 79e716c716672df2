// Why generation stopped: a schema feature the generator refuses (and says so, rather than emitting code that
// silently behaves differently from protoc), a name it cannot resolve, or input it cannot read.

public struct CodegenError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }

        /// The descriptor set is not a valid FileDescriptorSet.
        public static let malformedDescriptorSet = Code("malformedDescriptorSet")
        /// A file asked for is not in the descriptor set.
        public static let unknownFile = Code("unknownFile")
        /// A type name does not resolve to any message or enum of the set.
        public static let unresolvedType = Code("unresolvedType")
        /// The schema uses something this generator does not support (proto2, groups, bool map keys, recursion).
        public static let unsupported = Code("unsupported")
        /// Two declarations would get the same Swift name.
        public static let nameClash = Code("nameClash")
        /// A command-line usage mistake.
        public static let usage = Code("usage")

        public var description: String { self.rawValue }
    }

    public let code: Code
    public let message: String
    public let cause: String?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        self.cause.map { "\(self.message) (\($0))" } ?? self.message
    }
}
