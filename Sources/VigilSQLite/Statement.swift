// Owns one prepared statement (`sqlite3_stmt*`), finalized in deinit. Binding copies every value into SQLite
// (SQLITE_TRANSIENT), so nothing bound depends on Swift memory staying alive after the call.
//
// A Statement belongs to its connection's thread-confinement rule: use it on one thread at a time, like its Database.
// Parameter indexes are 1-based (as `?1` in SQL); column indexes are 0-based (as in SQLite's C API).
import CSQLite

public final class Statement {
    /// Kept strongly so the connection outlives every statement prepared on it.
    let connection: Connection
    let handle: OpaquePointer
    /// The SQL this statement was prepared from, repeated in errors (never the bound values).
    public let sql: String

    /// Prepares exactly one statement. Trailing text that is another statement is refused rather than silently
    /// ignored (the classic "only the first statement of my script ran" bug); `Database.execute(_:)` runs scripts.
    init(connection: Connection, sql: String, persistent: Bool) throws(SQLiteError) {
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        var statement: OpaquePointer?
        var extra: OpaquePointer?
        let result = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let result = sqlite3_prepare_v3(connection.handle, text, -1, flags, &statement, &tail)
            if result == SQLITE_OK, let tail, tail.pointee != 0 {
                // Comments and whitespace prepare to no statement; anything else is a second statement.
                sqlite3_prepare_v3(connection.handle, tail, -1, 0, &extra, nil)
            }
            return result
        }
        guard result == SQLITE_OK else {
            throw SQLiteError(resultCode: result, connection: connection.handle, sql: sql)
        }
        guard let statement else {
            throw SQLiteError(code: .misuse, message: "the SQL holds no statement", sql: sql)
        }
        if let extra {
            sqlite3_finalize(extra)
            sqlite3_finalize(statement)
            throw SQLiteError(
                code: .misuse,
                message: "prepare takes one statement; run scripts with Database.execute(_:)",
                sql: sql
            )
        }
        self.connection = connection
        self.handle = statement
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(self.handle)
    }

    /// The number of parameters (`?`, `?NNN`, `:name`...) the SQL declares.
    public var parameterCount: Int {
        Int(sqlite3_bind_parameter_count(self.handle))
    }

    /// True when the statement does not write, e.g. to assert that a read-only connection only runs reads.
    public var isReadOnly: Bool {
        sqlite3_stmt_readonly(self.handle) != 0
    }

    /// True between the first `step()` and the row set's end or a `reset()`: the window in which this statement
    /// holds a read snapshot open (and so holds back WAL checkpoints).
    public var isBusy: Bool {
        sqlite3_stmt_busy(self.handle) != 0
    }

    // MARK: Binding

    /// Binds `value` to the 1-based parameter `index`.
    public func bind(_ value: some SQLiteBindable, at index: Int) throws(SQLiteError) {
        try self.bindValue(value.sqliteValue, at: index)
    }

    /// Binds NULL to the 1-based parameter `index` (`bind(nil, at:)` cannot infer a type for the literal).
    public func bindNull(at index: Int) throws(SQLiteError) {
        try self.bindValue(.null, at: index)
    }

    /// Binds `value` to the parameter spelled `name` in the SQL, prefix included (`:id`, `@id`, `$id`).
    public func bind(_ value: some SQLiteBindable, named name: String) throws(SQLiteError) {
        let index = sqlite3_bind_parameter_index(self.handle, name)
        guard index > 0 else {
            throw SQLiteError(code: .range, message: "no parameter named \(name)", sql: self.sql)
        }
        try self.bindValue(value.sqliteValue, at: Int(index))
    }

    /// Replaces all bindings with `arguments`, bound to parameters 1...n. The count must match the SQL exactly: a
    /// missing argument would otherwise be bound as NULL without a word.
    public func bind(_ arguments: [any SQLiteBindable]) throws(SQLiteError) {
        guard arguments.count == self.parameterCount else {
            throw SQLiteError(
                code: .range,
                message: "the statement takes \(self.parameterCount) arguments, \(arguments.count) given",
                sql: self.sql
            )
        }
        sqlite3_clear_bindings(self.handle)
        for (offset, argument) in arguments.enumerated() {
            try self.bindValue(argument.sqliteValue, at: offset + 1)
        }
    }

    /// Unbinds every parameter (they read as NULL), also dropping SQLite's copies of the previous values.
    public func clearBindings() {
        sqlite3_clear_bindings(self.handle)
    }

    private func bindValue(_ value: SQLiteValue, at index: Int) throws(SQLiteError) {
        guard let position = Int32(exactly: index) else {
            throw SQLiteError(code: .range, message: "parameter index \(index) out of range", sql: self.sql)
        }
        let result: Int32
        switch value {
        case .null:
            result = sqlite3_bind_null(self.handle, position)
        case .integer(let integer):
            result = sqlite3_bind_int64(self.handle, position, integer)
        case .real(let real):
            result = sqlite3_bind_double(self.handle, position, real)
        case .text(var text):
            result = text.withUTF8 { bytes in
                // A NULL pointer would bind SQL NULL: the empty string needs a real (empty) C string.
                guard let base = bytes.baseAddress, bytes.count > 0 else {
                    let encoding = UInt8(SQLITE_UTF8)
                    return sqlite3_bind_text64(self.handle, position, "", 0, vigil_sqlite_transient(), encoding)
                }
                return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { characters in
                    sqlite3_bind_text64(
                        self.handle,
                        position,
                        characters,
                        UInt64(bytes.count),
                        vigil_sqlite_transient(),
                        UInt8(SQLITE_UTF8)
                    )
                }
            }
        case .blob(let bytes):
            result = bytes.withUnsafeBytes { raw in
                // Same trap as text: a NULL pointer binds NULL, so an empty blob is bound as a zero-length blob.
                guard let base = raw.baseAddress, raw.count > 0 else {
                    return sqlite3_bind_zeroblob(self.handle, position, 0)
                }
                return sqlite3_bind_blob64(self.handle, position, base, UInt64(raw.count), vigil_sqlite_transient())
            }
        }
        try self.connection.check(result, sql: self.sql)
    }

    // MARK: Stepping

    /// Advances to the next row: true when a row is available, false when the statement has run to completion.
    public func step() throws(SQLiteError) -> Bool {
        let result = sqlite3_step(self.handle)
        switch result {
        case SQLITE_ROW:
            return true
        case SQLITE_DONE:
            return false
        default:
            throw SQLiteError(resultCode: result, connection: self.connection.handle, sql: self.sql)
        }
    }

    /// Rewinds the statement and clears its bindings, ending its read snapshot. The result of `sqlite3_reset` only
    /// repeats the error the failing `step()` already threw, so it is not reported twice.
    public func reset() {
        sqlite3_reset(self.handle)
        sqlite3_clear_bindings(self.handle)
    }

    /// Rewinds without touching the bindings, for a caller that bound values and then asks to run the statement.
    func rewind() {
        sqlite3_reset(self.handle)
    }
}
