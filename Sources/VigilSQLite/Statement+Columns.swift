// Typed readers for the current row. They are valid only after `step()` returned true; an out-of-range column is a
// programming error and traps, as an out-of-range array index does.
import CSQLite

extension Statement {
    /// The number of columns each row of this statement has (0 for statements that return no data).
    public var columnCount: Int {
        Int(sqlite3_column_count(self.handle))
    }

    /// The column's name as the SQL spells it (its `AS` alias when there is one).
    public func columnName(at column: Int) -> String {
        let position = self.position(of: column)
        guard let name = sqlite3_column_name(self.handle, position) else {
            return ""
        }
        return String(cString: name)
    }

    public func isNull(at column: Int) -> Bool {
        sqlite3_column_type(self.handle, self.position(of: column)) == SQLITE_NULL
    }

    /// The column as an integer, with SQLite's conversions (NULL reads as 0: check `isNull(at:)` when that matters).
    public func int64(at column: Int) -> Int64 {
        sqlite3_column_int64(self.handle, self.position(of: column))
    }

    public func int(at column: Int) -> Int {
        Int(self.int64(at: column))
    }

    /// Non-zero reads as true, as SQLite stores booleans as integers.
    public func bool(at column: Int) -> Bool {
        self.int64(at: column) != 0
    }

    /// The column as a floating-point number (NULL reads as 0.0).
    public func double(at column: Int) -> Double {
        sqlite3_column_double(self.handle, self.position(of: column))
    }

    /// The column as text, nil for NULL. The bytes are validated as UTF-8: data that is not is reported as
    /// `.invalidUTF8` instead of being repaired with U+FFFD (which would silently change what the caller compares,
    /// hashes or echoes back). The error names the column, never its content.
    public func string(at column: Int) throws(SQLiteError) -> String? {
        let position = self.position(of: column)
        // The type must be read before any conversion: afterwards it is undefined.
        if sqlite3_column_type(self.handle, position) == SQLITE_NULL {
            return nil
        }
        let text = sqlite3_column_text(self.handle, position)
        let count = Int(sqlite3_column_bytes(self.handle, position))
        guard let text, count > 0 else {
            try self.checkNotOutOfMemory()
            return ""
        }
        let bytes = UnsafeBufferPointer(start: text, count: count)
        // ASCII (host names, event types, usernames: most text here) is valid UTF-8 as it stands. The OR below is
        // vectorised; `String(validating:)` instantiates generic metadata on every call, which was a fifth of the
        // indexer's time reading a slice of events (perf), so it only sees the rest.
        var highBits: UInt8 = 0
        for byte in bytes { highBits |= byte }
        if highBits < 0x80 { return String(decoding: bytes, as: UTF8.self) }
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw SQLiteError(
                code: .invalidUTF8,
                message: "column \(column) (\(self.columnName(at: column))) holds text that is not valid UTF-8",
                sql: self.sql
            )
        }
        return string
    }

    /// The column's bytes, nil for NULL; a zero-length blob reads as `[]`, not nil.
    public func blob(at column: Int) throws(SQLiteError) -> [UInt8]? {
        let position = self.position(of: column)
        if sqlite3_column_type(self.handle, position) == SQLITE_NULL {
            return nil
        }
        let bytes = sqlite3_column_blob(self.handle, position)
        let count = Int(sqlite3_column_bytes(self.handle, position))
        guard let bytes, count > 0 else {
            try self.checkNotOutOfMemory()
            return []
        }
        return [UInt8](UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// The column's size in bytes (0 for NULL).
    public func byteCount(at column: Int) -> Int {
        let position = self.position(of: column)
        // sqlite3_column_bytes after sqlite3_column_blob, as SQLite advises, so no conversion happens in between.
        _ = sqlite3_column_blob(self.handle, position)
        return Int(sqlite3_column_bytes(self.handle, position))
    }

    /// Bytes `range` of a blob column, copying only those: nil for NULL or a range that is not within the value.
    /// For reading a few events of a large batch row without copying all of it.
    public func blob(at column: Int, range: Range<Int>) throws(SQLiteError) -> [UInt8]? {
        let position = self.position(of: column)
        if sqlite3_column_type(self.handle, position) == SQLITE_NULL {
            return nil
        }
        let bytes = sqlite3_column_blob(self.handle, position)
        let count = Int(sqlite3_column_bytes(self.handle, position))
        guard range.lowerBound >= 0, range.upperBound <= count else { return nil }
        guard let bytes, count > 0 else {
            try self.checkNotOutOfMemory()
            return range.isEmpty ? [] : nil
        }
        return [UInt8](UnsafeRawBufferPointer(start: bytes + range.lowerBound, count: range.count))
    }

    /// The column in its own storage class, for callers that do not know the type in advance.
    public func value(at column: Int) throws(SQLiteError) -> SQLiteValue {
        switch sqlite3_column_type(self.handle, self.position(of: column)) {
        case SQLITE_INTEGER:
            return .integer(self.int64(at: column))
        case SQLITE_FLOAT:
            return .real(self.double(at: column))
        case SQLITE_TEXT:
            return .text(try self.string(at: column) ?? "")
        case SQLITE_BLOB:
            return .blob(try self.blob(at: column) ?? [])
        default:
            return .null
        }
    }

    private func position(of column: Int) -> Int32 {
        precondition(column >= 0 && column < self.columnCount, "column \(column) out of range in \(self.sql)")
        return Int32(column)
    }

    /// A NULL pointer for a non-NULL value means either "empty" or "out of memory"; only the connection knows which.
    private func checkNotOutOfMemory() throws(SQLiteError) {
        let code = sqlite3_errcode(self.connection.handle)
        if code == SQLITE_NOMEM {
            throw SQLiteError(resultCode: code, connection: self.connection.handle, sql: self.sql)
        }
    }
}
