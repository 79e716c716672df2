// One method per RPC of vigil.v1.Vigil and vigil.v1.Diagnostics. Each takes the request message (so every filter
// and option of the API is reachable) or, for the common lookups, just the id; each throws `RPCError`, whose
// `code` and `message` are the server's status. `timeout` overrides the client's default deadline for one call.
public import VigilAPI
import VigilRPC

extension VigilClient {
    // MARK: Identity

    public func whoAmI(timeout: Duration? = nil) async throws -> WhoAmIResponse {
        try await self.call(VigilMethods.whoAmI, WhoAmIRequest(), timeout: timeout)
    }

    // MARK: Events

    public func listEvents(_ request: ListEventsRequest, timeout: Duration? = nil) async throws -> ListEventsResponse {
        try await self.call(VigilMethods.listEvents, request, timeout: timeout)
    }

    public func getEvent(id: Int64, timeout: Duration? = nil) async throws -> GetEventResponse {
        var request = GetEventRequest()
        request.id = id
        return try await self.call(VigilMethods.getEvent, request, timeout: timeout)
    }

    // MARK: Alerts

    public func listAlerts(_ request: ListAlertsRequest, timeout: Duration? = nil) async throws -> ListAlertsResponse {
        try await self.call(VigilMethods.listAlerts, request, timeout: timeout)
    }

    public func getAlert(id: Int64, timeout: Duration? = nil) async throws -> GetAlertResponse {
        var request = GetAlertRequest()
        request.id = id
        return try await self.call(VigilMethods.getAlert, request, timeout: timeout)
    }

    /// Moves an alert to `status`; `expectedVersion` is the version the caller last saw (ABORTED when stale).
    public func updateAlert(
        id: Int64, status: AlertStatus, expectedVersion: Int64, timeout: Duration? = nil
    ) async throws -> UpdateAlertResponse {
        var request = UpdateAlertRequest()
        request.id = id
        request.status = status
        request.expectedVersion = expectedVersion
        return try await self.call(VigilMethods.updateAlert, request, timeout: timeout)
    }

    public func getStats(timeout: Duration? = nil) async throws -> GetStatsResponse {
        try await self.call(VigilMethods.getStats, GetStatsRequest(), timeout: timeout)
    }

    // MARK: Users

    public func createUser(_ request: CreateUserRequest, timeout: Duration? = nil) async throws -> CreateUserResponse {
        try await self.call(VigilMethods.createUser, request, timeout: timeout)
    }

    public func updateUser(_ request: UpdateUserRequest, timeout: Duration? = nil) async throws -> UpdateUserResponse {
        try await self.call(VigilMethods.updateUser, request, timeout: timeout)
    }

    public func listUsers(_ request: ListUsersRequest, timeout: Duration? = nil) async throws -> ListUsersResponse {
        try await self.call(VigilMethods.listUsers, request, timeout: timeout)
    }

    public func getUser(id: Int64, timeout: Duration? = nil) async throws -> GetUserResponse {
        var request = GetUserRequest()
        request.lookup = .id(id)
        return try await self.call(VigilMethods.getUser, request, timeout: timeout)
    }

    public func getUser(username: String, timeout: Duration? = nil) async throws -> GetUserResponse {
        var request = GetUserRequest()
        request.lookup = .username(username)
        return try await self.call(VigilMethods.getUser, request, timeout: timeout)
    }

    // MARK: Diagnostics

    public func echo(_ payload: [UInt8], timeout: Duration? = nil) async throws -> [UInt8] {
        var request = EchoRequest()
        request.payload = payload
        return try await self.call(DiagnosticsMethods.echo, request, EchoResponse.self, timeout: timeout).payload
    }

    /// Serving or draining; needs no login.
    public func healthCheck(timeout: Duration? = nil) async throws -> ServingStatus {
        try await self.transport.unary(
            DiagnosticsMethods.check, request: HealthCheckRequest(), responseType: HealthCheckResponse.self,
            deadline: self.deadline(timeout)
        ).status
    }
}
