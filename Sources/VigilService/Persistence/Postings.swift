// Postings: how the list indexes are stored (all but alerts_by_status, whose rows UpdateAlert moves) so that
// maintaining them costs a fraction of a microsecond per row instead of a B-tree insertion in the middle of a
// large tree (docs/STORAGE.md, "Postings"). The indexer turns each slice of rows into, per key, one sorted run of
// (time, id) entries cut into chunks of at most `PostingChunk.maximumEntries`, one row each; a list merges
// the runs of every slice lazily, reading a chunk only once an entry of it could be next. Pure logic: the chunk
// rows are read and written by SQLiteStore+Postings.

/// One index entry: the value the index orders by (an event's occurred_at) and the row's id, which breaks ties.
struct PostingEntry: Comparable, Hashable, Sendable {
    var sort: Int64
    var id: Int64

    static func < (left: PostingEntry, right: PostingEntry) -> Bool {
        left.sort != right.sort ? left.sort < right.sort : left.id < right.id
    }
}

/// What a postings row failed to hold.
struct PostingsError: Error, Equatable {
    let message: String
}

/// A run of one key's entries from one slice, ascending, as one row: with its smallest and largest sort value, so
/// a walk can tell from the directory alone whether the chunk could hold the next entry.
struct PostingChunk: Equatable, Sendable {
    /// 16 KiB of entries: one database page, and few enough that reading one chunk to fill a page of 20 is cheap.
    static let maximumEntries = 1024
    static let entryBytes = 16

    var entries: [PostingEntry]

    var low: Int64 { self.entries.first?.sort ?? 0 }
    var high: Int64 { self.entries.last?.sort ?? 0 }

    /// Cuts sorted `entries` into chunks of at most `maximumEntries`.
    static func chunks(of sorted: [PostingEntry], maximumEntries: Int = Self.maximumEntries) -> [PostingChunk] {
        stride(from: 0, to: sorted.count, by: max(maximumEntries, 1)).map { start in
            PostingChunk(entries: Array(sorted[start..<min(start + max(maximumEntries, 1), sorted.count)]))
        }
    }

    /// Each entry as its sort value then its id, 8 bytes little-endian each: fixed width, so decoding is a loop
    /// without branches and a chunk's count is its length over 16.
    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(self.entries.count * Self.entryBytes)
        for entry in self.entries {
            withUnsafeBytes(of: entry.sort.littleEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: entry.id.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// The entries of an encoded chunk; a length that is not a whole number of entries, or entries out of order,
    /// mean the row is damaged (a walk over it would return rows out of order), so they are refused.
    static func decode(_ bytes: [UInt8]) throws(PostingsError) -> [PostingEntry] {
        guard bytes.count % Self.entryBytes == 0 else {
            throw PostingsError(message: "a postings chunk of \(bytes.count) bytes is not whole entries")
        }
        var entries: [PostingEntry] = []
        entries.reserveCapacity(bytes.count / Self.entryBytes)
        var offset = 0
        while offset < bytes.count {
            let entry = PostingEntry(sort: Self.int64(bytes, at: offset), id: Self.int64(bytes, at: offset + 8))
            if let last = entries.last, !(last < entry) {
                throw PostingsError(message: "a postings chunk's entries are out of order")
            }
            entries.append(entry)
            offset += Self.entryBytes
        }
        return entries
    }

    private static func int64(_ bytes: [UInt8], at offset: Int) -> Int64 {
        var value: UInt64 = 0
        for index in (0..<8).reversed() { value = value << 8 | UInt64(bytes[offset + index]) }
        return Int64(bitPattern: value)
    }
}

/// Where a chunk is and what range it covers, as the directory lists it (without its entries).
struct PostingChunkRef: Equatable, Sendable {
    var segment: Int64
    var chunk: Int64
    var low: Int64
    var high: Int64
}

/// The chunks of one key in walk order, and their entries on demand.
protocol PostingChunkSource {
    /// The next chunk: by `high` descending for a descending walk, by `low` ascending for an ascending one; nil at
    /// the end. Chunks that cannot hold an entry within the walk's bounds may be left out.
    mutating func nextChunk() throws -> PostingChunkRef?
    func entries(of chunk: PostingChunkRef) throws -> [PostingEntry]
}

/// Which entries a walk yields, in which order.
struct PostingBounds: Equatable, Sendable {
    var ascending = false
    /// Inclusive lower bound on the sort value.
    var from: Int64?
    /// Exclusive upper bound on the sort value.
    var before: Int64?
    /// Only entries strictly after this one in walk order (a page's continuation).
    var after: PostingEntry?

    func admits(_ entry: PostingEntry) -> Bool {
        if let from = self.from, entry.sort < from { return false }
        if let before = self.before, entry.sort >= before { return false }
        if let after = self.after { return self.ascending ? after < entry : entry < after }
        return true
    }
}

/// The entries of one key in order, merged lazily from every chunk of every slice: a chunk is read only when the
/// directory says it may hold the next entry (its `high` reaches the best entry loaded so far, descending), so a
/// page of the newest entries reads the newest few chunks however many slices there are.
struct PostingsWalk<Source: PostingChunkSource> {
    private var source: Source
    let bounds: PostingBounds
    private var pending: PostingChunkRef?
    private var sourceDone = false
    /// Loaded runs, a heap on each run's current entry (the largest first descending, the smallest ascending).
    private var runs: [Run] = []

    private struct Run {
        let entries: [PostingEntry]
        var position: Int
        let step: Int

        var current: PostingEntry { self.entries[self.position] }
    }

    init(_ source: Source, bounds: PostingBounds) {
        self.source = source
        self.bounds = bounds
    }

    /// The next entry in walk order within the bounds, or nil.
    mutating func next() throws -> PostingEntry? {
        while true {
            if self.pending == nil && !self.sourceDone {
                self.pending = try self.source.nextChunk()
                if self.pending == nil { self.sourceDone = true }
            }
            if let chunk = self.pending, self.mayPrecede(chunk) {
                self.pending = nil
                self.load(try self.source.entries(of: chunk))
                continue
            }
            return self.popNext()
        }
    }

    /// True when `chunk` could hold an entry that comes before the best one loaded (or nothing is loaded).
    private func mayPrecede(_ chunk: PostingChunkRef) -> Bool {
        guard let best = self.runs.first?.current else { return true }
        return self.bounds.ascending ? chunk.low <= best.sort : chunk.high >= best.sort
    }

    /// Adds a chunk's entries within the bounds as a run, starting at the first one in walk order.
    private mutating func load(_ entries: [PostingEntry]) {
        guard !entries.isEmpty else { return }
        var run: Run
        if self.bounds.ascending {
            // The first entry that is admitted: past `after` and at least `from`.
            var start = entries.startIndex
            if let from = self.bounds.from { start = Self.firstIndex(in: entries) { $0.sort >= from } }
            if let after = self.bounds.after { start = max(start, Self.firstIndex(in: entries) { after < $0 }) }
            run = Run(entries: entries, position: start, step: 1)
        } else {
            // The last entry below `before` and before `after`.
            var end = entries.endIndex
            if let before = self.bounds.before { end = Self.firstIndex(in: entries) { $0.sort >= before } }
            if let after = self.bounds.after { end = min(end, Self.firstIndex(in: entries) { !($0 < after) }) }
            run = Run(entries: entries, position: end - 1, step: -1)
        }
        guard run.position >= 0, run.position < entries.count, self.bounds.admits(run.current) else { return }
        self.runs.append(run)
        self.siftUp(self.runs.count - 1)
    }

    private mutating func popNext() -> PostingEntry? {
        guard !self.runs.isEmpty else { return nil }
        let entry = self.runs[0].current
        self.runs[0].position += self.runs[0].step
        let position = self.runs[0].position
        if position < 0 || position >= self.runs[0].entries.count || !self.bounds.admits(self.runs[0].current) {
            self.runs.swapAt(0, self.runs.count - 1)
            self.runs.removeLast()
        }
        if !self.runs.isEmpty { self.siftDown(0) }
        return entry
    }

    /// The first index whose entry satisfies `predicate`, which is false and then true along sorted `entries`.
    private static func firstIndex(in entries: [PostingEntry], where predicate: (PostingEntry) -> Bool) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if predicate(entries[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    private func comesFirst(_ left: Int, _ right: Int) -> Bool {
        let (a, b) = (self.runs[left].current, self.runs[right].current)
        return self.bounds.ascending ? a < b : b < a
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard self.comesFirst(child, parent) else { return }
            self.runs.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let (left, right) = (2 * parent + 1, 2 * parent + 2)
            var first = parent
            if left < self.runs.count && self.comesFirst(left, first) { first = left }
            if right < self.runs.count && self.comesFirst(right, first) { first = right }
            guard first != parent else { return }
            self.runs.swapAt(parent, first)
            parent = first
        }
    }
}
