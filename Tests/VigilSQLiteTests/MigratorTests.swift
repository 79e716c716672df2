// Ordered, named migrations: applied once each in order, recorded, resumable after a failure, and refused when the
// database was migrated by newer code.
import Testing
import VigilSQLite
import VigilTesting

@Suite("Migrator")
struct MigratorTests {
    /// Each migration appends its name to `log`, so the order in which they ran is observable in the database.
    static func logging(_ name: String) -> Migration {
        Migration(name) { database in
            try database.execute("INSERT INTO log (name) VALUES (?)", arguments: [name])
        }
    }

    static let base = [
        Migration("001-create-log", sql: "CREATE TABLE log (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"),
        Migration("002-add-column", sql: "ALTER TABLE log ADD COLUMN note TEXT; INSERT INTO log (name) VALUES ('002')"),
        logging("003-closure"),
    ]

    func log(_ database: Database) throws -> [String] {
        try database.query("SELECT name FROM log ORDER BY id") { try $0.string(at: 0) ?? "" }
    }

    @Test("applies migrations in order and records their names")
    func appliesInOrder() throws {
        try withDirectory { directory in
            let database = try openWAL(directory.file("order.sqlite"))
            let migrator = Migrator(Self.base)
            #expect(try migrator.appliedMigrations(in: database) == [])
            #expect(try migrator.pendingMigrations(in: database) == ["001-create-log", "002-add-column", "003-closure"])
            #expect(try migrator.migrate(database) == ["001-create-log", "002-add-column", "003-closure"])
            #expect(try self.log(database) == ["002", "003-closure"])
            #expect(try migrator.appliedMigrations(in: database) == ["001-create-log", "002-add-column", "003-closure"])
            #expect(try migrator.pendingMigrations(in: database) == [])
            let stamps = try database.query("SELECT applied_at FROM schema_migrations") { try $0.string(at: 0) ?? "" }
            #expect(stamps.count == 3)
            #expect(stamps.allSatisfy { $0.hasSuffix("Z") && $0.count == 24 })
        }
    }

    @Test("does nothing when run again, and applies only what was added since")
    func idempotent() throws {
        try withDirectory { directory in
            let path = directory.file("again.sqlite")
            do {
                let database = try openWAL(path)
                try Migrator(Self.base).migrate(database)
            }
            let database = try Database(path: path)
            #expect(try Migrator(Self.base).migrate(database) == [])
            #expect(try self.log(database) == ["002", "003-closure"])
            let extended = Migrator(Self.base + [Self.logging("004-later")])
            #expect(try extended.migrate(database) == ["004-later"])
            #expect(try extended.migrate(database) == [])
            #expect(try self.log(database) == ["002", "003-closure", "004-later"])
        }
    }

    @Test("refuses a database that records a migration this code does not know, before applying anything")
    func refusesNewerSchema() throws {
        try withDirectory { directory in
            let database = try openWAL(directory.file("newer.sqlite"))
            try Migrator(Self.base + [Self.logging("004-from-the-future")]).migrate(database)
            let older = Migrator(Self.base + [Self.logging("004-other")])
            let error = #expect(throws: SQLiteError.self) { try older.migrate(database) }
            #expect(error?.code == .unknownMigration)
            #expect(error?.message.contains("004-from-the-future") == true)
            #expect(try self.log(database) == ["002", "003-closure", "004-from-the-future"])
            #expect(try Migrator(Self.base).appliedMigrations(in: database).count == 4)
        }
    }

    @Test("rolls back a failing migration whole, keeps the ones before it, and resumes on the next run")
    func failingMigration() throws {
        try withDirectory { directory in
            let database = try openWAL(directory.file("failing.sqlite"))
            let broken = Migration("004-broken") { database in
                try database.execute("CREATE TABLE half (x)")
                try database.execute("INSERT INTO log (name) VALUES (?)", arguments: ["004-broken"])
                throw ExpectedFailure(tag: "004")
            }
            #expect(throws: ExpectedFailure(tag: "004")) { try Migrator(Self.base + [broken]).migrate(database) }
            #expect(try Migrator(Self.base).appliedMigrations(in: database).count == 3)
            #expect(try self.log(database) == ["002", "003-closure"])
            let halfTable = try database.queryFirst("SELECT 1 FROM sqlite_master WHERE name = 'half'") { _ in true }
            #expect(halfTable == nil)

            let fixed = Migration("004-broken", sql: "CREATE TABLE half (x)")
            #expect(try Migrator(Self.base + [fixed]).migrate(database) == ["004-broken"])
        }
    }

    @Test("refuses a migration list with a repeated or empty name without touching the database", arguments: [
        ["a", "b", "a"], ["a", ""],
    ])
    func invalidList(names: [String]) throws {
        try withDirectory { directory in
            let database = try openWAL(directory.file("list.sqlite"))
            let migrator = Migrator(names.map { Migration($0, sql: "SELECT 1") })
            let error = #expect(throws: SQLiteError.self) { try migrator.migrate(database) }
            #expect(error?.code == .invalidMigrationList)
            let table = try database.queryFirst("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'") { _ in 1 }
            #expect(table == nil)
        }
    }
}
