// Result codes as a struct of statics rather than an enum, so a code SQLite adds later (or one VigilSQLite raises
// itself) never breaks a caller's exhaustive switch.
extension SQLiteError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// SQLite's primary result code (0...255); negative values are raised by VigilSQLite, never by SQLite.
        public var rawValue: Int32

        public init(rawValue: Int32) {
            self.rawValue = rawValue
        }

        // SQLite's primary result codes (https://sqlite.org/rescode.html).
        public static let error = Code(rawValue: 1)
        public static let `internal` = Code(rawValue: 2)
        public static let permission = Code(rawValue: 3)
        public static let abort = Code(rawValue: 4)
        public static let busy = Code(rawValue: 5)
        public static let locked = Code(rawValue: 6)
        public static let noMemory = Code(rawValue: 7)
        public static let readOnly = Code(rawValue: 8)
        public static let interrupt = Code(rawValue: 9)
        public static let ioError = Code(rawValue: 10)
        public static let corrupt = Code(rawValue: 11)
        public static let notFound = Code(rawValue: 12)
        public static let full = Code(rawValue: 13)
        public static let cantOpen = Code(rawValue: 14)
        public static let `protocol` = Code(rawValue: 15)
        public static let empty = Code(rawValue: 16)
        public static let schema = Code(rawValue: 17)
        public static let tooBig = Code(rawValue: 18)
        public static let constraint = Code(rawValue: 19)
        public static let mismatch = Code(rawValue: 20)
        public static let misuse = Code(rawValue: 21)
        public static let noLFS = Code(rawValue: 22)
        public static let auth = Code(rawValue: 23)
        public static let format = Code(rawValue: 24)
        public static let range = Code(rawValue: 25)
        public static let notADatabase = Code(rawValue: 26)

        // Raised by VigilSQLite itself.
        /// A TEXT value read from a column is not valid UTF-8; it is reported rather than silently repaired.
        public static let invalidUTF8 = Code(rawValue: -1)
        /// The database records a migration the running code does not know: it was migrated by newer code.
        public static let unknownMigration = Code(rawValue: -2)
        /// The code lists two migrations with the same name, or one without a name.
        public static let invalidMigrationList = Code(rawValue: -3)
        /// SQLite accepted a pragma but did not apply it (WAL on an in-memory database, foreign keys inside a
        /// transaction): reported, because silently running without it is the bug.
        public static let pragmaNotApplied = Code(rawValue: -4)

        public var description: String {
            let name: String? =
                switch self.rawValue {
                case 1: "ERROR"
                case 2: "INTERNAL"
                case 3: "PERM"
                case 4: "ABORT"
                case 5: "BUSY"
                case 6: "LOCKED"
                case 7: "NOMEM"
                case 8: "READONLY"
                case 9: "INTERRUPT"
                case 10: "IOERR"
                case 11: "CORRUPT"
                case 12: "NOTFOUND"
                case 13: "FULL"
                case 14: "CANTOPEN"
                case 15: "PROTOCOL"
                case 16: "EMPTY"
                case 17: "SCHEMA"
                case 18: "TOOBIG"
                case 19: "CONSTRAINT"
                case 20: "MISMATCH"
                case 21: "MISUSE"
                case 22: "NOLFS"
                case 23: "AUTH"
                case 24: "FORMAT"
                case 25: "RANGE"
                case 26: "NOTADB"
                case -1: "INVALID_UTF8"
                case -2: "UNKNOWN_MIGRATION"
                case -3: "INVALID_MIGRATION_LIST"
                case -4: "PRAGMA_NOT_APPLIED"
                default: nil
                }
            return "\(name ?? "CODE") (\(self.rawValue))"
        }
    }
}
