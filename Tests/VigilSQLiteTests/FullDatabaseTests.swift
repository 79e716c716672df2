// A database that cannot grow (a full disk, simulated with `PRAGMA max_page_count`, which makes SQLite fail exactly
// as ENOSPC does: SQLITE_FULL) or cannot be written (`PRAGMA query_only`, SQLITE_READONLY; CI runs as root, so file
// modes cannot stop writes). The store relies on three things tested here: the failure arrives as a typed error
// with the right code, the transaction is rolled back whole (nothing of it visible, also after a COMMIT that
// failed), and the connection is usable again at once when space returns: no error state sticks to it.
import Testing
import VigilSQLite
import VigilTesting

@Suite("Full and read-only databases")
struct FullDatabaseTests {
    @Test("SQLITE_FULL rolls the whole transaction back, and the connection writes again once there is room")
    func fullRollsBackAndRecovers() throws {
        try withDirectory { directory in
            let path = directory.file("full.sqlite")
            let writer = try openWAL(path)
            let reader = try Database(path: path)
            try writer.execute("CREATE TABLE t (x)")
            try writer.execute("INSERT INTO t VALUES ('first')")
            let pages = try writer.queryFirst("PRAGMA page_count") { $0.int(at: 0) } ?? 0
            try writer.execute("PRAGMA max_page_count = \(pages)")
            let padding = String(repeating: "z", count: 2_000)
            for _ in 0..<3 {
                do {
                    try writer.transaction { database in
                        for index in 0..<200 {
                            try database.execute("INSERT INTO t VALUES (?)", arguments: ["\(index) \(padding)"])
                        }
                    }
                    Issue.record("200 rows of 2 KB fitted in a database capped at its size")
                } catch let error as SQLiteError {
                    #expect(error.code == .full, "\(error)")
                }
                #expect(!writer.isInTransaction)
                #expect(try count(writer, "t") == 1)
                #expect(try count(reader, "t") == 1)
            }
            try writer.execute("PRAGMA max_page_count = 1073741823")
            try writer.transaction { database in
                for index in 0..<200 {
                    try database.execute("INSERT INTO t VALUES (?)", arguments: ["\(index) \(padding)"])
                }
            }
            #expect(try count(reader, "t") == 201)
        }
    }

    @Test("a read-only connection's writes fail with READONLY and leave nothing behind")
    func readOnlyRefuses() throws {
        try withDirectory { directory in
            let path = directory.file("readonly.sqlite")
            let writer = try openWAL(path)
            try writer.execute("CREATE TABLE t (x)")
            try writer.execute("PRAGMA query_only = 1")
            do {
                try writer.transaction(.immediate) { database in
                    try database.execute("INSERT INTO t VALUES (1)")
                }
                Issue.record("a query-only connection wrote")
            } catch let error as SQLiteError {
                #expect(error.code == .readOnly, "\(error)")
            }
            #expect(!writer.isInTransaction)
            try writer.execute("PRAGMA query_only = 0")
            try writer.execute("INSERT INTO t VALUES (1)")
            #expect(try count(writer, "t") == 1)
        }
    }

    @Test("isReadOnly tells a connection that cannot write from one that can")
    func reportsReadOnly() throws {
        try withDirectory { directory in
            let path = directory.file("access.sqlite")
            let writer = try openWAL(path)
            try writer.execute("CREATE TABLE t (x)")
            #expect(!writer.isReadOnly)
            let reader = try Database(path: path, options: Database.Options(access: .readOnly))
            #expect(reader.isReadOnly)
        }
    }
}
