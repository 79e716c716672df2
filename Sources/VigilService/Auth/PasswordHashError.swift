// Why a password could not be hashed. Verification never throws (a bad stored hash is simply "no"), so these come
// from creating or resetting a password, where the service answers INVALID_ARGUMENT or INTERNAL.

/// A password that could not be hashed.
public struct PasswordHashError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt8
        init(_ rawValue: UInt8) { self.rawValue = rawValue }

        /// Over `PasswordHasher.maximumPasswordBytes` (INVALID_ARGUMENT).
        public static let passwordTooLong = Code(1)
        /// A salt or stored hash that is not Django's `pbkdf2_sha256` format (INTERNAL: it came from our side).
        public static let malformedHash = Code(2)
        /// PBKDF2 itself failed inside OpenSSL (INTERNAL).
        public static let cryptoFailure = Code(3)

        public var description: String {
            switch self {
            case .passwordTooLong: "passwordTooLong"
            case .malformedHash: "malformedHash"
            case .cryptoFailure: "cryptoFailure"
            default: "code\(self.rawValue)"
            }
        }
    }

    public let code: Code
    /// A sentence for logs; never contains the password or the hash.
    public let message: String
    public let cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { "PasswordHashError(\(self.code)): \(self.message)" }
}
