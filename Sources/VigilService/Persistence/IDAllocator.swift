// Ids for new events and alerts, chosen by the writer rather than by SQLite. SQLite's own choice (largest rowid
// plus one) would hand out again the id of a newest row that retention deleted; an id at or below the indexer's
// watermark is never indexed, so a reused one would be invisible to every list. The allocator starts each
// transaction above both the largest id and every index's watermark (O(1) lookups), so it keeps no state between
// transactions and stays right after a rollback, a restart or rows written by another process.
//
// It also hands out the receive time, never earlier than the newest alert's: alerts' `created_at` then never
// decreases as ids grow, even when the system clock steps back, so a list can walk the unindexed tail of alerts in
// id order instead of sorting it (SQLiteStore+Lists).
import VigilSQLite

struct IDAllocator {
    private var lastEventID: Int64
    private var lastAlertID: Int64
    private let newestAlertCreatedAt: Int64

    /// Reads the largest ids inside the caller's write transaction.
    init(_ database: Database) throws {
        let largest = try database.cachedStatement(
            """
            SELECT max(\(SQLiteStore.lastEventIDSQL),
                       (SELECT max(indexed_through) FROM index_marks WHERE table_name = 'events')),
                   max(coalesce((SELECT max(id) FROM alerts), 0),
                       (SELECT max(indexed_through) FROM index_marks WHERE table_name = 'alerts')),
                   coalesce((SELECT created_at FROM alerts ORDER BY id DESC LIMIT 1), 0)
            """
        )
        let ids = try largest.firstRow { row in (row.int64(at: 0), row.int64(at: 1), row.int64(at: 2)) }
        self.lastEventID = ids?.0 ?? 0
        self.lastAlertID = ids?.1 ?? 0
        self.newestAlertCreatedAt = ids?.2 ?? 0
    }

    /// The receive time of the rows this transaction inserts: the clock's `reading`, or the newest alert's
    /// `created_at` if the clock reads earlier.
    func receivedAt(_ reading: Int64) -> Int64 {
        max(reading, self.newestAlertCreatedAt)
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
