// The one error type of VigilSQLite: what SQLite reported, captured the moment it failed, and never the values that
// were bound to the statement (they can be passwords or tokens), so the error is safe to log anywhere.
import CSQLite

public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// The primary result code: what callers branch on (`.busy` to retry, `.constraint` to report a conflict).
    public var code: Code
    /// The extended result code SQLite returned (`SQLITE_BUSY_SNAPSHOT`, `SQLITE_CONSTRAINT_UNIQUE`...), kept for
    /// diagnosis; for errors raised by VigilSQLite itself it equals `code.rawValue`.
    public var extendedCode: Int32
    /// SQLite's own explanation, read with `sqlite3_errmsg` right after the failing call, before anything else on the
    /// connection could overwrite it.
    public var message: String
    /// The SQL text being run, when there was one. Argument values are never recorded: they are bound, not inlined.
    public var sql: String?

    public init(code: Code, extendedCode: Int32? = nil, message: String, sql: String? = nil) {
        self.code = code
        self.extendedCode = extendedCode ?? code.rawValue
        self.message = message
        self.sql = sql
    }

    /// Builds the error from a failing result code. The connection's message is used only when it describes this
    /// very failure; otherwise SQLite's generic text for the code is the honest answer.
    init(resultCode: Int32, connection: OpaquePointer?, sql: String?) {
        var message: String?
        if let connection, sqlite3_extended_errcode(connection) == resultCode, let text = sqlite3_errmsg(connection) {
            message = String(cString: text)
        }
        if message == nil, let text = sqlite3_errstr(resultCode) {
            message = String(cString: text)
        }
        self.init(
            code: Code(rawValue: resultCode & 0xff),
            extendedCode: resultCode,
            message: message ?? "unknown error",
            sql: sql
        )
    }

    public var description: String {
        var text = "SQLiteError \(self.code)"
        if self.extendedCode != self.code.rawValue {
            text += " (extended \(self.extendedCode))"
        }
        text += ": \(self.message)"
        if let sql = self.sql {
            text += " [SQL: \(sql)]"
        }
        return text
    }
}
