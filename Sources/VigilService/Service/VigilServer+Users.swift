// CreateUser, UpdateUser, ListUsers and GetUser (admins only, by the access policy). Passwords are checked against
// the policy and hashed on the hashing pool before the store sees them; the store only ever receives hashes.
// Disabling a user or resetting its password revokes every earlier token in the same transaction (the store bumps
// the user's token epoch and revokes its refresh tokens), so the next call with an old token is refused.
public import VigilAPI
public import VigilRPC
import VigilWire

extension VigilServer {
    /// Usernames: 1 to 150 characters, letters, digits and `@.+-_` (Django's `UnicodeUsernameValidator`).
    public static let maximumUsernameLength = 150

    func registerUsers(into router: inout Router) {
        self.authenticatedUnary(&router, VigilMethods.createUser) { (request: CreateUserRequest, _, _) in
            var response = CreateUserResponse()
            response.user = try await self.createUser(
                username: request.username, password: request.password, role: request.role
            ).user
            return response
        }
        self.authenticatedUnary(&router, VigilMethods.updateUser) { (request: UpdateUserRequest, _, _) in
            var response = UpdateUserResponse()
            response.user = try await self.updateUser(request).user
            return response
        }
        self.authenticatedUnary(&router, VigilMethods.listUsers) { (request: ListUsersRequest, _, _) in
            let role: Role? = request.role == .unspecified ? nil : request.role
            let page = try await RPCError.mappingStore { () throws(StoreError) in
                try await self.store.listUsers(role: role, pageSize: request.pageSize, pageToken: request.pageToken)
            }
            var response = ListUsersResponse()
            response.users = page.items
            response.nextPageToken = page.nextPageToken
            return response
        }
        self.authenticatedUnary(&router, VigilMethods.getUser) { (request: GetUserRequest, _, _) in
            let found: StoredUser?
            switch request.lookup {
            case .id(let id):
                found = try await RPCError.mappingStore { () throws(StoreError) in try await self.store.user(id: id) }
            case .username(let username):
                found = try await RPCError.mappingStore { () throws(StoreError) in
                    try await self.store.user(username: username)
                }
            case nil:
                throw RPCError(code: .invalidArgument, message: "give an id or a username")
            }
            guard let found else { throw RPCError(code: .notFound, message: "no such user") }
            var response = GetUserResponse()
            response.user = found.user
            return response
        }
    }

    /// Creates a user after checking the username, the role and the password policy. Also what vigild's first
    /// start and `vigild user add` use, so every path to a new user applies the same rules.
    public func createUser(username: String, password: String, role: Role) async throws(RPCError) -> StoredUser {
        guard Self.isValidUsername(username) else {
            throw RPCError(
                code: .invalidArgument,
                message: "username must be 1 to 150 letters, digits or @.+-_"
            )
        }
        guard Role.assignable.contains(role) else {
            throw RPCError(code: .invalidArgument, message: "role must be ADMIN, ANALYST or AGENT")
        }
        let hash = try await self.hashNewPassword(password, username: username)
        return try await RPCError.mappingStore { () throws(StoreError) in
            try await self.store.createUser(NewUser(username: username, role: role, passwordHash: hash))
        }
    }

    func updateUser(_ request: UpdateUserRequest) async throws(RPCError) -> StoredUser {
        if let role = request.role, !Role.assignable.contains(role) {
            throw RPCError(code: .invalidArgument, message: "role must be ADMIN, ANALYST or AGENT")
        }
        var changes = UserChanges(role: request.role, disabled: request.disabled, keepsAnEnabledAdmin: true)
        if let password = request.newPassword {
            // The policy compares with the username, so the user is read first (and a missing one is NOT_FOUND
            // before any hashing work).
            let current = try await RPCError.mappingStore { () throws(StoreError) in
                try await self.store.user(id: request.id)
            }
            guard let current else { throw RPCError(code: .notFound, message: "no user has id \(request.id)") }
            changes.passwordHash = try await self.hashNewPassword(password, username: current.user.username)
        }
        let updated = changes
        return try await RPCError.mappingStore { () throws(StoreError) in
            try await self.store.updateUser(id: request.id, updated)
        }
    }

    /// The stored form of a new password that meets the policy, hashed on the pool.
    func hashNewPassword(_ password: String, username: String) async throws(RPCError) -> String {
        do throws(PasswordPolicyError) {
            try self.configuration.passwordPolicy.validate(password: password, username: username)
        } catch {
            throw RPCError(policy: error)
        }
        do {
            return try await self.hashingPool.hash(password)
        } catch let error as HashingPoolError {
            throw RPCError(pool: error)
        } catch {
            throw RPCError(code: .internal, message: "cannot hash the password", cause: nil)
        }
    }

    /// Django's rule: 1 to 150 characters, each a letter, a digit, or one of `@.+-_`.
    static func isValidUsername(_ username: String) -> Bool {
        guard !username.isEmpty, username.count <= Self.maximumUsernameLength else { return false }
        return username.allSatisfy { character in
            character.isLetter || character.isNumber || "@.+-_".contains(character)
        }
    }
}
