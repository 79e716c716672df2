// The blob of an `event_batches` row (EventBatchRecord): what the builder writes the reader gives back, an
// independent parser (the tests' own StoredEventBatches, what the crash checker uses) and protoc read the same
// events, and damaged blobs are refused with an error, never a crash or a read outside the blob.
import Testing
import VigilAPI
import VigilTesting
import VigilWire

@testable import VigilService

@Suite struct EventBatchRecordTests {
    static func event(_ id: Int64, source: String = "web-01", severity: Severity = .high) -> Event {
        var event = Event()
        event.id = id
        event.sourceName = source
        event.eventType = "ssh.login_failed"
        event.severity = severity
        event.description = "event \(id) — ünïcode"
        event.occurredAt = Timestamp(unixNanoseconds: 1_764_000_000_000_000_000 + id)
        event.receivedAt = Timestamp(unixNanoseconds: 1_764_000_001_000_000_000)
        event.submittedByUserId = 3
        event.submittedByUsername = "agent-web"
        event.idempotencyKey = id % 2 == 0 ? "key-\(id)" : ""
        return event
    }

    /// Ids with gaps, as retention leaves them when it rewrites a batch.
    static let ids: [Int64] = [1_000, 1_001, 1_005, 1_006, 70_000]

    static func blob() -> (events: [Event], bytes: [UInt8]) {
        var builder = EventBatchBuilder()
        let events = Self.ids.map { Self.event($0, source: "web-0\($0 % 3)") }
        for event in events { builder.append(event) }
        #expect(builder.firstID == 1_000 && builder.lastID == 70_000 && builder.count == events.count)
        return (events, builder.encoded())
    }

    @Test("a built blob reads back every event, finds each id and only those")
    func roundTrip() throws {
        let (events, bytes) = Self.blob()
        let record = try EventBatchRecord(firstID: 1_000, bytes: bytes)
        #expect(record.count == events.count && record.lastID == 70_000)
        for (index, event) in events.enumerated() {
            #expect(record.id(at: index) == event.id)
            #expect(record.index(of: event.id) == index)
            #expect(try record.event(at: index) == event)
        }
        for absent: Int64 in [0, 999, 1_002, 1_004, 69_999, 70_001, .max, .min] {
            #expect(record.index(of: absent) == nil, "\(absent)")
        }
    }

    @Test("a header read alone locates each event's bytes in the blob, and decodes nothing itself")
    func headerOnly() throws {
        let (events, bytes) = Self.blob()
        let length = try #require(EventBatchRecord.headerLength(of: Array(bytes.prefix(5))))
        #expect(length == 5 + 8 * events.count)
        let header = try EventBatchRecord(firstID: 1_000, prefix: Array(bytes.prefix(length)), blobLength: bytes.count)
        let whole = try EventBatchRecord(firstID: 1_000, bytes: bytes)
        for (index, event) in events.enumerated() {
            let range = header.encodingRange(at: index)
            #expect(try EventBatchRecord.decode(bytes[range], id: event.id) == event)
            #expect(whole.encoding(at: index) == bytes[range])
            #expect(header.encoding(at: index) == nil)
        }
        #expect(throws: StoreError.self) { try header.event(at: 0) }
        // A blob said to be longer or shorter than its offsets add up to is damaged.
        for wrongLength in [bytes.count - 1, bytes.count + 1] {
            #expect(throws: StoreError.self) {
                try EventBatchRecord(firstID: 1_000, prefix: Array(bytes.prefix(length)), blobLength: wrongLength)
            }
        }
        #expect(EventBatchRecord.headerLength(of: [2, 1, 0, 0, 0]) == nil)
    }

    @Test("the tests' own parser reads the same events as the store's reader")
    func independentParser() throws {
        let (events, bytes) = Self.blob()
        #expect(try StoredEventBatches.parse(firstID: 1_000, bytes) == events)
        let hex = bytes.map { String($0, radix: 16, uppercase: true) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        #expect(try StoredEventBatches.parse(rows: ["1000|" + hex]) == events)
    }

    @Test("protoc decodes one event's bytes of a blob as a vigil.v1.Event", .enabled(if: Protoc.isInstalled))
    func protocReadsAnEvent() throws {
        let (_, bytes) = Self.blob()
        let record = try EventBatchRecord(firstID: 1_000, bytes: bytes)
        let result = try Protoc.decode(Array(try #require(record.encoding(at: 2))), as: "vigil.v1.Event")
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText.contains("id: 1005"))
        #expect(result.stdoutText.contains("source_name: \"web-00\""), "1005 % 3 == 0")
    }

    @Test("damaged blobs are refused as internal errors")
    func damaged() throws {
        let (_, bytes) = Self.blob()
        var wrongVersion = bytes
        wrongVersion[0] = 2
        var hugeCount = bytes
        hugeCount[4] = 0xFF
        var unorderedIDs = bytes
        unorderedIDs[9] = 0  // the second id's offset becomes 0, equal to the first's
        var shortEnd = bytes
        shortEnd[5 + 4 * Self.ids.count + 4 * (Self.ids.count - 1)] &-= 1
        var wrongID = bytes
        wrongID[5 + 4 * 4] &+= 1  // the last event's id no longer matches the id inside its encoding
        for blob in [[], [1], Array(bytes.prefix(20)), wrongVersion, hugeCount, unorderedIDs, shortEnd] {
            #expect(throws: StoreError.self) { try EventBatchRecord(firstID: 1_000, bytes: blob) }
        }
        let record = try EventBatchRecord(firstID: 1_000, bytes: wrongID)
        #expect(throws: StoreError.self) { try record.event(at: 4) }
    }

    @Test("random damage never crashes the reader")
    func randomDamage() throws {
        let (_, bytes) = Self.blob()
        var random = SplitMix64(seed: 0xBA7C4)
        for _ in 0..<5_000 {
            var blob = bytes
            for _ in 0..<(1 + Int(random.next() % 4)) {
                blob[Int(random.next() % UInt64(blob.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            if random.next() % 4 == 0 { blob.removeLast(Int(random.next() % UInt64(blob.count))) }
            guard let record = try? EventBatchRecord(firstID: 1_000, bytes: blob) else { continue }
            for index in 0..<record.count {
                _ = try? record.event(at: index)
                _ = record.index(of: record.id(at: index))
            }
        }
    }
}

/// StoredEventFields, the scan the events tail and the postings reader use instead of decoding: it must read what
/// the decoder reads, and refuse what the decoder refuses.
@Suite struct StoredEventFieldsTests {
    @Test("scanned fields equal the decoded event's, for random events, unknown fields and absent times")
    func scanEqualsDecode() throws {
        var random = SplitMix64(seed: 0x5CA9)
        for round in 0..<2_000 {
            var event = Event()
            event.id = Int64(bitPattern: random.next())
            event.sourceName = String(repeating: "s", count: Int(random.next() % 40)) + "é"
            event.eventType = round % 7 == 0 ? "" : "type-\(random.next() % 64)"
            event.severity = Severity(rawValue: Int32(truncatingIfNeeded: random.next() % 6))
            event.description = String(repeating: "d", count: Int(random.next() % 300))
            if round % 5 != 0 {
                event.occurredAt = Timestamp(
                    seconds: Int64(bitPattern: random.next()) % 400_000_000_000,
                    nanos: Int32(random.next() % 1_000_000_000))
            }
            event.receivedAt = Timestamp(unixNanoseconds: Int64(bitPattern: random.next()))
            event.submittedByUsername = "agent"
            var bytes = event.serializedBytes()
            if round % 3 == 0 {
                bytes += [0xF8, 0x07, 0x2A]  // field 127, varint 42: unknown, skipped
                bytes += [0xFD, 0x07, 1, 2, 3, 4]  // field 127, fixed32
            }
            let padded = [0xAA, 0xBB] + bytes + [0xCC]
            let fields = try #require(StoredEventFields.scan(padded, 2..<(2 + bytes.count)))
            let decoded = try Event(serializedBytes: bytes)
            #expect(fields.severity == decoded.severity.rawValue)
            #expect(fields.occurredAt == (decoded.occurredAt?.unixNanoseconds ?? 0))
            #expect(String(decoding: padded[fields.source], as: UTF8.self) == decoded.sourceName)
            #expect(String(decoding: padded[fields.type], as: UTF8.self) == decoded.eventType)
        }
    }

    @Test("a truncated or malformed encoding scans as nil, never past its range")
    func malformed() {
        var event = Event()
        event.id = 7
        event.sourceName = "web-01"
        event.occurredAt = Timestamp(unixNanoseconds: 1_000)
        let bytes = event.serializedBytes()
        for cut in 1..<bytes.count {
            // A prefix either scans (it ended between fields) or is refused; nothing past the range is read.
            let prefix = Array(bytes.prefix(cut)) + [0x12, 0x7F]
            if let fields = StoredEventFields.scan(prefix, 0..<cut) {
                #expect(fields.source.upperBound <= cut && fields.type.upperBound <= cut)
            }
        }
        #expect(StoredEventFields.scan([0x12, 0x05, 0x61], 0..<3) == nil, "length past the end")
        #expect(StoredEventFields.scan([0xFF, 0xFF, 0xFF], 0..<3) == nil, "unterminated varint")
        #expect(StoredEventFields.scan([0x0B], 0..<1) == nil, "a group (wire type 3)")
        #expect(StoredEventFields.scan([0x32, 0x02, 0x08], 0..<3) == nil, "a timestamp cut short")
    }
}
