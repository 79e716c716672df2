// The rules a new password must meet, checked before hashing (CreateUser, UpdateUser, `vigild user add`). Length
// is what makes a password hard to guess (NIST SP 800-63B asks for length, not composition rules); a password equal
// to the username is the first one an attacker tries.

/// Why a password was refused; the service answers INVALID_ARGUMENT with `message`.
public struct PasswordPolicyError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// Fewer than `PasswordPolicy.minimumLength` characters.
        case tooShort
        /// More than `PasswordHasher.maximumPasswordBytes` bytes of UTF-8.
        case tooLong
        /// The username itself, ignoring case.
        case sameAsUsername
    }

    public let reason: Reason
    /// A sentence for the caller; never contains the password.
    public let message: String

    public var description: String { "PasswordPolicyError(\(self.reason)): \(self.message)" }
}

/// Checks new passwords against Vigil's rules.
public struct PasswordPolicy: Sendable {
    /// At least 12 characters, as the business rules require.
    public static let minimumLength = 12

    public let minimumLength: Int

    public init(minimumLength: Int = PasswordPolicy.minimumLength) {
        self.minimumLength = minimumLength
    }

    /// Throws when `password` may not be set for `username`. Length counts characters (what the user sees),
    /// so "é" written with a combining accent is one character, not two.
    public func validate(password: String, username: String) throws(PasswordPolicyError) {
        guard password.count >= self.minimumLength else {
            throw PasswordPolicyError(
                reason: .tooShort,
                message: "the password must be at least \(self.minimumLength) characters"
            )
        }
        guard password.utf8.count <= PasswordHasher.maximumPasswordBytes else {
            throw PasswordPolicyError(
                reason: .tooLong,
                message: "the password must be at most \(PasswordHasher.maximumPasswordBytes) bytes"
            )
        }
        guard password.lowercased() != username.lowercased() else {
            throw PasswordPolicyError(reason: .sameAsUsername, message: "the password must not be the username")
        }
    }
}
