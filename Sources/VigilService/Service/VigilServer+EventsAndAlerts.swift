// The read side (ListEvents, GetEvent, ListAlerts, GetAlert, GetStats) and alert triage (UpdateAlert). The store
// does the filtering, ordering and keyset pagination on its reader connections; these handlers translate requests
// into queries (where unknown enum values are refused) and store failures into statuses. UpdateAlert checks the
// request's shape here (a status, a version) so the answer is INVALID_ARGUMENT before any storage work; the version
// comparison itself happens in the store's write transaction, where it cannot race.
import VigilAPI
import VigilRPC

extension VigilServer {
    func registerEventsAndAlerts(into router: inout Router) {
        self.authenticatedUnary(&router, VigilMethods.listEvents) { (request: ListEventsRequest, _, _) in
            let page = try await RPCError.mappingStore { () throws(StoreError) in
                try await self.store.listEvents(try EventQuery(request))
            }
            var response = ListEventsResponse()
            response.events = page.items
            response.nextPageToken = page.nextPageToken
            return response
        }
        self.authenticatedUnary(&router, VigilMethods.getEvent) { (request: GetEventRequest, _, _) in
            let detail = try await RPCError.mappingStore { () throws(StoreError) in
                try await self.store.event(id: request.id)
            }
            guard let detail else { throw RPCError(code: .notFound, message: "no event has id \(request.id)") }
            var response = GetEventResponse()
            response.event = detail.event
            response.alertId = detail.alertID ?? 0
            return response
        }
        self.authenticatedUnary(&router, VigilMethods.listAlerts) { (request: ListAlertsRequest, _, _) in
            let page = try await RPCError.mappingStore { () throws(StoreError) in
                try await self.store.listAlerts(try AlertQuery(request))
            }
            var response = ListAlertsResponse()
            response.alerts = page.items
            response.nextPageToken = page.nextPageToken
            return response
        }
        self.authenticatedUnary(&router, VigilMethods.getAlert) { (request: GetAlertRequest, _, _) in
            let detail = try await RPCError.mappingStore { () throws(StoreError) in
                try await self.store.alert(id: request.id)
            }
            guard let detail else { throw RPCError(code: .notFound, message: "no alert has id \(request.id)") }
            var response = GetAlertResponse()
            response.alert = detail.alert
            response.history = detail.history
            return response
        }
        self.authenticatedUnary(&router, VigilMethods.updateAlert) { (request: UpdateAlertRequest, caller, _) in
            try await self.updateAlert(request, by: caller)
        }
        self.authenticatedUnary(&router, VigilMethods.getStats) { (_: GetStatsRequest, _, _) in
            let stats = try await RPCError.mappingStore { () throws(StoreError) in try await self.store.stats() }
            var response = GetStatsResponse()
            response.totalEvents = stats.totalEvents
            response.totalAlerts = stats.totalAlerts
            response.eventsBySeverity = stats.eventsBySeverity
            response.alertsByStatus = stats.alertsByStatus
            response.alertsBySeverity = stats.alertsBySeverity
            return response
        }
    }

    func updateAlert(_ request: UpdateAlertRequest, by caller: Caller) async throws(RPCError) -> UpdateAlertResponse {
        switch request.status {
        case .open, .acknowledged, .resolved: break
        default: throw RPCError(code: .invalidArgument, message: "status must be OPEN, ACKNOWLEDGED or RESOLVED")
        }
        guard request.expectedVersion > 0 else {
            throw RPCError(code: .invalidArgument, message: "expected_version is required (the alert's version)")
        }
        let alert = try await RPCError.mappingStore { () throws(StoreError) in
            try await self.store.updateAlert(
                id: request.id, status: request.status, expectedVersion: request.expectedVersion, by: caller.acting)
        }
        var response = UpdateAlertResponse()
        response.alert = alert
        return response
    }
}
