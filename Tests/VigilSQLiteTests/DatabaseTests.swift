// Opening connections, running scripts and statements, the statement cache, pragmas and read-only access, on real
// files.
import Foundation
import Testing
import VigilSQLite
import VigilTesting

@Suite("Database")
struct DatabaseTests {
    @Test("creates the file when opened read-write-create and keeps rows across connections")
    func createsAndReopens() throws {
        try withDirectory { directory in
            let path = directory.file("new.sqlite")
            #expect(!FileManager.default.fileExists(atPath: path))
            do {
                let database = try Database(path: path)
                try database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1, 'a')")
            }
            #expect(FileManager.default.fileExists(atPath: path))
            let reopened = try Database(path: path, options: Database.Options(access: .readWrite))
            #expect(try reopened.queryFirst("SELECT name FROM t WHERE id = 1") { try $0.string(at: 0) } == "a")
        }
    }

    @Test("refuses to open a missing file without the create access", arguments: [
        Database.Options.Access.readWrite, .readOnly,
    ])
    func missingFile(access: Database.Options.Access) throws {
        try withDirectory { directory in
            let path = directory.file("missing.sqlite")
            let error = #expect(throws: SQLiteError.self) {
                _ = try Database(path: path, options: Database.Options(access: access))
            }
            #expect(error?.code == .cantOpen)
            #expect(error?.message.contains(path) == true)
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test("turns WAL on for this and every later connection")
    func walMode() throws {
        try withDirectory { directory in
            let path = directory.file("wal.sqlite")
            let database = try Database(path: path)
            #expect(try database.journalMode() == .delete)
            try database.setJournalMode(.wal)
            #expect(try database.pragma("journal_mode") == .text("wal"))
            try database.execute("CREATE TABLE t (x)")
            #expect(FileManager.default.fileExists(atPath: path + "-wal"))
            let other = try Database(path: path)
            #expect(try other.journalMode() == .wal)
        }
    }

    @Test("reports WAL that SQLite silently refuses (an in-memory database)")
    func walRefused() throws {
        let database = try Database(path: ":memory:")
        let error = #expect(throws: SQLiteError.self) { try database.setJournalMode(.wal) }
        #expect(error?.code == .pragmaNotApplied)
        #expect(try database.journalMode() == .memory)
    }

    @Test("applies synchronous, foreign_keys and cache_size and reads them back")
    func pragmas() throws {
        try withDirectory { directory in
            let database = try openWAL(directory.file("pragmas.sqlite"))
            try database.setSynchronous(.normal)
            #expect(try database.synchronous() == .normal)
            try database.setSynchronous(.full)
            #expect(try database.synchronous() == .full)
            #expect(try database.foreignKeysEnabled() == false)
            try database.setForeignKeys(true)
            #expect(try database.foreignKeysEnabled())
            try database.setCacheSize(kibibytes: 8192)
            #expect(try database.pragma("cache_size") == .integer(-8192))

            try database.execute(
                """
                CREATE TABLE parent (id INTEGER PRIMARY KEY);
                CREATE TABLE child (parent_id INTEGER REFERENCES parent(id));
                """
            )
            let error = #expect(throws: SQLiteError.self) {
                try database.execute("INSERT INTO child VALUES (?)", arguments: [42])
            }
            #expect(error?.code == .constraint)
        }
    }

    @Test("reports foreign_keys set inside a transaction, where SQLite ignores it")
    func foreignKeysInTransaction() throws {
        try withDirectory { directory in
            let database = try openWAL(directory.file("fk.sqlite"))
            let error = #expect(throws: SQLiteError.self) {
                try database.transaction { database in try database.setForeignKeys(true) }
            }
            #expect(error?.code == .pragmaNotApplied)
            #expect(try database.foreignKeysEnabled() == false)
        }
    }

    @Test("reports an SQL syntax error with SQLite's message and the SQL")
    func syntaxError() throws {
        try withDirectory { directory in
            let database = try Database(path: directory.file("syntax.sqlite"))
            let prepared = #expect(throws: SQLiteError.self) { _ = try database.prepare("SELEC 1") }
            #expect(prepared?.code == .error)
            #expect(prepared?.message.contains("syntax error") == true)
            #expect(prepared?.sql == "SELEC 1")

            let script = #expect(throws: SQLiteError.self) { try database.execute("CREATE TABLE ok (x); CREATE TABL") }
            #expect(script?.code == .error)
            #expect(script?.message.contains("syntax error") == true)
        }
    }

    @Test("refuses to prepare two statements, or none, but accepts a trailing comment")
    func prepareOneStatement() throws {
        try withDirectory { directory in
            let database = try Database(path: directory.file("one.sqlite"))
            let two = #expect(throws: SQLiteError.self) { _ = try database.prepare("SELECT 1; SELECT 2") }
            #expect(two?.code == .misuse)
            let none = #expect(throws: SQLiteError.self) { _ = try database.prepare("  -- nothing") }
            #expect(none?.code == .misuse)
            let commented = try database.prepare("SELECT 7; -- the answer")
            #expect(try commented.firstRow { $0.int(at: 0) } == 7)
        }
    }

    @Test("refuses writes on a connection opened read-only, though root could write the file")
    func readOnly() throws {
        try withDirectory { directory in
            let path = directory.file("ro.sqlite")
            let writer = try openWAL(path)
            try writer.execute("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
            let reader = try Database(path: path, options: Database.Options(access: .readOnly))
            #expect(try count(reader, "t") == 1)
            let error = #expect(throws: SQLiteError.self) {
                try reader.execute("INSERT INTO t VALUES (?)", arguments: [2])
            }
            #expect(error?.code == .readOnly)
            let script = #expect(throws: SQLiteError.self) { try reader.execute("CREATE TABLE u (x)") }
            #expect(script?.code == .readOnly)
            #expect(try count(writer, "t") == 1)
        }
    }

    @Test("reuses one prepared statement per SQL text and bounds the cache")
    func statementCache() throws {
        try withDirectory { directory in
            let database = try Database(
                path: directory.file("cache.sqlite"),
                options: Database.Options(statementCacheCapacity: 2)
            )
            let sql = "SELECT ?1 + 1"
            let first = try database.cachedStatement(sql)
            let second = try database.cachedStatement(sql)
            #expect(first === second)
            #expect(database.cachedStatementCount == 1)
            #expect(try database.prepare(sql) !== first)

            // A cached statement handed out again is rewound with its bindings cleared.
            try first.bind(41, at: 1)
            let again = try database.cachedStatement(sql)
            #expect(again === first)
            #expect(try again.firstRow { $0.isNull(at: 0) } == true)

            _ = try database.cachedStatement("SELECT 2")
            _ = try database.cachedStatement("SELECT 3")
            #expect(database.cachedStatementCount == 2)
            #expect(try database.cachedStatement("SELECT 3") === database.cachedStatement("SELECT 3"))
        }
    }

    @Test("gives a nested query of the same SQL its own statement instead of disturbing the outer one")
    func nestedCachedQuery() throws {
        try withDirectory { directory in
            let database = try Database(path: directory.file("nested.sqlite"))
            try database.execute("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)")
            let sql = "SELECT x FROM t ORDER BY x"
            var pairs: [[Int]] = []
            let outer = try database.cachedStatement(sql)
            try outer.forEachRow { row in
                let inner = try database.query(sql) { $0.int(at: 0) }
                pairs.append([row.int(at: 0)] + inner)
            }
            #expect(pairs == [[1, 1, 2, 3], [2, 1, 2, 3], [3, 1, 2, 3]])
            #expect(try database.cachedStatement(sql) === outer)
        }
    }

    @Test("reports the last inserted rowid and the rows changed")
    func rowidAndChanges() throws {
        try withDirectory { directory in
            let database = try Database(path: directory.file("changes.sqlite"))
            try database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, flag INTEGER)")
            try database.execute("INSERT INTO t (id, flag) VALUES (?, ?)", arguments: [10, false])
            #expect(database.lastInsertRowID == 10)
            try database.execute("INSERT INTO t (flag) VALUES (?)", arguments: [false])
            #expect(database.lastInsertRowID == 11)
            try database.execute("INSERT INTO t (flag) VALUES (?)", arguments: [true])
            try database.execute("UPDATE t SET flag = 1 WHERE flag = ?", arguments: [false])
            #expect(database.changes == 2)
        }
    }

    @Test("lets an idle reader's query release its snapshot so a checkpoint can finish")
    func resetReleasesSnapshot() throws {
        try withDirectory { directory in
            let path = directory.file("checkpoint.sqlite")
            let writer = try openWAL(path, busyTimeout: .zero)
            try writer.execute("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)")
            let reader = try Database(path: path)
            let checkpoint = "PRAGMA wal_checkpoint(TRUNCATE)"

            // Control: a statement left mid-way holds its snapshot, and the checkpoint cannot complete.
            let stalled = try reader.prepare("SELECT x FROM t")
            #expect(try stalled.step())
            try writer.execute("INSERT INTO t VALUES (?)", arguments: [4])
            #expect(try writer.queryFirst(checkpoint) { $0.int(at: 0) } == 1)
            stalled.reset()

            // The helpers reset as soon as the row is read.
            #expect(try reader.queryFirst("SELECT x FROM t ORDER BY x") { $0.int(at: 0) } == 1)
            try writer.execute("INSERT INTO t VALUES (?)", arguments: [5])
            let result = try writer.queryFirst(checkpoint) { [$0.int(at: 0), $0.int(at: 1)] }
            #expect(result == [0, 0])
        }
    }
}
