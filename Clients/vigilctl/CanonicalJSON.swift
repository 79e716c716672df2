// `--json` output: the protobuf canonical JSON mapping of the API's messages, written by hand because VigilAPI has
// no JSON codec. The mapping's rules as protoc's printers apply them: lowerCamelCase field names, fields at their
// default value (0, "", false, UNSPECIFIED, empty lists, unset messages) left out, enums by their full name
// ("SEVERITY_HIGH"), int64 as decimal strings, Timestamp as RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits.
// Fields are written in .proto order, so output is stable and diffable.
import VigilAPI
import VigilClient

/// A JSON value whose objects keep their keys in order.
indirect enum JSON {
    case string(String)
    case number(Int)
    case bool(Bool)
    case array([JSON])
    case object([(String, JSON)])

    var text: String {
        switch self {
        case .string(let value): return Self.quote(value)
        case .number(let value): return String(value)
        case .bool(let value): return value ? "true" : "false"
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let fields): return "{" + fields.map { Self.quote($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Builds one message's object, leaving out fields at their default value.
struct JSONObject {
    private(set) var fields: [(String, JSON)] = []

    mutating func int64(_ name: String, _ value: Int64) { if value != 0 { self.fields.append((name, .string(String(value)))) } }
    mutating func string(_ name: String, _ value: String) { if !value.isEmpty { self.fields.append((name, .string(value))) } }
    mutating func bool(_ name: String, _ value: Bool) { if value { self.fields.append((name, .bool(true))) } }
    mutating func enumeration(_ name: String, _ protoName: String, isDefault: Bool) {
        if !isDefault { self.fields.append((name, .string(protoName))) }
    }
    mutating func time(_ name: String, _ value: Timestamp?) {
        if let value { self.fields.append((name, .string(CanonicalJSON.time(value)))) }
    }
    mutating func message(_ name: String, _ value: JSON?) { if let value { self.fields.append((name, value)) } }
    mutating func list(_ name: String, _ values: [JSON]) { if !values.isEmpty { self.fields.append((name, .array(values))) } }

    var json: JSON { .object(self.fields) }
}

enum CanonicalJSON {
    /// RFC 3339, UTC, with 0, 3, 6 or 9 fractional digits as the mapping prescribes.
    static func time(_ timestamp: Timestamp) -> String {
        let whole = RFC3339.format(Timestamp(seconds: timestamp.seconds))
        guard timestamp.nanos > 0 else { return whole }
        var digits = String(timestamp.nanos)
        digits = String(repeating: "0", count: 9 - digits.count) + digits
        while digits.count > 3 && digits.hasSuffix("000") { digits.removeLast(3) }
        return String(whole.dropLast()) + "." + digits + "Z"
    }

    static func event(_ event: Event) -> JSON {
        var object = JSONObject()
        object.int64("id", event.id)
        object.string("sourceName", event.sourceName)
        object.string("eventType", event.eventType)
        object.enumeration("severity", event.severity.protoName, isDefault: event.severity == .unspecified)
        object.string("description", event.description)
        object.time("occurredAt", event.occurredAt)
        object.time("receivedAt", event.receivedAt)
        object.int64("submittedByUserId", event.submittedByUserId)
        object.string("submittedByUsername", event.submittedByUsername)
        object.string("idempotencyKey", event.idempotencyKey)
        return object.json
    }

    static func alert(_ alert: Alert) -> JSON {
        var object = JSONObject()
        object.int64("id", alert.id)
        object.int64("eventId", alert.eventId)
        object.message("event", alert.event.map(self.event))
        object.enumeration("status", alert.status.protoName, isDefault: alert.status == .unspecified)
        object.time("createdAt", alert.createdAt)
        object.time("resolvedAt", alert.resolvedAt)
        object.time("updatedAt", alert.updatedAt)
        object.int64("version", alert.version)
        return object.json
    }

    static func change(_ change: AlertChange) -> JSON {
        var object = JSONObject()
        object.int64("alertId", change.alertId)
        object.int64("changedByUserId", change.changedByUserId)
        object.string("changedByUsername", change.changedByUsername)
        object.enumeration("fromStatus", change.fromStatus.protoName, isDefault: change.fromStatus == .unspecified)
        object.enumeration("toStatus", change.toStatus.protoName, isDefault: change.toStatus == .unspecified)
        object.time("changedAt", change.changedAt)
        object.int64("version", change.version)
        return object.json
    }

    static func user(_ user: User) -> JSON {
        var object = JSONObject()
        object.int64("id", user.id)
        object.string("username", user.username)
        object.enumeration("role", user.role.protoName, isDefault: user.role == .unspecified)
        object.bool("disabled", user.disabled)
        object.time("createdAt", user.createdAt)
        object.time("updatedAt", user.updatedAt)
        return object.json
    }

    /// A message with one field holding a message (`{"user": {...}}`).
    static func wrapping(_ name: String, _ value: JSON?) -> JSON {
        var object = JSONObject()
        object.message(name, value)
        return object.json
    }

    static func getEvent(_ response: GetEventResponse) -> JSON {
        var object = JSONObject()
        object.message("event", response.event.map(self.event))
        object.int64("alertId", response.alertId)
        return object.json
    }

    static func getAlert(_ response: GetAlertResponse) -> JSON {
        var object = JSONObject()
        object.message("alert", response.alert.map(self.alert))
        object.list("history", response.history.map(self.change))
        return object.json
    }

    static func stats(_ response: GetStatsResponse) -> JSON {
        func severities(_ counts: [SeverityCount]) -> [JSON] {
            counts.map {
                var object = JSONObject()
                object.enumeration("severity", $0.severity.protoName, isDefault: $0.severity == .unspecified)
                object.int64("count", $0.count)
                return object.json
            }
        }
        var object = JSONObject()
        object.int64("totalEvents", response.totalEvents)
        object.int64("totalAlerts", response.totalAlerts)
        object.list("eventsBySeverity", severities(response.eventsBySeverity))
        object.list("alertsByStatus", response.alertsByStatus.map {
            var count = JSONObject()
            count.enumeration("status", $0.status.protoName, isDefault: $0.status == .unspecified)
            count.int64("count", $0.count)
            return count.json
        })
        object.list("alertsBySeverity", severities(response.alertsBySeverity))
        return object.json
    }
}
