// Ids for new events and alerts. A row keeps its id when the indexer moves it from the recent table to the indexed
// one, so an id must be unique across both; SQLite's own rowid choice (largest in the table plus one) would reuse
// ids once the recent table is emptied. The allocator starts each transaction from the largest id in either table
// (four O(1) rowid lookups), so it needs no state between transactions and stays right after a rollback, a restart
// or rows written by another process.
import VigilSQLite

struct IDAllocator {
    private var lastEventID: Int64
    private var lastAlertID: Int64

    /// Reads the largest ids inside the caller's write transaction.
    init(_ database: Database) throws {
        let largest = try database.cachedStatement(
            """
            SELECT max(coalesce((SELECT max(id) FROM events), 0), coalesce((SELECT max(id) FROM events_recent), 0)),
                   max(coalesce((SELECT max(id) FROM alerts), 0), coalesce((SELECT max(id) FROM alerts_recent), 0))
            """
        )
        let ids = try largest.firstRow { row in (row.int64(at: 0), row.int64(at: 1)) }
        self.lastEventID = ids?.0 ?? 0
        self.lastAlertID = ids?.1 ?? 0
    }

    mutating func nextEventID() -> Int64 {
        self.lastEventID += 1
        return self.lastEventID
    }

    mutating func nextAlertID() -> Int64 {
        self.lastAlertID += 1
        return self.lastAlertID
    }
}
