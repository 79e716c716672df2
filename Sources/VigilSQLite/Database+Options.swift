// How a connection is opened. The mutex mode is not an option: every connection is NOMUTEX and thread-confined.
import CSQLite

extension Database {
    public struct Options: Sendable {
        public enum Access: Sendable {
            /// Opens the file for reading and writing, creating it when missing.
            case readWriteCreate
            /// Opens an existing file for reading and writing; a missing file is `.cantOpen`.
            case readWrite
            /// Refuses every write with `.readOnly`, whatever the file's permissions (which root ignores anyway).
            case readOnly

            var openFlags: Int32 {
                switch self {
                case .readWriteCreate: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                case .readWrite: SQLITE_OPEN_READWRITE
                case .readOnly: SQLITE_OPEN_READONLY
                }
            }
        }

        public var access: Access
        /// How long to wait for another connection's lock before failing with `.busy`.
        public var busyTimeout: Duration
        /// How many prepared statements `cachedStatement(_:)` keeps; 0 disables the cache.
        public var statementCacheCapacity: Int

        public init(
            access: Access = .readWriteCreate,
            busyTimeout: Duration = .seconds(5),
            statementCacheCapacity: Int = 64
        ) {
            self.access = access
            self.busyTimeout = busyTimeout
            self.statementCacheCapacity = statementCacheCapacity
        }
    }
}
