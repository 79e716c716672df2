// Every reason a token is refused, kept apart so logs and tests can tell a forged token from an expired one. The
// service answers all of them alike (UNAUTHENTICATED, one message): the caller learns nothing from the refusal.

/// A token that could not be issued or was refused.
public struct TokenError: Error, Sendable, CustomStringConvertible {
    /// Why. A struct of statics, so reasons can be added without breaking callers that switch on them.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt8
        init(_ rawValue: UInt8) { self.rawValue = rawValue }

        /// The signing secret is shorter than `TokenCodec.minimumSecretLength`: guessable by brute force.
        public static let secretTooShort = Code(1)
        /// The token is longer than `TokenCodec.maximumTokenLength`; refused before any parsing.
        public static let tooLarge = Code(2)
        /// Not three dot-separated segments of canonical unpadded base64url.
        public static let malformedToken = Code(3)
        /// The header or the payload is not a JSON object.
        public static let malformedJSON = Code(4)
        /// The header names an algorithm other than exactly `HS256` (`none`, `HS512`, `hs256`, `HS256 `...).
        public static let unsupportedAlgorithm = Code(5)
        /// The header carries what this verifier does not implement: a `typ` other than `JWT`, or `crit`.
        public static let unsupportedHeader = Code(6)
        /// The signature is not the HMAC of the first two segments under this secret.
        public static let badSignature = Code(7)
        /// A claim is missing, of the wrong JSON type, or out of range (an unknown role, `iat` after `exp`).
        public static let invalidClaims = Code(8)
        /// `exp` is at or before now.
        public static let expired = Code(9)
        /// An access token where a refresh token was expected, or the reverse.
        public static let wrongTokenType = Code(10)

        public var description: String {
            switch self {
            case .secretTooShort: "secretTooShort"
            case .tooLarge: "tooLarge"
            case .malformedToken: "malformedToken"
            case .malformedJSON: "malformedJSON"
            case .unsupportedAlgorithm: "unsupportedAlgorithm"
            case .unsupportedHeader: "unsupportedHeader"
            case .badSignature: "badSignature"
            case .invalidClaims: "invalidClaims"
            case .expired: "expired"
            case .wrongTokenType: "wrongTokenType"
            default: "code\(self.rawValue)"
            }
        }
    }

    public let code: Code
    /// A sentence for logs; never contains the token, the secret or a claim value taken from the token.
    public let message: String
    /// A lower-level error that led to this one (a JSON decoding error), when there was one.
    public let cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { "TokenError(\(self.code)): \(self.message)" }
}
