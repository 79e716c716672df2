// Ids for new events and alerts, chosen by the writer rather than by SQLite. SQLite's own choice (largest rowid
// plus one) would hand out again the id of a newest row that retention deleted; an id at or below the indexer's
// watermark is never indexed, so a reused one would be invisible to every list. The allocator starts each
// transaction above both the largest id and the watermark (O(1) lookups), so it keeps no state between
// transactions and stays right after a rollback, a restart or rows written by another process.
import VigilSQLite

struct IDAllocator {
    private var lastEventID: Int64
    private var lastAlertID: Int64

    /// Reads the largest ids inside the caller's write transaction.
    init(_ database: Database) throws {
        let largest = try database.cachedStatement(
            """
            SELECT max(coalesce((SELECT max(id) FROM events), 0),
                       (SELECT indexed_through FROM index_marks WHERE name = 'events')),
                   max(coalesce((SELECT max(id) FROM alerts), 0),
                       (SELECT indexed_through FROM index_marks WHERE name = 'alerts'))
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
