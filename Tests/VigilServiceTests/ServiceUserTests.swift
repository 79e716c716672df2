// User management through the RPCs (CreateUser, UpdateUser, ListUsers, GetUser), the last-admin guard, the first-
// admin bootstrap vigild calls, and the Diagnostics service (Echo, EchoStream, Sink, Check without a token).
import Testing
import VigilAPI
import VigilRPC

@testable import VigilService

@Suite struct ServiceUserTests {
    func create(_ fixture: ServiceFixture, _ token: String, _ username: String, _ password: String, _ role: Role)
        async throws -> User?
    {
        var request = CreateUserRequest()
        request.username = username
        request.password = password
        request.role = role
        return try await fixture.call(VigilMethods.createUser, request, token: token, as: CreateUserResponse.self).user
    }

    @Test("CreateUser checks the username, the password policy and the role; a taken name is ALREADY_EXISTS")
    func createUser() async throws {
        try await ServiceFixture.with { fixture in
            let admin = try await fixture.userWithToken("root", .admin).token
            let user = try #require(try await self.create(fixture, admin, "ana.b+1@x", servicePassword, .analyst))
            #expect(user.role == .analyst && !user.disabled && user.id > 0)
            _ = try await fixture.login("ana.b+1@x")
            let cases: [(String, String, Role, Status.Code)] = [
                ("", servicePassword, .analyst, .invalidArgument),
                ("has space", servicePassword, .analyst, .invalidArgument),
                (String(repeating: "u", count: 151), servicePassword, .analyst, .invalidArgument),
                ("shorty", "elevenchars", .analyst, .invalidArgument),
                ("samesame12345", "SameSame12345", .analyst, .invalidArgument),
                ("norole", servicePassword, .unspecified, .invalidArgument),
                ("ana.b+1@x", servicePassword, .agent, .alreadyExists),
            ]
            for (username, password, role, expected) in cases {
                let error = await rpcError { _ = try await self.create(fixture, admin, username, password, role) }
                #expect(error?.code == expected, "\(username)")
                #expect(error?.message.contains(password) == false)
            }
            #expect(
                try await self.create(fixture, admin, String(repeating: "u", count: 150), servicePassword, .agent)
                    != nil)
        }
    }

    @Test("UpdateUser changes the role, refuses weak passwords and unknown ids, and never leaves no enabled admin")
    func updateUser() async throws {
        try await ServiceFixture.with { fixture in
            let root = try await fixture.userWithToken("root", .admin)
            let ana = try await fixture.createUser("ana", .analyst)
            func update(_ change: (inout UpdateUserRequest) -> Void) async throws -> User? {
                var request = UpdateUserRequest()
                change(&request)
                return try await fixture.call(
                    VigilMethods.updateUser, request, token: root.token, as: UpdateUserResponse.self
                ).user
            }
            #expect(
                try await update {
                    $0.id = ana.id
                    $0.role = .agent
                }?.role == .agent)
            #expect(
                await statusCode {
                    _ = try await update {
                        $0.id = ana.id
                        $0.newPassword = "short"
                    }
                } == .invalidArgument)
            #expect(
                await statusCode {
                    _ = try await update {
                        $0.id = ana.id
                        $0.role = .unspecified
                    }
                } == .invalidArgument)
            #expect(
                await statusCode {
                    _ = try await update {
                        $0.id = 999
                        $0.role = .agent
                    }
                } == .notFound)
            #expect(
                await statusCode {
                    _ = try await update {
                        $0.id = 999
                        $0.newPassword = servicePassword
                    }
                } == .notFound)
            // The only admin may not demote or disable itself; with a second admin it may.
            #expect(
                await statusCode {
                    _ = try await update {
                        $0.id = root.user.id
                        $0.role = .analyst
                    }
                } == .failedPrecondition)
            #expect(
                await statusCode {
                    _ = try await update {
                        $0.id = root.user.id
                        $0.disabled = true
                    }
                } == .failedPrecondition)
            _ = try await update {
                $0.id = ana.id
                $0.role = .admin
            }
            #expect(
                try await update {
                    $0.id = root.user.id
                    $0.role = .analyst
                }?.role == .analyst)
        }
    }

    @Test("ListUsers pages by id and filters by role; GetUser finds by id or username")
    func listAndGet() async throws {
        try await ServiceFixture.with { fixture in
            let admin = try await fixture.userWithToken("root", .admin).token
            for index in 0..<5 { try await fixture.createUser("agent-\(index)", .agent) }
            var request = ListUsersRequest()
            request.pageSize = 2
            var names: [String] = []
            repeat {
                let page = try await fixture.call(
                    VigilMethods.listUsers, request, token: admin, as: ListUsersResponse.self)
                names += page.users.map(\.username)
                request.pageToken = page.nextPageToken
            } while !request.pageToken.isEmpty
            #expect(names == ["root"] + (0..<5).map { "agent-\($0)" })
            var agents = ListUsersRequest()
            agents.role = .agent
            let listed = try await fixture.call(
                VigilMethods.listUsers, agents, token: admin, as: ListUsersResponse.self)
            #expect(listed.users.count == 5)

            func get(_ lookup: GetUserRequest.Lookup?) async throws -> User? {
                var request = GetUserRequest()
                request.lookup = lookup
                return try await fixture.call(VigilMethods.getUser, request, token: admin, as: GetUserResponse.self)
                    .user
            }
            let byName = try #require(try await get(.username("agent-3")))
            #expect(try await get(.id(byName.id)) == byName)
            #expect(await statusCode { _ = try await get(.username("nobody")) } == .notFound)
            #expect(await statusCode { _ = try await get(.id(999)) } == .notFound)
            #expect(await statusCode { _ = try await get(nil) } == .invalidArgument)
        }
    }

    @Test("the first-admin bootstrap creates an admin only when there are no users, with a given or random password")
    func bootstrap() async throws {
        try await ServiceFixture.with { fixture in
            let created = try #require(try await fixture.server.bootstrapFirstAdmin(username: "admin", password: nil))
            let password = try #require(created.generatedPassword)
            #expect(created.user.role == .admin && password.count >= 24)
            #expect(!created.description.contains(password))
            _ = try await fixture.login("admin", password)
            #expect(try await fixture.server.bootstrapFirstAdmin(username: "other", password: nil) == nil)
        }
        try await ServiceFixture.with { fixture in
            let weak = await statusCode {
                _ = try await fixture.server.bootstrapFirstAdmin(username: "boss", password: "weak")
            }
            #expect(weak == .invalidArgument)
            let created = try #require(
                try await fixture.server.bootstrapFirstAdmin(username: "boss", password: servicePassword))
            #expect(created.generatedPassword == nil)
            _ = try await fixture.login("boss")
        }
    }

    @Test("Echo, EchoStream and Sink answer a token holder; Check answers anyone and follows the draining flag")
    func diagnostics() async throws {
        try await ServiceFixture.with { fixture in
            let agent = try await fixture.userWithToken("probe", .agent).token
            var echo = EchoRequest()
            echo.payload = Array(0..<200)
            #expect(
                try await fixture.call(DiagnosticsMethods.echo, echo, token: agent, as: EchoResponse.self).payload
                    == echo.payload)
            let echoed = try await fixture.client.bidiStream(
                DiagnosticsMethods.echoStream, requestType: EchoRequest.self, responseType: EchoResponse.self,
                metadata: bearer(agent)
            ) { writer, responses in
                var iterator = responses.makeAsyncIterator()
                var payloads: [[UInt8]] = []
                for index in 0..<3 {
                    var request = EchoRequest()
                    request.payload = [UInt8(index)]
                    try await writer.write(request)
                    payloads.append(try await iterator.next()?.payload ?? [])
                }
                return payloads
            }
            #expect(echoed == [[0], [1], [2]])
            let sunk = try await fixture.client.clientStream(
                DiagnosticsMethods.sink, requestType: SinkRequest.self, responseType: SinkResponse.self,
                metadata: bearer(agent)
            ) { writer in
                for size in [10, 20, 30] {
                    var request = SinkRequest()
                    request.payload = Array(repeating: 7, count: size)
                    try await writer.write(request)
                }
            }
            #expect(sunk.messages == 3 && sunk.bytes == 60)
            func check() async throws -> ServingStatus {
                try await fixture.call(
                    DiagnosticsMethods.check, HealthCheckRequest(), token: nil, as: HealthCheckResponse.self
                ).status
            }
            #expect(try await check() == .serving)
            fixture.server.setDraining(true)
            #expect(try await check() == .draining)
            fixture.server.setDraining(false)
            #expect(try await check() == .serving)
        }
    }
}
