// One SQLite connection: opening it with the flags Vigil relies on, running SQL, and caching prepared statements.
//
// Threading contract: a Database is opened with SQLITE_OPEN_NOMUTEX, so SQLite does no locking of its own for it. Use
// it (and every Statement prepared on it) from one thread at a time: typically the thread of the writer queue that
// owns it, or one reader at a time borrowing it from a pool. That is why it is not Sendable: code that moves a
// connection between threads must say, at that point, what serializes the accesses. Connections never share state,
// so several connections to the same file are the way to get parallelism (one writer, many readers in WAL mode).
import CSQLite

public final class Database {
    let connection: Connection
    private var cache: StatementCache
    /// The path the connection was opened with.
    public let path: String
    /// How long a statement waits for another connection's lock before failing with `.busy`.
    public private(set) var busyTimeout: Duration

    /// Opens (or with `.readWriteCreate`, creates) the database at `path`. Pragmas such as WAL are not implied:
    /// they are per-file or per-connection decisions, made with the methods in Database+Pragmas.
    public init(path: String, options: Options = Options()) throws(SQLiteError) {
        self.connection = try Connection(path: path, flags: options.access.openFlags)
        self.cache = StatementCache(capacity: options.statementCacheCapacity)
        self.path = path
        self.busyTimeout = options.busyTimeout
        sqlite3_busy_timeout(self.connection.handle, options.busyTimeout.clampedMilliseconds)
    }

    /// Sets how long SQLite retries when another connection holds the lock it needs (`.zero`: fail at once).
    public func setBusyTimeout(_ timeout: Duration) {
        self.busyTimeout = timeout
        sqlite3_busy_timeout(self.connection.handle, timeout.clampedMilliseconds)
    }

    /// Runs a script of zero or more statements separated by semicolons, without arguments: schema, pragmas,
    /// transaction control. Values never belong here; bind them with `execute(_:arguments:)`.
    public func execute(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(self.connection.handle, sql, nil, nil, &errorMessage)
        defer { sqlite3_free(errorMessage) }
        guard result == SQLITE_OK else {
            var error = SQLiteError(resultCode: result, connection: self.connection.handle, sql: sql)
            if let errorMessage {
                error.message = String(cString: errorMessage)
            }
            throw error
        }
    }

    /// Runs one statement with `arguments` to completion, using the statement cache.
    public func execute(_ sql: String, arguments: [any SQLiteBindable]) throws(SQLiteError) {
        try self.cachedStatement(sql).execute(arguments: arguments)
    }

    /// Maps every row of one cached statement through `transform`; the statement is reset once the rows are read.
    public func query<Row>(
        _ sql: String,
        arguments: [any SQLiteBindable] = [],
        _ transform: (Statement) throws -> Row
    ) throws -> [Row] {
        try self.cachedStatement(sql).rows(arguments: arguments, transform)
    }

    /// Maps the first row of one cached statement, or nil when there is none; the statement is reset at once.
    public func queryFirst<Row>(
        _ sql: String,
        arguments: [any SQLiteBindable] = [],
        _ transform: (Statement) throws -> Row
    ) throws -> Row? {
        try self.cachedStatement(sql).firstRow(arguments: arguments, transform)
    }

    /// Prepares a statement the caller owns: finalized when the caller releases it.
    public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        try Statement(connection: self.connection, sql: sql, persistent: false)
    }

    /// Returns the cached statement for `sql`, rewound with its bindings cleared, preparing it on first use. The
    /// statement is shared: finish with it before asking for the same SQL again. If it is still mid-way through its
    /// rows (a nested query of the same SQL), a fresh uncached statement is returned instead of disturbing it.
    public func cachedStatement(_ sql: String) throws(SQLiteError) -> Statement {
        if let statement = self.cache.statement(for: sql) {
            if !statement.isBusy {
                statement.reset()
                return statement
            }
            return try Statement(connection: self.connection, sql: sql, persistent: false)
        }
        let statement = try Statement(connection: self.connection, sql: sql, persistent: true)
        self.cache.insert(statement)
        return statement
    }

    /// The number of statements currently cached.
    public var cachedStatementCount: Int {
        self.cache.count
    }

    /// Finalizes every cached statement not also held by a caller.
    public func clearStatementCache() {
        self.cache.removeAll()
    }

    /// The rowid of the last successful INSERT on this connection (other connections' inserts do not change it).
    public var lastInsertRowID: Int64 {
        sqlite3_last_insert_rowid(self.connection.handle)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE on this connection.
    public var changes: Int {
        Int(sqlite3_changes64(self.connection.handle))
    }

    /// True when SQLite opened the main database read-only: asked to (`.readOnly`), or because the file or its
    /// filesystem refused write access, in which case SQLite falls back to reading silently and every write fails
    /// with SQLITE_READONLY for the connection's whole life.
    public var isReadOnly: Bool {
        sqlite3_db_readonly(self.connection.handle, "main") == 1
    }

    /// True inside BEGIN...COMMIT: SQLite is not in autocommit mode.
    public var isInTransaction: Bool {
        sqlite3_get_autocommit(self.connection.handle) == 0
    }
}
