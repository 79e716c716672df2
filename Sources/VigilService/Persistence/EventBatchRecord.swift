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
    /// The blob's size so far: `encoded().count`.
    var encodedSize: Int { EventBatchRecord.fixedHeaderLength + 8 * self.idDeltas.count + self.body.count }

    /// True when an event encoded in `size` bytes fits within `limit` bytes of blob along with those appended
    /// (always for the first: one event alone makes a row however large).
    func fits(eventOfSize size: Int, within limit: Int) -> Bool {
        self.isEmpty || self.encodedSize + 8 + size <= limit
    }

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

/// Reads a blob, or only its header (then events are read by range from the row: `encodingRange(at:)`). Every
/// offset is checked once here, so the accessors cannot read outside the blob; a damaged blob is an `internal`
/// error, never a crash.
struct EventBatchRecord: Sendable {
    static let version: UInt8 = 1
    /// Version and count: what to read first to know the header's length.
    static let fixedHeaderLength = 5

    let firstID: Int64
    let count: Int
    /// The whole blob, or a prefix of it holding at least the header.
    private let bytes: [UInt8]
    private let blobLength: Int
    private let bodyStart: Int

    /// A whole blob.
    init(firstID: Int64, bytes: [UInt8]) throws(StoreError) {
        try self.init(firstID: firstID, prefix: bytes, blobLength: bytes.count)
    }

    /// A blob of `blobLength` bytes of which `prefix` (at least `headerLength(of:)` of them) was read.
    init(firstID: Int64, prefix bytes: [UInt8], blobLength: Int) throws(StoreError) {
        guard bytes.count >= Self.fixedHeaderLength, bytes[0] == Self.version else {
            throw StoreError(.internal, "damaged event batch \(firstID): unknown version or truncated header")
        }
        let count = Int(Self.u32(bytes, at: 1))
        let bodyStart = Self.fixedHeaderLength + 8 * count
        guard count > 0, bytes.count >= bodyStart, blobLength >= bytes.count else {
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
        guard Int(previousEnd) == blobLength - bodyStart else {
            throw StoreError(.internal, "damaged event batch \(firstID): events end at \(previousEnd)")
        }
        self.firstID = firstID
        self.count = count
        self.bytes = bytes
        self.blobLength = blobLength
        self.bodyStart = bodyStart
    }

    /// The header's length, given its first `fixedHeaderLength` bytes (nil when they are not a header).
    static func headerLength(of start: [UInt8]) -> Int? {
        guard start.count >= Self.fixedHeaderLength, start[0] == Self.version else { return nil }
        return Self.fixedHeaderLength + 8 * Int(Self.u32(start, at: 1))
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

    /// The whole blob, nil when only the header was read.
    var blob: [UInt8]? { self.bytes.count == self.blobLength ? self.bytes : nil }

    /// The fields lists filter and sort by of the event at `index` of a whole blob, read without decoding it.
    func fields(at index: Int) throws(StoreError) -> StoredEventFields {
        guard self.bytes.count == self.blobLength,
            let fields = StoredEventFields.scan(self.bytes, self.encodingRange(at: index))
        else {
            throw StoreError(.internal, "damaged stored event \(self.id(at: index)) in batch \(self.firstID)")
        }
        return fields
    }

    /// Where the event at `index` is in the blob.
    func encodingRange(at index: Int) -> Range<Int> {
        let start = index == 0 ? 0 : Int(Self.u32(self.bytes, at: 5 + 4 * self.count + 4 * (index - 1)))
        let end = Int(Self.u32(self.bytes, at: 5 + 4 * self.count + 4 * index))
        return (self.bodyStart + start)..<(self.bodyStart + end)
    }

    /// The `vigil.v1.Event` encoding of the event at `index`; nil when only the header was read.
    func encoding(at index: Int) -> ArraySlice<UInt8>? {
        guard self.bytes.count == self.blobLength else { return nil }
        return self.bytes[self.encodingRange(at: index)]
    }

    /// Decodes the event at `index` of a whole blob (its strings are slices of the blob, not copies).
    func event(at index: Int) throws(StoreError) -> Event {
        guard let encoding = self.encoding(at: index) else {
            throw StoreError(.internal, "event batch \(self.firstID) was read without its events")
        }
        return try Self.decode(encoding, id: self.id(at: index))
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
