// Brings a database's schema up to date with the code: applies, in order, each named migration the database has not
// recorded yet, one transaction per migration, and refuses to touch a database migrated by newer code.
public struct Migrator: Sendable {
    /// The table recording applied migrations, in the order they were applied (its rowid order).
    public static let tableName = "schema_migrations"

    public let migrations: [Migration]

    public init(_ migrations: [Migration]) {
        self.migrations = migrations
    }

    /// Applies the pending migrations and returns their names (empty when the schema was already current).
    ///
    /// Each migration and its record commit together in one BEGIN IMMEDIATE transaction, so a failing migration
    /// leaves no trace and the ones before it stay applied; running again resumes where it stopped. Throws
    /// `.unknownMigration`, before applying anything, when the database records a migration missing from this list:
    /// it was migrated by newer code, and older code writing to it could corrupt what the newer code expects.
    /// Concurrent migrators (two processes starting at once) are safe: the record is re-read under the write lock.
    @discardableResult
    public func migrate(_ database: Database) throws -> [String] {
        try self.validateList()
        let applied = try database.transaction(.immediate) { database in
            try database.execute(
                """
                CREATE TABLE IF NOT EXISTS \(Self.tableName) (
                    name TEXT PRIMARY KEY NOT NULL,
                    applied_at TEXT NOT NULL
                )
                """
            )
            return try self.checkedAppliedNames(database)
        }
        var newlyApplied: [String] = []
        for migration in self.migrations where !applied.contains(migration.name) {
            let ran = try database.transaction(.immediate) { database in
                guard try !self.checkedAppliedNames(database).contains(migration.name) else {
                    return false
                }
                try migration.body(database)
                try database.execute(
                    """
                    INSERT INTO \(Self.tableName) (name, applied_at)
                    VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                    """,
                    arguments: [migration.name]
                )
                return true
            }
            if ran {
                newlyApplied.append(migration.name)
            }
        }
        return newlyApplied
    }

    /// The names recorded in the database, in the order they were applied (empty for a database never migrated).
    public func appliedMigrations(in database: Database) throws -> [String] {
        let tableExists = try database.queryFirst(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
            arguments: [Self.tableName]
        ) { _ in true }
        guard tableExists == true else {
            return []
        }
        return try database.query("SELECT name FROM \(Self.tableName) ORDER BY rowid") { row in
            try row.string(at: 0) ?? ""
        }
    }

    /// The code's migrations the database has not recorded yet, in the order `migrate` would apply them.
    public func pendingMigrations(in database: Database) throws -> [String] {
        let applied = Set(try self.appliedMigrations(in: database))
        return self.migrations.map(\.name).filter { !applied.contains($0) }
    }

    private func checkedAppliedNames(_ database: Database) throws -> Set<String> {
        let applied = try self.appliedMigrations(in: database)
        let known = Set(self.migrations.map(\.name))
        let unknown = applied.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw SQLiteError(
                code: .unknownMigration,
                message: """
                    the database records migrations this code does not know (\(unknown.joined(separator: ", "))): \
                    it was migrated by a newer version; refusing to migrate it
                    """
            )
        }
        return Set(applied)
    }

    private func validateList() throws(SQLiteError) {
        var seen: Set<String> = []
        for migration in self.migrations {
            guard !migration.name.isEmpty, seen.insert(migration.name).inserted else {
                throw SQLiteError(
                    code: .invalidMigrationList,
                    message: "migration names must be unique and non-empty; offending name: '\(migration.name)'"
                )
            }
        }
    }
}
