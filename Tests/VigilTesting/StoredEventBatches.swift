// Reading stored events from a database file the way an operator would, with the sqlite3 CLI: each row of
// `event_batches` as `first_id|hex(events)`, parsed here from the blob's documented layout (docs/STORAGE.md, "A row
// per acknowledged batch"), by code of the tests' own rather than the server's, so a fault in the server's reader
// cannot hide one in its writer: version 1 (u8), count (u32), count u32 id offsets from first_id, count u32 end
// offsets, then each event's vigil.v1.Event encoding; integers little-endian.
public import VigilAPI
import VigilWire

public enum StoredEventBatches {
    /// What to hand sqlite3 (`-batch -noheader`); its output lines go to `parse(rows:)`.
    public static let query = "SELECT first_id, hex(events) FROM event_batches ORDER BY first_id;"

    public struct Damaged: Error, CustomStringConvertible {
        public let description: String
    }

    /// Every event of the rows, in id order.
    public static func parse(rows: [String]) throws -> [Event] {
        var events: [Event] = []
        for line in rows where !line.isEmpty {
            let fields = line.split(separator: "|", maxSplits: 1)
            guard fields.count == 2, let firstID = Int64(fields[0]), let blob = Self.bytes(hex: fields[1]) else {
                throw Damaged(description: "unreadable batch row: \(line.prefix(80))")
            }
            events += try Self.parse(firstID: firstID, blob)
        }
        return events
    }

    /// The events of one blob.
    public static func parse(firstID: Int64, _ blob: [UInt8]) throws -> [Event] {
        func u32(_ offset: Int) throws -> Int {
            guard offset + 4 <= blob.count else { throw Damaged(description: "batch \(firstID) is truncated") }
            return (0..<4).reduce(0) { value, byte in value | Int(blob[offset + byte]) << (8 * byte) }
        }
        guard blob.first == 1 else { throw Damaged(description: "batch \(firstID) has an unknown version") }
        let count = try u32(1)
        let body = 5 + 8 * count
        var events: [Event] = []
        var start = 0
        for index in 0..<count {
            let end = try u32(5 + 4 * count + 4 * index)
            guard start <= end, body + end <= blob.count else {
                throw Damaged(description: "batch \(firstID): event \(index) is out of bounds")
            }
            let event = try Event(serializedBytes: Array(blob[(body + start)..<(body + end)]))
            guard event.id == firstID + Int64(try u32(5 + 4 * index)) else {
                throw Damaged(description: "batch \(firstID): event \(index) holds id \(event.id)")
            }
            events.append(event)
            start = end
        }
        return events
    }

    static func bytes(hex: Substring) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
