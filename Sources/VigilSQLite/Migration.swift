// One named schema change. The name is what the database records, so it must never change once shipped; order is
// given by the list handed to Migrator, not by the name.
public struct Migration: Sendable {
    public let name: String
    let body: @Sendable (Database) throws -> Void

    /// A migration written as an SQL script (several statements are fine). It runs inside the migration's
    /// transaction, so it must not hold statements that cannot (VACUUM, `PRAGMA journal_mode`, `PRAGMA foreign_keys`).
    public init(_ name: String, sql: String) {
        self.name = name
        self.body = { database in try database.execute(sql) }
    }

    /// A migration written as code, for changes SQL alone cannot express (rewriting rows, copying tables). It runs
    /// inside the migration's transaction: it must not start one of its own.
    public init(_ name: String, _ body: @escaping @Sendable (Database) throws -> Void) {
        self.name = name
        self.body = body
    }
}
