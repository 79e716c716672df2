// EventValidator as a table: every rule of the business rules at its boundary (the last length accepted and the
// first refused), trimming, blank values, every severity, the 5-minute clock-skew limit and the idempotency key.
import Testing
import VigilAPI

@testable import VigilService

@Suite struct ServiceEventValidatorTests {
    static let now: Int64 = 1_800_000_000_000_000_000
    static let minute: Int64 = 60_000_000_000

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let event: Event
        /// nil: accepted.
        let rejection: EventValidationError.Reason?
        var testDescription: String { self.name }
    }

    static func event(_ change: (inout Event) -> Void) -> Event {
        var event = makeAPIEvent(.medium)
        change(&event)
        return event
    }

    static let cases: [Case] = [
        Case(name: "a plain event", event: event { _ in }, rejection: nil),
        Case(name: "source_name empty", event: event { $0.sourceName = "" }, rejection: .blankSourceName),
        Case(name: "source_name blank", event: event { $0.sourceName = " \t\n " }, rejection: .blankSourceName),
        Case(
            name: "source_name 255", event: event { $0.sourceName = String(repeating: "s", count: 255) }, rejection: nil
        ),
        Case(
            name: "source_name 255 plus spaces",
            event: event { $0.sourceName = "  " + String(repeating: "s", count: 255) + " " },
            rejection: nil),
        Case(
            name: "source_name 256", event: event { $0.sourceName = String(repeating: "s", count: 256) },
            rejection: .sourceNameTooLong),
        Case(
            name: "source_name 255 non-ASCII", event: event { $0.sourceName = String(repeating: "é", count: 255) },
            rejection: nil),
        Case(name: "event_type empty", event: event { $0.eventType = "" }, rejection: .blankEventType),
        Case(name: "event_type blank", event: event { $0.eventType = "\u{2003}" }, rejection: .blankEventType),
        Case(
            name: "event_type 100", event: event { $0.eventType = String(repeating: "t", count: 100) }, rejection: nil),
        Case(
            name: "event_type 101", event: event { $0.eventType = String(repeating: "t", count: 101) },
            rejection: .eventTypeTooLong),
        Case(name: "severity unspecified", event: event { $0.severity = .unspecified }, rejection: .invalidSeverity),
        Case(
            name: "severity unknown number", event: event { $0.severity = Severity(rawValue: 9) },
            rejection: .invalidSeverity),
        Case(name: "severity low", event: event { $0.severity = .low }, rejection: nil),
        Case(name: "severity high", event: event { $0.severity = .high }, rejection: nil),
        Case(name: "severity critical", event: event { $0.severity = .critical }, rejection: nil),
        Case(name: "description empty", event: event { $0.description = "" }, rejection: .blankDescription),
        Case(name: "description blank", event: event { $0.description = "  \n" }, rejection: .blankDescription),
        Case(
            name: "description 64 KiB", event: event { $0.description = String(repeating: "d", count: 65_536) },
            rejection: nil),
        Case(
            name: "description 64 KiB + 1", event: event { $0.description = String(repeating: "d", count: 65_537) },
            rejection: .descriptionTooLong),
        Case(name: "occurred_at absent", event: event { $0.occurredAt = nil }, rejection: nil),
        Case(
            name: "occurred_at in the past",
            event: event { $0.occurredAt = Timestamp(unixNanoseconds: now - 86_400 * 1_000_000_000) }, rejection: nil),
        Case(
            name: "occurred_at +5 min", event: event { $0.occurredAt = Timestamp(unixNanoseconds: now + 5 * minute) },
            rejection: nil),
        Case(
            name: "occurred_at +5 min + 1 ns",
            event: event { $0.occurredAt = Timestamp(unixNanoseconds: now + 5 * minute + 1) },
            rejection: .occurredInFuture),
        Case(
            name: "occurred_at invalid nanos", event: event { $0.occurredAt = Timestamp(seconds: 1, nanos: -1) },
            rejection: .invalidOccurredAt),
        Case(
            name: "occurred_at year 10000", event: event { $0.occurredAt = Timestamp(seconds: 253_402_300_800) },
            rejection: .invalidOccurredAt),
        Case(
            name: "idempotency_key 64 bytes", event: event { $0.idempotencyKey = String(repeating: "k", count: 64) },
            rejection: nil),
        Case(
            name: "idempotency_key 65 bytes", event: event { $0.idempotencyKey = String(repeating: "k", count: 65) },
            rejection: .idempotencyKeyTooLong),
        Case(
            name: "idempotency_key 33 two-byte characters",
            event: event { $0.idempotencyKey = String(repeating: "é", count: 33) },
            rejection: .idempotencyKeyTooLong),
        Case(name: "id set", event: event { $0.id = 5 }, rejection: .serverAssignedField),
        Case(
            name: "received_at set", event: event { $0.receivedAt = Timestamp(seconds: 1) },
            rejection: .serverAssignedField),
        Case(
            name: "submitted_by_user_id set", event: event { $0.submittedByUserId = 1 }, rejection: .serverAssignedField
        ),
        Case(
            name: "submitted_by_username set", event: event { $0.submittedByUsername = "x" },
            rejection: .serverAssignedField),
    ]

    @Test("each rule at its boundary", arguments: cases)
    func rules(_ testCase: Case) {
        let result = EventValidator().validate(testCase.event, receivedAt: Self.now)
        switch result {
        case .success:
            #expect(testCase.rejection == nil)
        case .failure(let error):
            #expect(error.reason == testCase.rejection)
            #expect(!error.message.isEmpty)
        }
    }

    @Test("every reason is covered by the table")
    func everyReasonCovered() {
        let covered = Set(Self.cases.compactMap(\.rejection))
        #expect(covered == Set(EventValidationError.Reason.allCases))
    }

    @Test("names are trimmed, the description and key kept as sent, occurred_at converted")
    func normalises() throws {
        var event = makeAPIEvent(.high, source: "  web-01\n", type: "\tssh.login ", description: "  indented\n")
        event.occurredAt = Timestamp(seconds: 1_700_000_000, nanos: 5)
        event.idempotencyKey = " key "
        let stored = try EventValidator().validate(event, receivedAt: Self.now).get()
        #expect(stored.sourceName == "web-01")
        #expect(stored.eventType == "ssh.login")
        #expect(stored.description == "  indented\n")
        #expect(stored.occurredAt == 1_700_000_000_000_000_005)
        #expect(stored.idempotencyKey == " key ")
        #expect(stored.severity == .high)
        var keyless = makeAPIEvent(.low)
        keyless.idempotencyKey = ""
        #expect(try EventValidator().validate(keyless, receivedAt: Self.now).get().idempotencyKey == nil)
    }

    @Test("the ASCII fast path trims, counts and finds blanks exactly as the Unicode definition does")
    func asciiFastPathMatchesUnicode() {
        func reference(_ text: String) -> String {
            let scalars = text.unicodeScalars
            guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
                let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
            else { return "" }
            return String(scalars[first...last])
        }
        let pieces = [
            "", " ", "\t", "\n", "\u{0B}", "\u{0C}", "\r", "\u{1C}", "a", "web-01", "é", "\u{A0}", "\u{3000}", "\u{85}",
            "\u{2028}", "x y", "🙂",
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 0...5, using: &generator)).map { _ in
                pieces.randomElement(using: &generator) ?? ""
            }.joined()
            #expect(EventValidator.trimmed(text) == reference(text), "\(text.unicodeScalars.map(\.value))")
            #expect(EventValidator.scalarCount(text) == text.unicodeScalars.count)
            #expect(EventValidator.isBlank(text) == reference(text).isEmpty, "\(text.unicodeScalars.map(\.value))")
        }
    }
}
