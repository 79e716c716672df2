// Where each index table's watermark stands, and what the indexer does next: pure logic over one snapshot of the
// marks (SQLiteStore+Indexer reads it and runs the step). Each index table commits in a transaction of its own, so
// a slice is a pass of steps, one per index table, that brings every index of a table to the same mark: the first
// step of a pass (the leader) moves up to `rows` ids; the others then catch up to exactly the leader's mark. Equal
// marks per table mean no pass is in progress, which the policy uses to decide whether to go on. Lag is counted in
// events for both tables (an alert index lags by the events ingested after the event of the alert at its mark), so
// the indexer serves alerts as promptly as events.

struct IndexProgress: Equatable, Sendable {
    struct Mark: Equatable, Sendable {
        let index: String
        let table: String
        let indexedThrough: Int64
        /// The event id up to which this index covers the event stream: its mark for an events index, the event of
        /// the newest alert at or below its mark for an alerts index.
        let coveredEventID: Int64
    }

    let marks: [Mark]
    /// The largest id of each table ("events", "alerts").
    let lastIDs: [String: Int64]
    let lastEventID: Int64

    /// How far `mark`'s index lags, in events; 0 when it holds every row of its table.
    func lag(of mark: Mark) -> Int64 {
        guard (self.lastIDs[mark.table] ?? 0) > mark.indexedThrough else { return 0 }
        return max(self.lastEventID - mark.coveredEventID, 1)
    }

    /// The largest lag of any index: what bounds the tail a list may scan; 0 when indexing has nothing to do.
    var tailEvents: Int64 { self.marks.map(self.lag(of:)).max() ?? 0 }

    /// True while some table's indexes stand at different marks: a pass has begun and not every index caught up.
    var passInProgress: Bool {
        Dictionary(grouping: self.marks, by: \.table).values.contains { marks in
            Set(marks.map(\.indexedThrough)).count > 1
        }
    }

    /// The next step: the index that lags most (events' indexes first on ties, then by name) and the id to index it
    /// through: up to its table's leading mark when it trails one (catching up within a pass), else `rows` further
    /// (leading a new pass), never past the table's last id. Nil when every index is current.
    func nextStep(rows: Int) -> (index: String, table: String, from: Int64, through: Int64)? {
        let candidates = self.marks.filter { self.lag(of: $0) > 0 }
        let next = candidates.min { first, second in
            let (firstLag, secondLag) = (self.lag(of: first), self.lag(of: second))
            if firstLag != secondLag { return firstLag > secondLag }
            if first.table != second.table { return first.table == "events" }
            return first.index < second.index
        }
        guard let next else { return nil }
        let last = self.lastIDs[next.table] ?? 0
        let leader = self.marks.filter { $0.table == next.table }.map(\.indexedThrough).max() ?? next.indexedThrough
        let ceiling = leader > next.indexedThrough ? leader : last
        let through = min(next.indexedThrough + Int64(max(rows, 1)), ceiling, last)
        guard through > next.indexedThrough else { return nil }
        return (next.index, next.table, next.indexedThrough, through)
    }
}
