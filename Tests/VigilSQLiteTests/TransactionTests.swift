// Transactions as closures, and what two connections to one WAL database see of each other: the write lock
// (BEGIN IMMEDIATE and the busy timeout) and snapshot isolation for readers.
import Testing
import VigilSQLite
import VigilTesting

@Suite("Transactions")
struct TransactionTests {
    @Test("commits when the body returns, visible to another connection, and passes the result through")
    func commits() throws {
        try withDirectory { directory in
            let path = directory.file("commit.sqlite")
            let writer = try openWAL(path)
            let reader = try Database(path: path)
            try writer.execute("CREATE TABLE t (x)")
            let rowid = try writer.transaction { database in
                try database.execute("INSERT INTO t VALUES (?)", arguments: ["a"])
                #expect(database.isInTransaction)
                return database.lastInsertRowID
            }
            #expect(rowid == 1)
            #expect(!writer.isInTransaction)
            #expect(try count(reader, "t") == 1)
        }
    }

    @Test("rolls back when the body throws and rethrows the body's error", arguments: [
        Database.TransactionKind.immediate, .deferred, .exclusive,
    ])
    func rollsBack(kind: Database.TransactionKind) throws {
        try withDirectory { directory in
            let path = directory.file("rollback.sqlite")
            let writer = try openWAL(path)
            let reader = try Database(path: path)
            try writer.execute("CREATE TABLE t (x); INSERT INTO t VALUES ('kept')")
            #expect(throws: ExpectedFailure(tag: "body")) {
                try writer.transaction(kind) { database in
                    try database.execute("INSERT INTO t VALUES (?)", arguments: ["lost"])
                    try database.execute("DELETE FROM t WHERE x = ?", arguments: ["kept"])
                    #expect(try count(database, "t") == 1)
                    throw ExpectedFailure(tag: "body")
                }
            }
            #expect(!writer.isInTransaction)
            #expect(try writer.query("SELECT x FROM t") { try $0.string(at: 0) } == ["kept"])
            #expect(try reader.query("SELECT x FROM t") { try $0.string(at: 0) } == ["kept"])
        }
    }

    @Test("rolls back when a statement in the body fails")
    func rollsBackOnSQLError() throws {
        try withDirectory { directory in
            let database = try openWAL(directory.file("sqlerror.sqlite"))
            try database.execute("CREATE TABLE t (x UNIQUE)")
            let error = #expect(throws: SQLiteError.self) {
                try database.transaction { database in
                    try database.execute("INSERT INTO t VALUES (?)", arguments: [1])
                    try database.execute("INSERT INTO t VALUES (?)", arguments: [1])
                }
            }
            #expect(error?.code == .constraint)
            #expect(try count(database, "t") == 0)
        }
    }

    @Test("refuses a nested transaction and leaves the outer one to roll back")
    func noNesting() throws {
        try withDirectory { directory in
            let database = try openWAL(directory.file("nested.sqlite"))
            try database.execute("CREATE TABLE t (x)")
            let error = #expect(throws: SQLiteError.self) {
                try database.transaction { database in
                    try database.execute("INSERT INTO t VALUES (?)", arguments: [1])
                    try database.transaction { _ in }
                }
            }
            #expect(error?.code == .error)
            #expect(try count(database, "t") == 0)
        }
    }

    @Test("fails with BUSY after the busy timeout while another connection holds the write lock")
    func busyWriter() throws {
        try withDirectory { directory in
            let path = directory.file("busy.sqlite")
            let first = try openWAL(path)
            try first.execute("CREATE TABLE t (x)")
            let timeout = Duration.milliseconds(300)
            let second = try Database(path: path, options: Database.Options(busyTimeout: timeout))

            try first.transaction(.immediate) { first in
                try first.execute("INSERT INTO t VALUES (?)", arguments: [1])
                var error: SQLiteError?
                let waited = ContinuousClock().measure {
                    error = #expect(throws: SQLiteError.self) {
                        try second.transaction(.immediate) { _ in }
                    }
                }
                #expect(error?.code == .busy)
                #expect(error?.message.contains("locked") == true)
                #expect(waited >= .milliseconds(250), "returned after \(waited), before the busy timeout")
                #expect(!second.isInTransaction)
            }
            // The lock was the only obstacle: once it is released the second connection writes.
            try second.transaction(.immediate) { second in
                try second.execute("INSERT INTO t VALUES (?)", arguments: [2])
            }
            #expect(try count(first, "t") == 2)
        }
    }

    @Test("lets a reader see committed rows, not uncommitted ones, while a writer holds a transaction open")
    func readerSnapshot() throws {
        try withDirectory { directory in
            let path = directory.file("snapshot.sqlite")
            let writer = try openWAL(path)
            // A zero busy timeout: if the reader were blocked by the writer it would fail instead of waiting.
            let reader = try Database(path: path, options: Database.Options(busyTimeout: .zero))
            try writer.execute("CREATE TABLE t (x); INSERT INTO t VALUES ('committed')")

            try writer.transaction(.immediate) { writer in
                try writer.execute("INSERT INTO t VALUES (?)", arguments: ["pending"])
                #expect(try count(writer, "t") == 2)
                #expect(try reader.query("SELECT x FROM t") { try $0.string(at: 0) } == ["committed"])
            }
            #expect(try count(reader, "t") == 2)

            // Inside a read transaction the reader keeps its snapshot even across another connection's commit.
            try reader.transaction(.deferred) { reader in
                #expect(try count(reader, "t") == 2)
                try writer.execute("INSERT INTO t VALUES (?)", arguments: ["later"])
                #expect(try count(reader, "t") == 2)
            }
            #expect(try count(reader, "t") == 3)
        }
    }
}
