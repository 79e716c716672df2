// The WAL file's size after a big transaction: SQLite reuses the file from its start once a checkpoint lets the log
// restart, but never shrinks it unless `journal_size_limit` says so, so one large indexing slice would leave a file
// of hundreds of MiB for good. Both sides are measured: without the limit the file stays big (so the test can fail).
import Foundation
import Testing
import VigilSQLite
import VigilTesting

@Suite("WAL size limit")
struct WALSizeTests {
    /// Writes ~4 MiB in one transaction, checkpoints, writes a little more (the log restarts), and returns the WAL
    /// file's size then.
    static func walSizeAfterBurst(limit: Int?) throws -> Int {
        try withDirectory { directory in
            let path = directory.file("wal.sqlite")
            let database = try openWAL(path)
            if let limit { try database.setJournalSizeLimit(bytes: limit) }
            try database.execute("CREATE TABLE t (x)")
            let padding = String(repeating: "w", count: 4_000)
            try database.transaction { database in
                for index in 0..<1_000 { try database.execute("INSERT INTO t VALUES (?)", arguments: ["\(index)\(padding)"]) }
            }
            _ = try database.queryFirst("PRAGMA wal_checkpoint(PASSIVE)") { $0.int(at: 0) }
            try database.execute("INSERT INTO t VALUES ('after')")
            _ = try database.queryFirst("PRAGMA wal_checkpoint(PASSIVE)") { $0.int(at: 0) }
            let attributes = try FileManager.default.attributesOfItem(atPath: path + "-wal")
            return (attributes[.size] as? NSNumber)?.intValue ?? -1
        }
    }

    @Test("with journal_size_limit the WAL file is cut back after a burst; without it, it keeps the burst's size")
    func limitCutsTheFileBack() throws {
        let unlimited = try Self.walSizeAfterBurst(limit: nil)
        let limited = try Self.walSizeAfterBurst(limit: 256 * 1024)
        #expect(unlimited > 3 << 20, "the burst should have grown the WAL past 3 MiB: \(unlimited)")
        #expect(limited >= 0 && limited <= 256 * 1024, "limited WAL file: \(limited) bytes")
    }
}
