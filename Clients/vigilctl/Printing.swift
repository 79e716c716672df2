// How vigilctl shows results to people: aligned columns, times in RFC 3339, enums by their lowercase short names.
// `--json` output is CanonicalJSON's.
import Foundation
import VigilAPI
import VigilClient

enum Printing {
    /// To the second: enough for people reading a table (`--json` keeps the nanoseconds).
    static func time(_ timestamp: Timestamp?) -> String {
        timestamp.map { RFC3339.format(Timestamp(seconds: $0.seconds)) } ?? "-"
    }

    static func name(_ protoName: String, prefix: String) -> String {
        protoName.hasPrefix(prefix) ? String(protoName.dropFirst(prefix.count)).lowercased() : protoName
    }

    static func severity(_ value: Severity) -> String { self.name(value.protoName, prefix: "SEVERITY_") }
    static func status(_ value: AlertStatus) -> String { self.name(value.protoName, prefix: "ALERT_STATUS_") }
    static func role(_ value: Role) -> String { self.name(value.protoName, prefix: "ROLE_") }

    /// Columns padded to their widest cell (the last column is not padded).
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// Free text for one cell: newlines and tabs would break the columns, long text is cut.
    static func cell(_ text: String, limit: Int = 60) -> String {
        let flat = text.map { $0.isNewline || $0 == "\t" ? " " : $0 }
        return flat.count > limit ? String(flat.prefix(limit - 1)) + "…" : String(flat)
    }

    static func events(_ events: [Event]) -> String {
        self.table(
            ["ID", "OCCURRED", "SEVERITY", "SOURCE", "TYPE", "DESCRIPTION"],
            events.map {
                [String($0.id), self.time($0.occurredAt), self.severity($0.severity), self.cell($0.sourceName),
                 self.cell($0.eventType), self.cell($0.description)]
            })
    }

    static func alerts(_ alerts: [Alert]) -> String {
        self.table(
            ["ID", "CREATED", "STATUS", "SEVERITY", "SOURCE", "TYPE", "VERSION"],
            alerts.map {
                [String($0.id), self.time($0.createdAt), self.status($0.status),
                 $0.event.map { self.severity($0.severity) } ?? "-", $0.event.map { self.cell($0.sourceName) } ?? "-",
                 $0.event.map { self.cell($0.eventType) } ?? "-", String($0.version)]
            })
    }

    static func users(_ users: [User]) -> String {
        self.table(
            ["ID", "USERNAME", "ROLE", "DISABLED", "CREATED"],
            users.map { [String($0.id), $0.username, self.role($0.role), $0.disabled ? "yes" : "no", self.time($0.createdAt)] })
    }

    /// `events get`: the event's fields one per line, then the alert it raised.
    static func event(_ response: GetEventResponse) -> String {
        guard let event = response.event else { return "" }
        return self.table(["FIELD", "VALUE"], [
            ["id", String(event.id)], ["source", event.sourceName], ["type", event.eventType],
            ["severity", self.severity(event.severity)], ["occurred", self.time(event.occurredAt)],
            ["received", self.time(event.receivedAt)],
            ["submitted by", "\(event.submittedByUsername) (id \(event.submittedByUserId))"],
            ["idempotency key", event.idempotencyKey.isEmpty ? "-" : event.idempotencyKey],
            ["alert", response.alertId == 0 ? "-" : String(response.alertId)],
            ["description", self.cell(event.description, limit: 4000)],
        ])
    }

    /// `alerts get`: the alert, its event, and its history oldest first.
    static func alert(_ response: GetAlertResponse) -> String {
        guard let alert = response.alert else { return "" }
        var text = self.alerts([alert])
        if let event = alert.event {
            text += "\n\nevent \(event.id) occurred \(self.time(event.occurredAt)): \(self.cell(event.description, limit: 4000))"
        }
        text += "\nresolved \(self.time(alert.resolvedAt)), updated \(self.time(alert.updatedAt))\n\n"
        guard !response.history.isEmpty else { return text + "history: no changes since it was raised" }
        text += "history:\n" + self.table(
            ["CHANGED", "BY", "FROM", "TO", "VERSION"],
            response.history.map {
                [self.time($0.changedAt), $0.changedByUsername, self.status($0.fromStatus), self.status($0.toStatus),
                 String($0.version)]
            })
        return text
    }

    static func stats(_ stats: GetStatsResponse) -> String {
        var alertsBySeverity: [Severity: Int64] = [:]
        for count in stats.alertsBySeverity { alertsBySeverity[count.severity] = count.count }
        var text = "events \(stats.totalEvents), alerts \(stats.totalAlerts)\n\n"
        text += self.table(
            ["SEVERITY", "EVENTS", "ALERTS"],
            stats.eventsBySeverity.map {
                [self.severity($0.severity), String($0.count), String(alertsBySeverity[$0.severity] ?? 0)]
            })
        text += "\n\n" + self.table(["STATUS", "ALERTS"], stats.alertsByStatus.map { [self.status($0.status), String($0.count)] })
        return text
    }
}
