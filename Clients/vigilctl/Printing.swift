// How vigilctl shows results: aligned columns for people, or one JSON object per line with `--json` for scripts
// (field names as in the .proto files, times in RFC 3339, enums by their lowercase names).
import Foundation
import VigilAPI
import VigilClient

enum Printing {
    static func time(_ timestamp: Timestamp?) -> String { timestamp.map(RFC3339.format) ?? "-" }

    static func name(_ protoName: String, prefix: String) -> String {
        protoName.hasPrefix(prefix) ? String(protoName.dropFirst(prefix.count)).lowercased() : protoName
    }

    static func severity(_ value: Severity) -> String { self.name(value.protoName, prefix: "SEVERITY_") }
    static func status(_ value: AlertStatus) -> String { self.name(value.protoName, prefix: "ALERT_STATUS_") }
    static func role(_ value: Role) -> String { self.name(value.protoName, prefix: "ROLE_") }

    static func json(_ object: [String: Any?]) -> String {
        let present = object.compactMapValues { $0 }
        guard let data = try? JSONSerialization.data(withJSONObject: present, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func eventObject(_ event: Event) -> [String: Any?] {
        [
            "id": event.id, "source_name": event.sourceName, "event_type": event.eventType,
            "severity": self.severity(event.severity), "description": event.description,
            "occurred_at": self.time(event.occurredAt), "received_at": self.time(event.receivedAt),
            "submitted_by_username": event.submittedByUsername,
            "idempotency_key": event.idempotencyKey.isEmpty ? nil : event.idempotencyKey,
        ]
    }

    static func alertObject(_ alert: Alert) -> [String: Any?] {
        [
            "id": alert.id, "event_id": alert.eventId, "status": self.status(alert.status),
            "severity": alert.event.map { self.severity($0.severity) }, "source_name": alert.event?.sourceName,
            "event_type": alert.event?.eventType, "created_at": self.time(alert.createdAt),
            "resolved_at": alert.resolvedAt.map(RFC3339.format), "version": alert.version,
        ]
    }

    static func userObject(_ user: User) -> [String: Any?] {
        [
            "id": user.id, "username": user.username, "role": self.role(user.role), "disabled": user.disabled,
            "created_at": self.time(user.createdAt),
        ]
    }

    /// Columns padded to their widest cell.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func events(_ events: [Event], json: Bool) -> String {
        if json { return events.map { self.json(self.eventObject($0)) }.joined(separator: "\n") }
        return self.table(
            ["ID", "OCCURRED", "SEVERITY", "SOURCE", "TYPE", "DESCRIPTION"],
            events.map {
                [String($0.id), self.time($0.occurredAt), self.severity($0.severity), $0.sourceName, $0.eventType,
                 String($0.description.prefix(60))]
            })
    }

    static func alerts(_ alerts: [Alert], json: Bool) -> String {
        if json { return alerts.map { self.json(self.alertObject($0)) }.joined(separator: "\n") }
        return self.table(
            ["ID", "CREATED", "STATUS", "SEVERITY", "SOURCE", "TYPE", "VERSION"],
            alerts.map {
                [String($0.id), self.time($0.createdAt), self.status($0.status),
                 $0.event.map { self.severity($0.severity) } ?? "-", $0.event?.sourceName ?? "-",
                 $0.event?.eventType ?? "-", String($0.version)]
            })
    }

    static func users(_ users: [User], json: Bool) -> String {
        if json { return users.map { self.json(self.userObject($0)) }.joined(separator: "\n") }
        return self.table(
            ["ID", "USERNAME", "ROLE", "DISABLED", "CREATED"],
            users.map { [String($0.id), $0.username, self.role($0.role), $0.disabled ? "yes" : "no", self.time($0.createdAt)] })
    }
}
