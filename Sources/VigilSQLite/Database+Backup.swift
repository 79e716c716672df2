// Online backup (sqlite3_backup_*): a consistent copy of a live database, taken without stopping its writers, for
// operators who want a file they can copy away while the server keeps ingesting.
import CSQLite

extension Database {
    /// Copies this database into the file at `path` (creating it, or replacing what it held) while other
    /// connections keep reading and writing.
    ///
    /// In WAL mode the copy is read from one snapshot held for the whole backup, so the file holds exactly the
    /// transactions committed before the backup began. A WAL snapshot does not block writers; without it, each
    /// commit by another connection would restart the copy, which under a steady write load never ends. In the
    /// rollback-journal modes a read lock does block writers, so the lock is held for `pagesPerStep` pages at a
    /// time only, and SQLite restarts the copy when another connection writes in between. `pause` sleeps between
    /// steps to leave the disk to other connections. Lock waits are retried up to this connection's busy timeout.
    ///
    /// Call it outside any transaction of this connection: the snapshot is this connection's own read transaction.
    public func backup(to path: String, pagesPerStep: Int = 256, pause: Duration = .zero) throws(SQLiteError) {
        precondition(pagesPerStep > 0, "pagesPerStep must be positive")
        let destination = try Connection(path: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        sqlite3_busy_timeout(destination.handle, self.busyTimeout.clampedMilliseconds)

        var holdsSnapshot = false
        if !self.isInTransaction {
            holdsSnapshot = try self.journalMode() == .wal
        }
        if holdsSnapshot {
            try self.execute("BEGIN DEFERRED")
        }
        defer {
            if holdsSnapshot {
                self.rollbackIfActive()
            }
        }
        if holdsSnapshot {
            // A deferred transaction takes its snapshot at the first read; take it now, before the first page.
            _ = try self.readFirstValue("SELECT count(*) FROM sqlite_master")
        }
        try self.copyPages(to: destination, path: path, pagesPerStep: Int32(clamping: pagesPerStep), pause: pause)
    }

    private func copyPages(
        to destination: Connection,
        path: String,
        pagesPerStep: Int32,
        pause: Duration
    ) throws(SQLiteError) {
        guard let backup = sqlite3_backup_init(destination.handle, "main", self.connection.handle, "main") else {
            var error = SQLiteError(
                resultCode: sqlite3_extended_errcode(destination.handle),
                connection: destination.handle,
                sql: nil
            )
            error.message += " (backup to \(path))"
            throw error
        }
        let pauseMilliseconds = pause.clampedMilliseconds
        let waitLimit = self.busyTimeout.clampedMilliseconds
        var waited: Int32 = 0
        while true {
            let result = sqlite3_backup_step(backup, pagesPerStep)
            let primary = result & 0xff
            if primary == SQLITE_DONE {
                break
            } else if primary == SQLITE_OK {
                waited = 0
                if pauseMilliseconds > 0 {
                    sqlite3_sleep(pauseMilliseconds)
                }
            } else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) && waited < waitLimit {
                let nap = min(10, waitLimit - waited)
                sqlite3_sleep(nap)
                waited += nap
            } else {
                // backup_finish reports the failing step's code and leaves its message on the destination.
                let finish = sqlite3_backup_finish(backup)
                var error = SQLiteError(
                    resultCode: finish == SQLITE_OK ? result : finish,
                    connection: destination.handle,
                    sql: nil
                )
                error.message += " (backup to \(path))"
                throw error
            }
        }
        let finish = sqlite3_backup_finish(backup)
        guard finish == SQLITE_OK else {
            var error = SQLiteError(resultCode: finish, connection: destination.handle, sql: nil)
            error.message += " (backup to \(path))"
            throw error
        }
    }
}
