// Why the hashing pool did not run a job. `busy` is the one a client sees (RESOURCE_EXHAUSTED: try again later);
// it is what keeps a login storm from queueing without bound.

/// A job the hashing pool refused or dropped.
public struct HashingPoolError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt8
        init(_ rawValue: UInt8) { self.rawValue = rawValue }

        /// The queue is full (RESOURCE_EXHAUSTED).
        public static let busy = Code(1)
        /// The pool was shut down before the job ran (UNAVAILABLE).
        public static let shutDown = Code(2)
        /// The calling task was cancelled while the job waited (CANCELLED).
        public static let cancelled = Code(3)

        public var description: String {
            switch self {
            case .busy: "busy"
            case .shutDown: "shutDown"
            case .cancelled: "cancelled"
            default: "code\(self.rawValue)"
            }
        }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "HashingPoolError(\(self.code)): \(self.message)" }
}
