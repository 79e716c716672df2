// How a call ended, in gRPC's numbering, so Vigil's codes mean to anyone reading them what they mean in every gRPC
// stack. `Code` is a struct of statics rather than an enum so a code this build does not know (sent by a newer
// peer) survives decoding and re-encoding instead of trapping or being squashed to UNKNOWN.

/// The outcome of a call: a code and, for failures, a sentence for people.
public struct Status: Sendable, Hashable, CustomStringConvertible {
    /// A status code in gRPC's numbering (docs/PROTOCOL.md, "Status codes").
    public struct Code: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// The number on the wire (TRAILERS `status_code`, RST_STREAM payload).
        public let rawValue: UInt32

        @inlinable
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Not an error.
        public static let ok = Code(rawValue: 0)
        /// The caller cancelled the call.
        public static let cancelled = Code(rawValue: 1)
        /// An error with no better code; also a code this build does not know, seen from a peer.
        public static let unknown = Code(rawValue: 2)
        /// The request is invalid whatever the server's state (a malformed or out-of-range field).
        public static let invalidArgument = Code(rawValue: 3)
        /// The deadline passed before the call completed.
        public static let deadlineExceeded = Code(rawValue: 4)
        /// A named entity does not exist.
        public static let notFound = Code(rawValue: 5)
        /// The entity the call would create exists already.
        public static let alreadyExists = Code(rawValue: 6)
        /// The caller is known but not allowed to do this.
        public static let permissionDenied = Code(rawValue: 7)
        /// A limit was hit: message or header size, quota, concurrent streams.
        public static let resourceExhausted = Code(rawValue: 8)
        /// The system is not in the state the call needs (for example an optimistic-concurrency version mismatch).
        public static let failedPrecondition = Code(rawValue: 9)
        /// A concurrency conflict; retrying the whole read-modify-write may succeed.
        public static let aborted = Code(rawValue: 10)
        /// A value past the valid range that may become valid (a page past the end).
        public static let outOfRange = Code(rawValue: 11)
        /// The server does not implement the method.
        public static let unimplemented = Code(rawValue: 12)
        /// An invariant broke: a bug, or a peer breaking the protocol.
        public static let `internal` = Code(rawValue: 13)
        /// The service cannot take the call now; retrying later may work (it was not processed).
        public static let unavailable = Code(rawValue: 14)
        /// Data was lost or corrupted.
        public static let dataLoss = Code(rawValue: 15)
        /// The call carries no valid credentials.
        public static let unauthenticated = Code(rawValue: 16)

        /// The seventeen codes gRPC defines, in numeric order.
        public static let allKnown: [Code] = [
            .ok, .cancelled, .unknown, .invalidArgument, .deadlineExceeded, .notFound, .alreadyExists,
            .permissionDenied, .resourceExhausted, .failedPrecondition, .aborted, .outOfRange, .unimplemented,
            .internal, .unavailable, .dataLoss, .unauthenticated,
        ]

        /// gRPC's canonical name (`UNAVAILABLE`), or `CODE_<n>` for a number gRPC does not define.
        public var description: String {
            switch self.rawValue {
            case 0: "OK"
            case 1: "CANCELLED"
            case 2: "UNKNOWN"
            case 3: "INVALID_ARGUMENT"
            case 4: "DEADLINE_EXCEEDED"
            case 5: "NOT_FOUND"
            case 6: "ALREADY_EXISTS"
            case 7: "PERMISSION_DENIED"
            case 8: "RESOURCE_EXHAUSTED"
            case 9: "FAILED_PRECONDITION"
            case 10: "ABORTED"
            case 11: "OUT_OF_RANGE"
            case 12: "UNIMPLEMENTED"
            case 13: "INTERNAL"
            case 14: "UNAVAILABLE"
            case 15: "DATA_LOSS"
            case 16: "UNAUTHENTICATED"
            default: "CODE_\(self.rawValue)"
            }
        }

        @inlinable
        public static func < (lhs: Code, rhs: Code) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var code: Code
    /// A sentence for people; empty for OK. Travels to the peer, so it must never contain secrets.
    public var message: String

    @inlinable
    public init(code: Code, message: String = "") {
        self.code = code
        self.message = message
    }

    /// The status of a call that succeeded.
    public static let ok = Status(code: .ok)

    @inlinable
    public var isOK: Bool { self.code == .ok }

    public var description: String {
        self.message.isEmpty ? self.code.description : "\(self.code): \(self.message)"
    }
}
