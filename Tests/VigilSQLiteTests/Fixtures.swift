// Shared setup for the VigilSQLite tests: every test works on real database files in its own temporary directory,
// so tests can run in parallel without sharing state.
import VigilSQLite
import VigilTesting

/// Runs `body` with a fresh temporary directory that lives until `body` returns (ARC could otherwise release it,
/// and delete the files, after its last mention).
func withDirectory<Result>(_ body: (TemporaryDirectory) throws -> Result) throws -> Result {
    let directory = try TemporaryDirectory(prefix: "vigil-sqlite")
    return try withExtendedLifetime(directory) {
        try body(directory)
    }
}

/// Opens (creating) a database in WAL mode, the mode Vigil runs in.
func openWAL(_ path: String, busyTimeout: Duration = .seconds(5)) throws -> Database {
    let database = try Database(path: path, options: Database.Options(busyTimeout: busyTimeout))
    try database.setJournalMode(.wal)
    return database
}

func count(_ database: Database, _ table: String) throws -> Int {
    try database.queryFirst("SELECT count(*) FROM \(table)") { $0.int(at: 0) } ?? -1
}

/// An error no SQLite call can throw, to tell the body's own failure from anything else.
struct ExpectedFailure: Error, Equatable {
    var tag: String
}
