// The first admin of a fresh installation. vigild calls this on every start; it does nothing once any user exists,
// so an operator who deleted or renamed the first admin does not get it back. Without a configured password it makes
// a random one and returns it to the caller to print once: it is stored only as a hash, so it is never seen again.
public import VigilAPI
public import VigilRPC
import VigilTLS

/// The admin created on first start. `description` redacts the generated password.
public struct FirstAdmin: Sendable, CustomStringConvertible {
    public let user: User
    /// The generated password, to show the operator once; nil when the caller supplied the password.
    public let generatedPassword: String?

    public var description: String {
        let password = self.generatedPassword == nil ? "-" : "<redacted>"
        return "FirstAdmin(username: \(self.user.username), generatedPassword: \(password))"
    }
}

extension VigilServer {
    /// Random passwords: 18 bytes from the CSPRNG as 24 base64url characters (144 bits).
    static let generatedPasswordBytes = 18

    /// Creates an admin named `username` when the store has no user at all; nil when users exist already. With a
    /// nil `password` a random one is generated and returned; a given one must meet the password policy.
    public func bootstrapFirstAdmin(username: String, password: String?) async throws(RPCError) -> FirstAdmin? {
        let hasUsers = try await RPCError.mappingStore { () throws(StoreError) in try await self.store.hasUsers() }
        guard !hasUsers else { return nil }
        let generated = password == nil ? Base64URL.encode(SecureRandom.bytes(Self.generatedPasswordBytes)) : nil
        guard let chosen = password ?? generated else { return nil }
        do throws(RPCError) {
            let user = try await self.createUser(username: username, password: chosen, role: .admin)
            return FirstAdmin(user: user.user, generatedPassword: generated)
        } catch {
            // Another process created it between our check and our insert: it is there, which is what we wanted.
            guard error.code == .alreadyExists else { throw error }
            return nil
        }
    }
}
