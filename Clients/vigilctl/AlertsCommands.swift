// `vigilctl alerts list|get|update|ack|resolve|reopen`. An update names the version it saw (optimistic
// concurrency): `--if-version V` when the caller has one, otherwise the current version is read just before. When
// the server answers ABORTED (someone else changed the alert in between), the alert's current state is read and
// shown with the error, so the person can decide again.
import Foundation
import VigilAPI
import VigilClient
import VigilRPC

extension Commands {
    func listAlerts() async throws {
        try self.arguments.allow(["status", "severity", "type", "source", "since", "until", "order", "limit", "all"])
        guard self.arguments.words.count == 2 else { throw UsageError("unexpected \"\(self.arguments.words[2])\"") }
        var request = ListAlertsRequest()
        var filter = AlertFilter()
        filter.statuses = try Self.list(self.arguments.option("status"), Self.alertStatus, what: "status")
        filter.severities = try Self.list(self.arguments.option("severity"), EventLineParser.severity, what: "severity")
        filter.eventType = self.arguments.option("type") ?? ""
        filter.sourceName = self.arguments.option("source") ?? ""
        filter.created = try self.timeRange()
        request.filter = filter
        if let (field, ascending) = self.order() {
            guard let order = AlertOrderField(protoName: "ALERT_ORDER_FIELD_" + field.uppercased()), order != .unspecified
            else { throw UsageError("--order: alerts order by created_at, status or severity (-FIELD for descending)") }
            request.orderBy = order
            request.ascending = ascending
        }
        request.pageSize = try self.pageSize()
        try await self.pages(
            fetch: { token in
                request.pageToken = token
                let response = try await self.client.listAlerts(request)
                return (response.alerts, response.nextPageToken)
            },
            json: CanonicalJSON.alert, table: Printing.alerts)
    }

    func getAlert() async throws {
        try self.arguments.allow([])
        let response = try await self.client.getAlert(id: try self.id(at: 2))
        if self.json { self.out(CanonicalJSON.getAlert(response)) } else { self.out(Printing.alert(response)) }
    }

    /// `alerts update ID --status S`, or `alerts ack|resolve|reopen ID` with `shorthand` as the status.
    func updateAlert(status shorthand: AlertStatus?) async throws {
        try self.arguments.allow(shorthand == nil ? ["status", "if-version"] : ["if-version"])
        let id = try self.id(at: 2)
        let status: AlertStatus
        if let shorthand {
            status = shorthand
        } else {
            guard let text = self.arguments.option("status"), let parsed = Self.alertStatus(text) else {
                throw UsageError("alerts update needs --status open|acknowledged|resolved")
            }
            status = parsed
        }
        let version: Int64
        if let given = try self.arguments.integer("if-version") {
            version = given
        } else {
            guard let current = try await self.client.getAlert(id: id).alert else {
                throw RPCError(code: .internal, message: "no alert in the answer")
            }
            version = current.version
        }
        let response: UpdateAlertResponse
        do {
            response = try await self.client.updateAlert(id: id, status: status, expectedVersion: version)
        } catch let error as RPCError where error.code == .aborted {
            throw ConflictError(error: error, current: await self.currentState(of: id, expected: version))
        }
        guard let alert = response.alert else { throw RPCError(code: .internal, message: "no alert in the answer") }
        if self.json { self.out(CanonicalJSON.wrapping("alert", CanonicalJSON.alert(alert))) } else { self.out(Printing.alerts([alert])) }
    }

    /// What a conflict shows: the alert as it is now and who changed it last.
    private func currentState(of id: Int64, expected: Int64) async -> String {
        guard let response = try? await self.client.getAlert(id: id), let alert = response.alert else {
            return "alert \(id) could not be read again"
        }
        var text = "alert \(id) is now \(Printing.status(alert.status)) at version \(alert.version) (you named version \(expected))"
        if let last = response.history.last {
            text += ", last changed by \(last.changedByUsername) at \(Printing.time(last.changedAt))"
        }
        if self.json { text += "\n" + CanonicalJSON.wrapping("alert", CanonicalJSON.alert(alert)).text }
        return text
    }
}
