// `vigilctl users create|update|list|get` (admins only; the server decides). Passwords come from the terminal
// without echo, or one line on stdin with `--password-stdin`, never from the command line where `ps` would show them.
import Foundation
import VigilAPI
import VigilClient
import VigilRPC

extension Commands {
    func printUser(_ user: User?) throws {
        guard let user else { throw RPCError(code: .internal, message: "no user in the answer") }
        if self.json { self.out(CanonicalJSON.wrapping("user", CanonicalJSON.user(user))) } else { self.out(Printing.users([user])) }
    }

    func role(option name: String) throws -> Role? {
        guard let text = self.arguments.option(name) else { return nil }
        guard let role = Self.role(text) else { throw UsageError("--\(name) must be admin, analyst or agent") }
        return role
    }

    func createUser() async throws {
        try self.arguments.allow(["username", "role", "password-stdin"])
        guard self.arguments.words.count == 2 else { throw UsageError("unexpected \"\(self.arguments.words[2])\"") }
        guard let username = self.arguments.option("username"), let role = try self.role(option: "role") else {
            throw UsageError("users create needs --username and --role admin|analyst|agent")
        }
        var request = CreateUserRequest()
        request.username = username
        request.role = role
        request.password = try self.password(prompt: "Password for \(username): ")
        try self.printUser(try await self.client.createUser(request).user)
    }

    func updateUser() async throws {
        try self.arguments.allow(["role", "disable", "enable", "reset-password", "password-stdin"])
        var request = UpdateUserRequest()
        request.id = try self.id(at: 2)
        request.role = try self.role(option: "role")
        switch (self.arguments.has("disable"), self.arguments.has("enable")) {
        case (true, true): throw UsageError("--disable and --enable exclude each other")
        case (true, false): request.disabled = true
        case (false, true): request.disabled = false
        case (false, false): break
        }
        if self.arguments.has("password-stdin") && !self.arguments.has("reset-password") {
            throw UsageError("--password-stdin goes with --reset-password")
        }
        if self.arguments.has("reset-password") {
            request.newPassword = try self.password(prompt: "New password for user \(request.id): ")
        }
        guard request.role != nil || request.disabled != nil || request.newPassword != nil else {
            throw UsageError("users update needs --role, --disable, --enable or --reset-password")
        }
        try self.printUser(try await self.client.updateUser(request).user)
    }

    func listUsers() async throws {
        try self.arguments.allow(["role", "limit", "all"])
        guard self.arguments.words.count == 2 else { throw UsageError("unexpected \"\(self.arguments.words[2])\"") }
        var request = ListUsersRequest()
        request.role = try self.role(option: "role") ?? .unspecified
        request.pageSize = try self.pageSize()
        try await self.pages(
            fetch: { token in
                request.pageToken = token
                let response = try await self.client.listUsers(request)
                return (response.users, response.nextPageToken)
            },
            json: CanonicalJSON.user, table: Printing.users)
    }

    /// `users get 7` by id, `users get alice` by username.
    func getUser() async throws {
        try self.arguments.allow([])
        let words = self.arguments.words
        guard words.count == 3 else { throw UsageError("users get needs one ID or USERNAME") }
        let response = if let id = Int64(words[2]) {
            try await self.client.getUser(id: id)
        } else {
            try await self.client.getUser(username: words[2])
        }
        try self.printUser(response.user)
    }
}
