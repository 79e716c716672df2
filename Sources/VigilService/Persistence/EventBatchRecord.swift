// The `events` blob of one `event_batches` row (docs/STORAGE.md, "A row per acknowledged batch"): the events one
// ingest batch stored, as one immutable value, so acknowledging a batch costs one B-tree insert instead of one per
// event. Layout, little-endian:
//
//     version (u8, 1) | count (u32) | count × id - first_id (u32, ascending) | count × end offset (u32) | events
//
// where `events` is each event's `vigil.v1.Event` encoding back to back (`protoc --decode vigil.v1.Event` reads any
// one of them) and event i spans [end(i-1), end(i)) of it. The two tables let a reader find and decode one event
// without the others. Pure: no SQLite here; SQLiteStore+EventBatches reads and writes the rows.
import VigilAPI
import VigilWire

/// Builds a blob: events are appended in ascending id order.
struct EventBatchBuilder {
    private(set) var firstID: Int64?
    private(set) var lastID: Int64 = 0
    private var idDeltas: [UInt32] = []
    private var ends: [UInt32] = []
    private var body: [UInt8] = []

    init(capacity: Int = 0) {
        self.idDeltas.reserveCapacity(capacity)
        self.ends.reserveCapacity(capacity)
        self.body.reserveCapacity(capacity * 160)
    }

    var count: Int { self.idDeltas.count }
    var isEmpty: Bool { self.idDeltas.isEmpty }

    /// Appends `event` (its `id` set, above every id appended so far); returns its encoding's range in the body, for
    /// `encoding(in:)`.
    @discardableResult
    mutating func append(_ event: Event) -> Range<Int> {
        let first = self.firstID ?? event.id
        self.firstID = first
        self.lastID = event.id
        self.idDeltas.append(UInt32(truncatingIfNeeded: event.id - first))
        let start = self.body.count
        event.appendSerialized(to: &self.body)
        self.ends.append(UInt32(truncatingIfNeeded: self.body.count))
        return start..<self.body.count
    }

    /// Appends an event already encoded (retention keeping the rest of a batch).
    mutating func append(id: Int64, encoding: ArraySlice<UInt8>) {
        let first = self.firstID ?? id
        self.firstID = first
        self.lastID = id
        self.idDeltas.append(UInt32(truncatingIfNeeded: id - first))
        self.body += encoding
        self.ends.append(UInt32(truncatingIfNeeded: self.body.count))
    }

    /// The encoding of an appended event (what an alert row keeps of its event).
    func encoding(in range: Range<Int>) -> [UInt8] {
        Array(self.body[range])
    }

    /// True while the next event `id` can still join: ids fit the u32 deltas and the body its u32 offsets.
    func accepts(id: Int64) -> Bool {
        guard let first = self.firstID else { return true }
        return id > self.lastID && id - first <= Int64(UInt32.max) && self.body.count < Int(UInt32.max / 2)
    }

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(5 + 8 * self.idDeltas.count + self.body.count)
        bytes.append(EventBatchRecord.version)
        EventBatchRecord.appendU32(UInt32(self.idDeltas.count), to: &bytes)
        for delta in self.idDeltas { EventBatchRecord.appendU32(delta, to: &bytes) }
        for end in self.ends { EventBatchRecord.appendU32(end, to: &bytes) }
        bytes += self.body
        return bytes
    }
}

/// Reads a blob. Every offset is checked once here, so the accessors cannot read outside it; a damaged blob is an
/// `internal` error, never a crash.
struct EventBatchRecord: Sendable {
    static let version: UInt8 = 1

    let firstID: Int64
    let count: Int
    private let bytes: [UInt8]
    private let bodyStart: Int

    init(firstID: Int64, bytes: [UInt8]) throws(StoreError) {
        guard bytes.count >= 5, bytes[0] == Self.version else {
            throw StoreError(.internal, "damaged event batch \(firstID): unknown version or truncated header")
        }
        let count = Int(Self.u32(bytes, at: 1))
        let bodyStart = 5 + 8 * count
        guard count > 0, bytes.count >= bodyStart else {
            throw StoreError(.internal, "damaged event batch \(firstID): \(count) events do not fit")
        }
        var previousDelta: UInt32 = 0
        var previousEnd: UInt32 = 0
        for index in 0..<count {
            let delta = Self.u32(bytes, at: 5 + 4 * index)
            let end = Self.u32(bytes, at: 5 + 4 * count + 4 * index)
            guard (index == 0 ? delta == 0 : delta > previousDelta), end >= previousEnd else {
                throw StoreError(.internal, "damaged event batch \(firstID): ids or offsets out of order")
            }
            previousDelta = delta
            previousEnd = end
        }
        guard Int(previousEnd) == bytes.count - bodyStart else {
            throw StoreError(.internal, "damaged event batch \(firstID): events end at \(previousEnd)")
        }
        self.firstID = firstID
        self.count = count
        self.bytes = bytes
        self.bodyStart = bodyStart
    }

    var lastID: Int64 { self.id(at: self.count - 1) }

    func id(at index: Int) -> Int64 {
        self.firstID + Int64(Self.u32(self.bytes, at: 5 + 4 * index))
    }

    /// The position of `id` in the batch, nil when the batch does not hold it.
    func index(of id: Int64) -> Int? {
        guard id >= self.firstID, id - self.firstID <= Int64(UInt32.max) else { return nil }
        var low = 0
        var high = self.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let found = self.id(at: middle)
            if found == id { return middle }
            if found < id { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }

    /// The `vigil.v1.Event` encoding of the event at `index`.
    func encoding(at index: Int) -> ArraySlice<UInt8> {
        let start = index == 0 ? 0 : Int(Self.u32(self.bytes, at: 5 + 4 * self.count + 4 * (index - 1)))
        let end = Int(Self.u32(self.bytes, at: 5 + 4 * self.count + 4 * index))
        return self.bytes[(self.bodyStart + start)..<(self.bodyStart + end)]
    }

    /// Decodes the event at `index` (its strings are slices of this blob, not copies).
    func event(at index: Int) throws(StoreError) -> Event {
        try Self.decode(self.encoding(at: index), id: self.id(at: index))
    }

    /// Decodes a stored event's encoding (a batch's or an alert row's), checking it holds the id it is stored under.
    static func decode(_ encoding: ArraySlice<UInt8>, id: Int64) throws(StoreError) -> Event {
        let event: Event
        do {
            event = try Event(serializedBytes: encoding)
        } catch {
            throw StoreError(.internal, "damaged stored event \(id): \(error)")
        }
        guard event.id == id else {
            throw StoreError(.internal, "damaged stored event \(id): it holds id \(event.id)")
        }
        return event
    }

    static func u32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }

    static func appendU32(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
    }
}
