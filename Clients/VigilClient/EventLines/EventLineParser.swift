// One line of the JSON-lines event format that `vigilctl events ingest` reads and agents can reuse:
//
//   {"source_name": "web-01", "event_type": "ssh.login_failed", "severity": "High",
//    "description": "...", "occurred_at": "2026-11-25T10:00:00Z", "idempotency_key": "imp-1"}
//
// Strict on shape, because a silently dropped field in an import of security evidence is worse than a refused
// line: unknown keys (a typo such as "severty") and wrong JSON types are errors. The business rules (lengths,
// blank strings, times in the future) are the server's, which answers them per event; this parser only builds
// the message. Pure: bytes in, an Event or a reason out, so it can be fuzzed.
import Foundation
public import VigilAPI
import VigilTLS

/// Why a line was refused, with its 1-based number so a person can find it.
public struct EventLineError: Error, Sendable, Hashable, CustomStringConvertible {
    public let lineNumber: Int
    public let reason: String

    public init(lineNumber: Int, reason: String) {
        self.lineNumber = lineNumber
        self.reason = reason
    }

    public var description: String { "line \(self.lineNumber): \(self.reason)" }
}

public struct EventLineParser: Sendable {
    /// Keys a line may hold; anything else is refused.
    public static let knownKeys: Set<String> = [
        "source_name", "event_type", "severity", "description", "occurred_at", "idempotency_key",
    ]

    /// When true, a line without an `idempotency_key` gets one derived from a SHA-256 of the line's bytes, so
    /// importing the same file twice stores nothing twice.
    public var keyFromLine: Bool

    public init(keyFromLine: Bool = false) { self.keyFromLine = keyFromLine }

    /// Parses one line (without its newline; a trailing carriage return is ignored). Blank lines are not events:
    /// the reader skips them before calling this.
    public func parse(_ line: some Collection<UInt8>, lineNumber: Int) -> Result<Event, EventLineError> {
        var bytes = Array(line)
        if bytes.last == 0x0D { bytes.removeLast() }
        func refuse(_ reason: String) -> Result<Event, EventLineError> {
            .failure(EventLineError(lineNumber: lineNumber, reason: reason))
        }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                return refuse("not a JSON object")
            }
            object = parsed
        } catch {
            return refuse("not valid JSON")
        }
        if let unknown = object.keys.filter({ !Self.knownKeys.contains($0) }).sorted().first {
            return refuse("unknown key \"\(unknown)\" (known: \(Self.knownKeys.sorted().joined(separator: ", ")))")
        }
        var event = Event()
        for key in ["source_name", "event_type", "description"] {
            guard let value = object[key] else { return refuse("\"\(key)\" is missing") }
            guard let text = value as? String else { return refuse("\"\(key)\" must be a string") }
            switch key {
            case "source_name": event.sourceName = text
            case "event_type": event.eventType = text
            default: event.description = text
            }
        }
        guard let severityValue = object["severity"] else { return refuse("\"severity\" is missing") }
        guard let severityText = severityValue as? String, let severity = Self.severity(severityText) else {
            return refuse("\"severity\" must be one of low, medium, high, critical (any case)")
        }
        event.severity = severity
        if let value = object["occurred_at"], !(value is NSNull) {
            guard let text = value as? String, let timestamp = RFC3339.parse(text) else {
                return refuse("\"occurred_at\" must be an RFC 3339 time such as 2026-11-25T10:00:00Z")
            }
            event.occurredAt = timestamp
        }
        if let value = object["idempotency_key"], !(value is NSNull) {
            guard let key = value as? String else { return refuse("\"idempotency_key\" must be a string") }
            event.idempotencyKey = key
        } else if self.keyFromLine {
            event.idempotencyKey = Self.lineKey(bytes)
        }
        return .success(event)
    }

    /// `low`, `Low`, `LOW` and `SEVERITY_LOW` all name the same value.
    public static func severity(_ text: String) -> Severity? {
        var name = text.uppercased()
        if !name.hasPrefix("SEVERITY_") { name = "SEVERITY_" + name }
        guard let severity = Severity(protoName: name), severity != .unspecified else { return nil }
        return severity
    }

    /// "line-" and 32 hex digits of the SHA-256 of the line: short enough for the 64-byte key limit, and the
    /// same for the same line in any file or run.
    public static func lineKey(_ line: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        let hex = SHA256.hash(line).prefix(16).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] }
        return "line-" + String(hex)
    }
}
