// Typed pragmas. Pragma names and values cannot be bound as parameters, so the settable ones take enums or integers
// (never free text that could smuggle SQL), and each setter reads the setting back: SQLite ignores some pragmas
// without an error (WAL on an in-memory database, foreign_keys inside a transaction), and running without the
// setting the caller asked for is the bug worth failing on.
extension Database {
    public enum JournalMode: String, Sendable {
        case delete, truncate, persist, memory, wal, off
    }

    public enum Synchronous: Int64, Sendable {
        /// No fsync: fast, a power loss can corrupt the database.
        case off = 0
        /// In WAL mode: durable except for the last transactions before a power loss; never corrupt.
        case normal = 1
        /// fsync at every commit: durable commits.
        case full = 2
        /// Like full, also syncing the directory in rollback-journal modes.
        case extra = 3
    }

    /// Reads a pragma's current value (the first column of its first row), nil when it returns no row.
    public func pragma(_ name: String) throws(SQLiteError) -> SQLiteValue? {
        precondition(Self.isPragmaName(name), "not a pragma name: \(name)")
        return try self.readFirstValue("PRAGMA \(name)")
    }

    public func journalMode() throws(SQLiteError) -> JournalMode {
        try self.parseJournalMode(self.pragma("journal_mode"))
    }

    /// Switches the journal mode (WAL is persistent: stored in the file for every later connection). Throws
    /// `.pragmaNotApplied` when SQLite keeps another mode, e.g. WAL for an in-memory database.
    public func setJournalMode(_ mode: JournalMode) throws(SQLiteError) {
        let effective = try self.parseJournalMode(self.readFirstValue("PRAGMA journal_mode = \(mode.rawValue)"))
        guard effective == mode else {
            throw SQLiteError(
                code: .pragmaNotApplied,
                message: "journal_mode stayed \(effective.rawValue), \(mode.rawValue) was requested",
                sql: "PRAGMA journal_mode = \(mode.rawValue)"
            )
        }
    }

    public func synchronous() throws(SQLiteError) -> Synchronous {
        let value = try self.pragma("synchronous")
        guard case .integer(let level) = value, let synchronous = Synchronous(rawValue: level) else {
            throw SQLiteError(code: .mismatch, message: "unexpected synchronous value \(Self.show(value))")
        }
        return synchronous
    }

    public func setSynchronous(_ level: Synchronous) throws(SQLiteError) {
        try self.execute("PRAGMA synchronous = \(level.rawValue)")
        try self.verify("synchronous", equals: level.rawValue)
    }

    public func foreignKeysEnabled() throws(SQLiteError) -> Bool {
        try self.pragma("foreign_keys") == .integer(1)
    }

    /// Sets the page size a new database file is created with. SQLite applies it only while the file holds no
    /// table yet (and, in WAL mode, never after), so on an existing database this changes nothing: the size in
    /// effect is `pragma("page_size")`.
    public func setPageSizeForNewDatabase(bytes: Int) throws(SQLiteError) {
        precondition(bytes >= 512 && bytes <= 65_536 && bytes & (bytes - 1) == 0, "a page size is a power of two")
        try self.execute("PRAGMA page_size = \(bytes)")
    }

    /// Foreign keys are off by default in SQLite and per connection; the pragma is a no-op inside a transaction,
    /// which this reports as `.pragmaNotApplied` rather than leaving them off.
    public func setForeignKeys(_ enabled: Bool) throws(SQLiteError) {
        try self.execute("PRAGMA foreign_keys = \(enabled ? "ON" : "OFF")")
        try self.verify("foreign_keys", equals: enabled ? 1 : 0)
    }

    /// Sets the page cache of this connection to about `kibibytes` KiB (SQLite's negative `cache_size` form, which
    /// does not depend on the page size).
    public func setCacheSize(kibibytes: Int) throws(SQLiteError) {
        precondition(kibibytes > 0, "cache size must be positive")
        try self.execute("PRAGMA cache_size = -\(kibibytes)")
        try self.verify("cache_size", equals: -Int64(kibibytes))
    }

    /// Caps the size a WAL file keeps after a checkpoint resets it (SQLite's `journal_size_limit`). Without it the
    /// file stays as large as the biggest stretch of log it ever held, however small the log is afterwards.
    public func setJournalSizeLimit(bytes: Int) throws(SQLiteError) {
        precondition(bytes >= 0, "a journal size limit cannot be negative")
        try self.execute("PRAGMA journal_size_limit = \(bytes)")
        try self.verify("journal_size_limit", equals: Int64(bytes))
    }

    /// Checkpoints the WAL into the database once it holds `pages` pages, after a commit (`wal_autocheckpoint`).
    public func setWALAutocheckpoint(pages: Int) throws(SQLiteError) {
        precondition(pages > 0, "the checkpoint threshold must be positive")
        try self.execute("PRAGMA wal_autocheckpoint = \(pages)")
        try self.verify("wal_autocheckpoint", equals: Int64(pages))
    }

    private func verify(_ name: String, equals expected: Int64) throws(SQLiteError) {
        let value = try self.pragma(name)
        guard value == .integer(expected) else {
            throw SQLiteError(
                code: .pragmaNotApplied,
                message: "\(name) is \(Self.show(value)) after setting it to \(expected)",
                sql: "PRAGMA \(name) = \(expected)"
            )
        }
    }

    func readFirstValue(_ sql: String) throws(SQLiteError) -> SQLiteValue? {
        let statement = try self.prepare(sql)
        defer { statement.reset() }
        guard try statement.step() else {
            return nil
        }
        return try statement.value(at: 0)
    }

    private func parseJournalMode(_ value: SQLiteValue?) throws(SQLiteError) -> JournalMode {
        guard case .text(let text) = value, let mode = JournalMode(rawValue: text.lowercased()) else {
            throw SQLiteError(code: .mismatch, message: "unexpected journal_mode value \(Self.show(value))")
        }
        return mode
    }

    /// Pragma values are settings, not secrets, so unlike `SQLiteValue.description` this shows them.
    private static func show(_ value: SQLiteValue?) -> String {
        switch value {
        case nil: "no value"
        case .null: "NULL"
        case .integer(let integer): String(integer)
        case .real(let real): String(real)
        case .text(let text): "'\(text)'"
        case .blob(let bytes): "a \(bytes.count)-byte blob"
        }
    }

    private static func isPragmaName(_ name: String) -> Bool {
        guard !name.isEmpty else {
            return false
        }
        return name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                true
            default:
                false
            }
        }
    }
}
