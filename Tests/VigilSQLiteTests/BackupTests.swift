// Online backup of a live database: the copy is consistent and complete up to the moment it began, while another
// connection keeps committing.
import Dispatch
import Foundation
import Synchronization
import Testing
import VigilSQLite
import VigilTesting

@Suite("Backup")
struct BackupTests {
    /// Shared between the test and its writer thread.
    final class WriterProgress: Sendable {
        let stop = Atomic<Bool>(false)
        let committed = Atomic<Int>(0)
        let failure = Mutex<String?>(nil)
    }

    static func fill(_ database: Database, rows: Int) throws {
        let payload = [UInt8](repeating: 0xAB, count: 512)
        try database.transaction { database in
            for _ in 0..<rows {
                try database.execute("INSERT INTO events (payload) VALUES (?)", arguments: [payload])
            }
        }
    }

    @Test("copies a WAL database that another connection keeps writing to, holding every row committed before")
    func backupWhileWriting() throws {
        try withDirectory { directory in
            let path = directory.file("live.sqlite")
            let copyPath = directory.file("copy.sqlite")
            let source = try openWAL(path)
            try source.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
            try Self.fill(source, rows: 3000)

            let progress = WriterProgress()
            let finished = DispatchSemaphore(value: 0)
            let writer = Thread {
                defer { finished.signal() }
                do {
                    let database = try Database(path: path)
                    try database.setSynchronous(.normal)
                    let payload = [UInt8](repeating: 0xCD, count: 512)
                    while !progress.stop.load(ordering: .relaxed) {
                        try database.execute("INSERT INTO events (payload) VALUES (?)", arguments: [payload])
                        progress.committed.add(1, ordering: .relaxed)
                    }
                } catch {
                    progress.failure.withLock { $0 = "\(error)" }
                }
            }
            writer.start()
            defer {
                progress.stop.store(true, ordering: .relaxed)
                finished.wait()
            }
            while progress.committed.load(ordering: .relaxed) < 20 && progress.failure.withLock({ $0 }) == nil {
                Thread.sleep(forTimeInterval: 0.001)
            }

            let (rowsBefore, lastBefore) = try #require(
                try source.queryFirst("SELECT count(*), max(id) FROM events") { ($0.int(at: 0), $0.int(at: 1)) }
            )
            let committedAtStart = progress.committed.load(ordering: .relaxed)
            try source.backup(to: copyPath, pagesPerStep: 2, pause: .milliseconds(2))
            let committedAtEnd = progress.committed.load(ordering: .relaxed)
            progress.stop.store(true, ordering: .relaxed)

            #expect(progress.failure.withLock { $0 } == nil)
            #expect(committedAtEnd > committedAtStart, "the writer should keep committing during the backup")

            let copy = try Database(path: copyPath, options: Database.Options(access: .readOnly))
            #expect(try copy.queryFirst("PRAGMA integrity_check") { try $0.string(at: 0) } == "ok")
            let keptBefore = try copy.queryFirst("SELECT count(*) FROM events WHERE id <= ?", arguments: [lastBefore]) {
                $0.int(at: 0)
            }
            #expect(keptBefore == rowsBefore)
            let bulk = try copy.queryFirst("SELECT count(*) FROM events WHERE payload = ?", arguments: [
                [UInt8](repeating: 0xAB, count: 512)
            ]) { $0.int(at: 0) }
            #expect(bulk == 3000)
            #expect(try count(copy, "events") <= count(source, "events"))
        }
    }

    @Test("copies a rollback-journal database a few pages at a time")
    func backupRollbackJournal() throws {
        try withDirectory { directory in
            let source = try Database(path: directory.file("journal.sqlite"))
            #expect(try source.journalMode() == .delete)
            try source.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
            try Self.fill(source, rows: 500)
            let copyPath = directory.file("journal-copy.sqlite")
            try source.backup(to: copyPath, pagesPerStep: 3)
            let copy = try Database(path: copyPath)
            #expect(try count(copy, "events") == 500)
            #expect(try copy.queryFirst("PRAGMA integrity_check") { try $0.string(at: 0) } == "ok")
            #expect(!source.isInTransaction)
        }
    }

    @Test("reports a destination that cannot be opened")
    func badDestination() throws {
        try withDirectory { directory in
            let source = try Database(path: directory.file("source.sqlite"))
            try source.execute("CREATE TABLE t (x)")
            let error = #expect(throws: SQLiteError.self) {
                try source.backup(to: directory.file("no-such-dir/copy.sqlite"))
            }
            #expect(error?.code == .cantOpen)
        }
    }
}
