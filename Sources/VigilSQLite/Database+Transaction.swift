// Transactions as closures: the body's work is committed when it returns and rolled back when it throws, so no
// code path can leave a transaction open by forgetting a COMMIT.
extension Database {
    public enum TransactionKind: Sendable {
        /// BEGIN: takes the write lock only at the first write. A read-then-write body can then fail with `.busy`
        /// mid-way without waiting, so use it for read-only work.
        case deferred
        /// BEGIN IMMEDIATE: takes the write lock up front (waiting up to the busy timeout): the right kind for writes.
        case immediate
        /// BEGIN EXCLUSIVE: in WAL mode the same as immediate; in rollback mode it also keeps readers out.
        case exclusive

        var beginSQL: String {
            switch self {
            case .deferred: "BEGIN DEFERRED"
            case .immediate: "BEGIN IMMEDIATE"
            case .exclusive: "BEGIN EXCLUSIVE"
            }
        }
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it (or the COMMIT) throws, then the error
    /// is rethrown unchanged. Transactions do not nest: calling this inside another fails with SQLite's error.
    public func transaction<Result>(
        _ kind: TransactionKind = .immediate,
        _ body: (Database) throws -> Result
    ) throws -> Result {
        try self.cachedStatement(kind.beginSQL).execute()
        let result: Result
        do {
            result = try body(self)
            try self.cachedStatement("COMMIT").execute()
        } catch {
            self.rollbackIfActive()
            throw error
        }
        return result
    }

    /// Rolls back unless SQLite already did (some errors, such as SQLITE_FULL, end the transaction themselves). A
    /// failing ROLLBACK is not reported: the error that caused it is the one worth reporting.
    func rollbackIfActive() {
        guard self.isInTransaction else {
            return
        }
        _ = try? self.execute("ROLLBACK")
    }
}
