// Owns one `sqlite3*` so the handle is closed exactly once, after the Database *and* every Statement prepared on it
// are gone: statements hold their connection strongly, so a statement never outlives its connection and the
// Database's statement cache never forms a reference cycle with the Database.
import CSQLite

final class Connection {
    let handle: OpaquePointer

    /// Opens `path` with `flags`, always adding `SQLITE_OPEN_NOMUTEX` and extended result codes. NOMUTEX drops
    /// SQLite's per-call locking: callers confine each connection to one thread at a time instead (see Database).
    init(path: String, flags: Int32) throws(SQLiteError) {
        _ = Self.processConfiguration
        var handle: OpaquePointer?
        let result = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard result == SQLITE_OK, let handle else {
            var error = SQLiteError(resultCode: result, connection: handle, sql: nil)
            error.message += " (opening \(path))"
            // sqlite3_open_v2 usually allocates a handle even when it fails; it must still be released.
            sqlite3_close_v2(handle)
            throw error
        }
        sqlite3_extended_result_codes(handle, 1)
        self.handle = handle
    }

    deinit {
        sqlite3_close_v2(self.handle)
    }

    /// Process-wide settings applied once, before the first connection initialises SQLite: memory statistics off
    /// (a global mutex around every SQLite malloc and free; 4 % of the ingest writer's samples).
    private static let processConfiguration: Void = {
        _ = vigil_sqlite_disable_memory_statistics()
    }()

    /// Throws the connection's current error when `result` is not `SQLITE_OK`.
    func check(_ result: Int32, sql: String?) throws(SQLiteError) {
        if result != SQLITE_OK {
            throw SQLiteError(resultCode: result, connection: self.handle, sql: sql)
        }
    }
}
