// The per-event rules of ingest, as a pure function of the decoded event and the receipt time: no store, no clock,
// no RPC state, so every rule is tested exhaustively as a table and the ingest path (this simple one and the
// group-commit one that replaces it) applies exactly the same rules. A refused event is reported in the batch's ack
// (index, INVALID_ARGUMENT, reason) and never ends the stream.
public import VigilAPI
import VigilWire

/// Validates and normalises events submitted for ingest.
public struct EventValidator: Sendable {
    /// `source_name`: at most 255 characters after trimming.
    public static let maximumSourceNameLength = 255
    /// `event_type`: at most 100 characters after trimming.
    public static let maximumEventTypeLength = 100
    /// `description`: at most 64 KiB of UTF-8.
    public static let maximumDescriptionBytes = 64 * 1024
    /// `idempotency_key`: at most 64 bytes of UTF-8.
    public static let maximumIdempotencyKeyBytes = 64
    /// `occurred_at` may be at most this far after receipt (agents' clocks drift; the future beyond it is a bug).
    public static let maximumClockSkewNanoseconds: Int64 = 5 * 60 * 1_000_000_000

    public init() {}

    /// The event to store, or why not. `receivedAt` is the server's receipt time in nanoseconds since the epoch.
    ///
    /// Lengths of names count Unicode scalars, as the Django original's `max_length` (Python `len`) did, so limits
    /// mean the same to migrated clients.
    public func validate(_ event: Event, receivedAt: Int64) -> Result<NewEvent, EventValidationError> {
        // The server assigns these; an agent that sets them is confused about who decides, so say so.
        guard event.id == 0, event.receivedAt == nil, event.submittedByUserId == 0,
            event.submittedByUsernameUTF8.isEmpty
        else {
            return .failure(.init(.serverAssignedField, "id, received_at and submitted_by_* are set by the server"))
        }
        let source = Self.trimmed(event.sourceName)
        guard !source.isEmpty else { return .failure(.init(.blankSourceName, "source_name is required")) }
        guard Self.scalarCount(source) <= Self.maximumSourceNameLength else {
            return .failure(
                .init(.sourceNameTooLong, "source_name is longer than \(Self.maximumSourceNameLength) characters"))
        }
        let type = Self.trimmed(event.eventType)
        guard !type.isEmpty else { return .failure(.init(.blankEventType, "event_type is required")) }
        guard Self.scalarCount(type) <= Self.maximumEventTypeLength else {
            return .failure(
                .init(.eventTypeTooLong, "event_type is longer than \(Self.maximumEventTypeLength) characters"))
        }
        switch event.severity {
        case .low, .medium, .high, .critical: break
        default:
            return .failure(.init(.invalidSeverity, "severity must be LOW, MEDIUM, HIGH or CRITICAL"))
        }
        // The description is kept as sent (whitespace can matter in a log excerpt), but must say something.
        guard event.descriptionUTF8.utf8Count <= Self.maximumDescriptionBytes else {
            return .failure(
                .init(.descriptionTooLong, "description is longer than \(Self.maximumDescriptionBytes) bytes"))
        }
        let description = event.description
        guard !Self.isBlank(description) else {
            return .failure(.init(.blankDescription, "description is required"))
        }
        var occurredAt: Int64?
        if let timestamp = event.occurredAt {
            guard timestamp.isValid else {
                return .failure(.init(.invalidOccurredAt, "occurred_at is not a valid timestamp"))
            }
            let nanoseconds = timestamp.unixNanoseconds
            let (limit, overflow) = receivedAt.addingReportingOverflow(Self.maximumClockSkewNanoseconds)
            guard overflow || nanoseconds <= limit else {
                return .failure(.init(.occurredInFuture, "occurred_at is more than 5 minutes after receipt"))
            }
            occurredAt = nanoseconds
        }
        guard event.idempotencyKeyUTF8.utf8Count <= Self.maximumIdempotencyKeyBytes else {
            return .failure(
                .init(.idempotencyKeyTooLong, "idempotency_key is longer than \(Self.maximumIdempotencyKeyBytes) bytes")
            )
        }
        return .success(
            NewEvent(
                sourceName: source,
                eventType: type,
                severity: event.severity,
                description: description,
                occurredAt: occurredAt,
                idempotencyKey: event.idempotencyKeyUTF8.isEmpty ? nil : event.idempotencyKey
            ))
    }

    /// Without leading and trailing whitespace and newlines (Unicode's definition, as Python's `str.strip`).
    /// Agents' names are nearly always ASCII, and on the ingest path this runs twice per event: ASCII text is
    /// trimmed on its bytes (and returned as is when there is nothing to trim) without Unicode property lookups.
    static func trimmed(_ text: String) -> String {
        if UTF8Validation.isASCII(text) {
            let bytes = text.utf8
            // The common case, a name with nothing to trim, is settled by its first and last byte.
            guard let head = bytes.first, let tail = bytes.last else { return text }
            if !Self.isASCIIWhitespace(head) && !Self.isASCIIWhitespace(tail) { return text }
            guard let first = bytes.firstIndex(where: { !Self.isASCIIWhitespace($0) }),
                let last = bytes.lastIndex(where: { !Self.isASCIIWhitespace($0) })
            else { return "" }
            return String(text[first...last])
        }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}

extension EventValidator {
    /// True when `text` is empty or only whitespace (as `trimmed(text).isEmpty`), deciding at the first character
    /// that is not ASCII whitespace: a description of kilobytes is usually settled by its first byte.
    static func isBlank(_ text: String) -> Bool {
        let bytes = text.utf8
        guard let first = bytes.firstIndex(where: { !Self.isASCIIWhitespace($0) }) else { return true }
        if bytes[first] < 0x80 { return false }
        // Non-ASCII from here on: Unicode decides (U+00A0, U+3000 and friends are whitespace too).
        return text.unicodeScalars[first...].allSatisfy(\.properties.isWhitespace)
    }

    /// The ASCII characters with Unicode's White_Space property: tab, line feed, vertical tab, form feed, carriage
    /// return and space.
    static func isASCIIWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// Unicode scalars in `text` (what the length limits count); for ASCII, its byte count.
    static func scalarCount(_ text: String) -> Int {
        UTF8Validation.isASCII(text) ? text.utf8.count : text.unicodeScalars.count
    }
}

/// Why one event was refused. Every reason answers INVALID_ARGUMENT; `reason` says which rule, for tests and logs.
public struct EventValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable, CaseIterable {
        case serverAssignedField
        case blankSourceName
        case sourceNameTooLong
        case blankEventType
        case eventTypeTooLong
        case invalidSeverity
        case blankDescription
        case descriptionTooLong
        case invalidOccurredAt
        case occurredInFuture
        case idempotencyKeyTooLong
    }

    public let reason: Reason
    /// A sentence for the agent's operator; never quotes the event's content.
    public let message: String

    init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { self.message }
}
