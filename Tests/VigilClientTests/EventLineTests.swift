// The JSON-lines event format of `vigilctl events ingest`: what a line becomes, every way a line is refused (with
// its number), RFC 3339 times exact to the nanosecond, and line splitting that does not depend on how the bytes
// arrive.
import Foundation
import Testing
import VigilAPI
import VigilClient
import VigilTesting

@Suite struct EventLineTests {
    static func parse(_ line: String, keyFromLine: Bool = false) -> Result<Event, EventLineError> {
        EventLineParser(keyFromLine: keyFromLine).parse(Array(line.utf8), lineNumber: 7)
    }

    @Test("a full line becomes the event it describes")
    func fullLine() throws {
        let line = #"{"source_name":"web-01","event_type":"ssh.login_failed","severity":"High","#
            + #""description":"5 failed logins","occurred_at":"2026-11-25T10:00:00.25Z","idempotency_key":"imp-1"}"#
        let event = try Self.parse(line).get()
        #expect(event.sourceName == "web-01")
        #expect(event.eventType == "ssh.login_failed")
        #expect(event.severity == .high)
        #expect(event.description == "5 failed logins")
        #expect(event.occurredAt == Timestamp(seconds: 1_795_600_800, nanos: 250_000_000))
        #expect(event.idempotencyKey == "imp-1")
    }

    @Test("severity is case-insensitive and may carry the enum prefix", arguments: [
        ("low", Severity.low), ("MEDIUM", .medium), ("High", .high), ("cRiTiCaL", .critical), ("SEVERITY_LOW", .low),
    ])
    func severity(text: String, expected: Severity) {
        #expect(EventLineParser.severity(text) == expected)
    }

    static let refused: [(line: String, reason: String)] = [
        ("not json", "not valid JSON"),
        ("[1,2]", "not a JSON object"),
        (#"{"source_name":"a","event_type":"b","severity":"low"}"#, "\"description\" is missing"),
        (#"{"source_name":1,"event_type":"b","severity":"low","description":"d"}"#, "\"source_name\" must be a string"),
        (#"{"source_name":"a","event_type":"b","severity":"severe","description":"d"}"#, "\"severity\" must be one of"),
        (#"{"source_name":"a","event_type":"b","severity":"unspecified","description":"d"}"#, "\"severity\" must be"),
        (#"{"source_name":"a","event_type":"b","severity":"low","description":"d","severty":"x"}"#, "unknown key \"severty\""),
        (#"{"source_name":"a","event_type":"b","severity":"low","description":"d","occurred_at":"yesterday"}"#, "RFC 3339"),
        (#"{"source_name":"a","event_type":"b","severity":"low","description":"d","idempotency_key":5}"#, "must be a string"),
    ]

    @Test("a malformed line is refused with its number and the reason", arguments: refused.indices)
    func refusal(index: Int) {
        let (line, reason) = Self.refused[index]
        guard case .failure(let error) = Self.parse(line) else {
            Issue.record("accepted: \(line)")
            return
        }
        #expect(error.lineNumber == 7)
        #expect(error.reason.contains(reason), "\(error)")
    }

    @Test("--key-from-line gives the same line the same key, and leaves explicit keys alone")
    func keyFromLine() throws {
        let line = #"{"source_name":"a","event_type":"b","severity":"low","description":"d"}"#
        let first = try Self.parse(line, keyFromLine: true).get()
        let again = try Self.parse(line + "\r", keyFromLine: true).get()
        let other = try Self.parse(line.replacingOccurrences(of: "\"d\"", with: "\"e\""), keyFromLine: true).get()
        #expect(first.idempotencyKey.hasPrefix("line-") && first.idempotencyKey.utf8.count == 37)
        #expect(again.idempotencyKey == first.idempotencyKey)
        #expect(other.idempotencyKey != first.idempotencyKey)
        #expect(try Self.parse(line, keyFromLine: false).get().idempotencyKey.isEmpty)
    }

    static let times: [(text: String, seconds: Int64, nanos: Int32)] = [
        ("1970-01-01T00:00:00Z", 0, 0), ("2026-11-25T10:00:00Z", 1_795_600_800, 0),
        ("2026-11-25t11:00:00+01:00", 1_795_600_800, 0), ("2026-11-25T09:30:00.000000001-00:30", 1_795_600_800, 1),
        ("2000-02-29T23:59:59.999999999Z", 951_868_799, 999_999_999), ("1969-12-31T23:59:59.5Z", -1, 500_000_000),
        ("0001-01-01T00:00:00Z", -62_135_596_800, 0), ("9999-12-31T23:59:59Z", 253_402_300_799, 0),
    ]

    @Test("RFC 3339 times parse to the exact instant", arguments: times.indices)
    func rfc3339(index: Int) {
        let (text, seconds, nanos) = Self.times[index]
        #expect(RFC3339.parse(text) == Timestamp(seconds: seconds, nanos: nanos), "\(text)")
    }

    @Test("RFC 3339 refuses what is not exactly a date, a time and an offset", arguments: [
        "2026-11-25", "2026-11-25T10:00:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-11-25T24:00:00Z",
        "2026-11-25T10:00:60Z", "2026-11-25T10:00:00.Z", "2026-11-25T10:00:00.1234567890Z", "2026-11-25T10:00:00+24:00",
        "2026-11-25 10:00:00Z", "2026-11-25T10:00:00Zjunk", "+2026-11-25T10:00:00Z", "",
    ])
    func rfc3339Refusal(text: String) {
        #expect(RFC3339.parse(text) == nil, "\(text)")
    }

    @Test("formatting and parsing RFC 3339 round-trip random instants")
    func rfc3339RoundTrip() {
        var generator = SplitMix64(seed: 0x3339)
        for _ in 0..<5000 {
            let seconds = Int64(generator.next() % 253_402_300_800) - 62_135_596_800
            let timestamp = Timestamp(seconds: seconds, nanos: Int32(generator.next() % 1_000_000_000))
            #expect(RFC3339.parse(RFC3339.format(timestamp)) == timestamp, "\(RFC3339.format(timestamp))")
        }
        #expect(RFC3339.format(Timestamp(seconds: 1_795_600_800, nanos: 250_000_000)) == "2026-11-25T10:00:00.25Z")
    }

    @Test("lines split the same whether bytes come whole, byte by byte or in random chunks")
    func splitting() {
        let text = Array("first\r\n\n  \nsecond line\nthird without newline".utf8)
        let expected: [LineSplitter.Item] = [
            .line(number: 1, bytes: Array("first\r".utf8)), .line(number: 4, bytes: Array("second line".utf8)),
            .line(number: 5, bytes: Array("third without newline".utf8)),
        ]
        var whole = LineSplitter()
        #expect(whole.feed(text) + whole.finish() == expected)
        var bytewise = LineSplitter()
        #expect(text.flatMap { bytewise.feed([$0]) } + bytewise.finish() == expected)
        var generator = SplitMix64(seed: 42)
        for _ in 0..<200 {
            var chunked = LineSplitter()
            var items: [LineSplitter.Item] = []
            var index = 0
            while index < text.count {
                let size = 1 + Int(generator.next() % 9)
                items += chunked.feed(text[index..<min(text.count, index + size)])
                index += size
            }
            #expect(items + chunked.finish() == expected)
        }
    }

    @Test("a line over the limit is reported, dropped, and the next line reads normally")
    func longLine() {
        var splitter = LineSplitter(maximumLineBytes: 8)
        let items = splitter.feed(Array("short\nthis line is too long\nok\n".utf8)) + splitter.finish()
        #expect(items == [.line(number: 1, bytes: Array("short".utf8)), .tooLong(number: 2), .line(number: 3, bytes: Array("ok".utf8))])
    }

    @Test("the reader turns a file into events and numbered refusals, in order")
    func reader() throws {
        let directory = try TemporaryDirectory(prefix: "vigil-lines")
        let good = #"{"source_name":"a","event_type":"b","severity":"critical","description":"d"}"#
        try Data((good + "\n" + "oops\n\n" + good).utf8).write(to: URL(fileURLWithPath: directory.file("events.jsonl")))
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: directory.file("events.jsonl")))
        let results = Array(EventLineReader(handle: handle))
        #expect(results.count == 3)
        #expect((try? results[0].get())?.lineNumber == 1)
        #expect((try? results[0].get())?.event.severity == .critical)
        if case .failure(let error) = results[1] { #expect(error.lineNumber == 2) } else { Issue.record("line 2 accepted") }
        #expect((try? results[2].get())?.lineNumber == 4)
    }
}
