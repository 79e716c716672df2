// The role × RPC matrix of the business rules: every method of both services called by an admin, an analyst, an
// agent, a disabled user, an anonymous caller and a caller with a garbage token, each with the status the rules
// give. A method added to the API without a row here fails `everyMethodHasARow`.
import Foundation
import Testing
import VigilAPI
import VigilRPC

@testable import VigilService

enum Identity: String, CaseIterable, Sendable {
    case admin, analyst, agent, disabled, anonymous, garbage
}

/// The fixture's users and one token each.
struct MatrixWorld: Sendable {
    let fixture: ServiceFixture
    let tokens: [Identity: String]
    let agentID: Int64
    let alertID: Int64
    let eventID: Int64

    static func make(_ fixture: ServiceFixture) async throws -> MatrixWorld {
        var tokens: [Identity: String] = [:]
        tokens[.admin] = try await fixture.userWithToken("root", .admin).token
        tokens[.analyst] = try await fixture.userWithToken("ana", .analyst).token
        let agent = try await fixture.userWithToken("probe", .agent)
        tokens[.agent] = agent.token
        let retired = try await fixture.userWithToken("retired", .analyst)
        _ = try await fixture.store.updateUser(id: retired.user.id, UserChanges(disabled: true))
        tokens[.disabled] = retired.token
        tokens[.garbage] = "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"
        let outcomes = try await fixture.store.insertEvents(
            [NewEvent(makeAPIEvent(.high))], submittedBy: ActingUser(userID: agent.user.id, username: "probe"))
        guard case .stored(let eventID, let alertID?) = outcomes.first else {
            throw RPCError(code: .internal, message: "seed event raised no alert")
        }
        return MatrixWorld(fixture: fixture, tokens: tokens, agentID: agent.user.id, alertID: alertID, eventID: eventID)
    }
}

struct MatrixRow: Sendable, CustomTestStringConvertible {
    let method: MethodDescriptor
    /// Identities that get OK; every other one gets UNAUTHENTICATED (no valid token) or PERMISSION_DENIED.
    let allowed: Set<Identity>
    let call: @Sendable (MatrixWorld, String?) async throws -> Void

    var testDescription: String { self.method.path }

    func expected(_ identity: Identity) -> Status.Code {
        if self.allowed.contains(identity) { return .ok }
        switch identity {
        case .disabled, .anonymous, .garbage: return .unauthenticated
        case .admin, .analyst, .agent: return .permissionDenied
        }
    }

    static let everyone = Set(Identity.allCases)
    static let anyRole: Set<Identity> = [.admin, .analyst, .agent]
    static let readers: Set<Identity> = [.admin, .analyst]

    static let all: [MatrixRow] = [
        MatrixRow(method: VigilMethods.authenticate, allowed: everyone) { world, token in
            var request = AuthenticateRequest()
            request.username = "ana"
            request.password = servicePassword
            _ = try await world.fixture.call(
                VigilMethods.authenticate, request, token: token, as: AuthenticateResponse.self)
        },
        MatrixRow(method: VigilMethods.refreshToken, allowed: everyone) { world, token in
            var request = RefreshTokenRequest()
            request.refreshToken = try await world.fixture.login("ana").tokens?.refreshToken ?? ""
            _ = try await world.fixture.call(
                VigilMethods.refreshToken, request, token: token, as: RefreshTokenResponse.self)
        },
        MatrixRow(method: VigilMethods.whoAmI, allowed: anyRole) { world, token in
            _ = try await world.fixture.call(
                VigilMethods.whoAmI, WhoAmIRequest(), token: token, as: WhoAmIResponse.self)
        },
        MatrixRow(method: VigilMethods.ingestEvents, allowed: [.admin, .agent]) { world, token in
            _ = try await world.fixture.ingest([makeAPIEvent(.low)], token: token)
        },
        MatrixRow(method: VigilMethods.listEvents, allowed: readers) { world, token in
            _ = try await world.fixture.call(
                VigilMethods.listEvents, ListEventsRequest(), token: token, as: ListEventsResponse.self)
        },
        MatrixRow(method: VigilMethods.getEvent, allowed: readers) { world, token in
            var request = GetEventRequest()
            request.id = world.eventID
            _ = try await world.fixture.call(VigilMethods.getEvent, request, token: token, as: GetEventResponse.self)
        },
        MatrixRow(method: VigilMethods.listAlerts, allowed: readers) { world, token in
            _ = try await world.fixture.call(
                VigilMethods.listAlerts, ListAlertsRequest(), token: token, as: ListAlertsResponse.self)
        },
        MatrixRow(method: VigilMethods.getAlert, allowed: readers) { world, token in
            var request = GetAlertRequest()
            request.id = world.alertID
            _ = try await world.fixture.call(VigilMethods.getAlert, request, token: token, as: GetAlertResponse.self)
        },
        MatrixRow(method: VigilMethods.updateAlert, allowed: [.admin]) { world, token in
            var request = UpdateAlertRequest()
            request.id = world.alertID
            request.status = .acknowledged
            request.expectedVersion = try await world.fixture.store.alert(id: world.alertID)?.alert.version ?? 0
            _ = try await world.fixture.call(
                VigilMethods.updateAlert, request, token: token, as: UpdateAlertResponse.self)
        },
        MatrixRow(method: VigilMethods.getStats, allowed: readers) { world, token in
            _ = try await world.fixture.call(
                VigilMethods.getStats, GetStatsRequest(), token: token, as: GetStatsResponse.self)
        },
        MatrixRow(method: VigilMethods.createUser, allowed: [.admin]) { world, token in
            var request = CreateUserRequest()
            request.username = "new-\(UUID().uuidString.prefix(8))"
            request.password = servicePassword
            request.role = .analyst
            _ = try await world.fixture.call(
                VigilMethods.createUser, request, token: token, as: CreateUserResponse.self)
        },
        MatrixRow(method: VigilMethods.updateUser, allowed: [.admin]) { world, token in
            var request = UpdateUserRequest()
            request.id = world.agentID
            request.role = .agent
            _ = try await world.fixture.call(
                VigilMethods.updateUser, request, token: token, as: UpdateUserResponse.self)
        },
        MatrixRow(method: VigilMethods.listUsers, allowed: [.admin]) { world, token in
            _ = try await world.fixture.call(
                VigilMethods.listUsers, ListUsersRequest(), token: token, as: ListUsersResponse.self)
        },
        MatrixRow(method: VigilMethods.getUser, allowed: [.admin]) { world, token in
            var request = GetUserRequest()
            request.lookup = .username("probe")
            _ = try await world.fixture.call(VigilMethods.getUser, request, token: token, as: GetUserResponse.self)
        },
        MatrixRow(method: DiagnosticsMethods.echo, allowed: anyRole) { world, token in
            _ = try await world.fixture.call(
                DiagnosticsMethods.echo, EchoRequest(), token: token, as: EchoResponse.self)
        },
        MatrixRow(method: DiagnosticsMethods.echoStream, allowed: anyRole) { world, token in
            _ = try await world.fixture.client.bidiStream(
                DiagnosticsMethods.echoStream, requestType: EchoRequest.self, responseType: EchoResponse.self,
                metadata: bearer(token)
            ) { writer, responses in
                try await writer.write(EchoRequest())
                for try await _ in responses { break }
            }
        },
        MatrixRow(method: DiagnosticsMethods.sink, allowed: anyRole) { world, token in
            _ = try await world.fixture.client.clientStream(
                DiagnosticsMethods.sink, requestType: SinkRequest.self, responseType: SinkResponse.self,
                metadata: bearer(token)
            ) { writer in try await writer.write(SinkRequest()) }
        },
        MatrixRow(method: DiagnosticsMethods.check, allowed: everyone) { world, token in
            _ = try await world.fixture.call(
                DiagnosticsMethods.check, HealthCheckRequest(), token: token, as: HealthCheckResponse.self)
        },
    ]
}

@Suite struct ServiceAccessMatrixTests {
    @Test("every method of both services has a row, and the server registers each")
    func everyMethodHasARow() async throws {
        let rows = Set(MatrixRow.all.map(\.method.path))
        #expect(rows == Set(AccessPolicy.vigil.coveredPaths))
        try await ServiceFixture.with { fixture in
            #expect(Set(fixture.router.methods.map(\.path)) == rows)
        }
    }

    @Test("each identity gets the status the role rules give", arguments: MatrixRow.all)
    func matrix(_ row: MatrixRow) async throws {
        try await ServiceFixture.with { fixture in
            let world = try await MatrixWorld.make(fixture)
            for identity in Identity.allCases {
                let code = await statusCode { try await row.call(world, world.tokens[identity]) }
                #expect(
                    code == row.expected(identity),
                    "\(row.method.method) as \(identity.rawValue) over \(ServiceTransport.name)")
            }
        }
    }
}
