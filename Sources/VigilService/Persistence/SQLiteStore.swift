// The SQLite implementation of Store. One writer connection on a dedicated thread does every write, in BEGIN
// IMMEDIATE transactions (so a write never fails half-way with SQLITE_BUSY on lock upgrade), synchronous=FULL in
// WAL mode (a commit that returned survives a power loss). A few read-only connections on threads of their own
// serve gets and lists, each in one read transaction (one consistent snapshot per call); WAL lets them run beside
// the writer without waiting on it. None of this ever runs on Swift's cooperative pool (see ConnectionWorkers).
//
// The methods are split by concern: SQLiteStore+Users, +Tokens, +Events, +Alerts, +Lists, +Maintenance; the SQL
// they run lives next to them as constants, with every value bound as a parameter.
import Foundation
import Synchronization
import VigilSQLite
import VigilTLS

public final class SQLiteStore: Store {
    public struct Configuration: Sendable {
        /// The database file; created with the schema when missing.
        public var path: String
        /// Read-only connections (and threads) for gets and lists.
        public var readerCount = 2
        /// Jobs that may wait for the writer before callers are told `overloaded`.
        public var writerQueueCapacity = 4096
        /// Jobs that may wait for a reader before callers are told `overloaded`.
        public var readerQueueCapacity = 4096
        /// How long a connection waits for a lock held by another connection (another process, a checkpoint).
        public var busyTimeout: Duration = .seconds(5)
        /// The writer's page cache: index pages touched by ingest stay in memory (SQLite's 2 MiB default halves
        /// insert speed).
        public var writerCacheKiB = 65_536
        /// The WAL file is cut back to this size whenever a checkpoint lets the log restart: an indexing slice or a
        /// burst may grow it to hundreds of MiB, and without a limit the file keeps that size for good.
        public var walSizeLimitBytes = 64 << 20
        /// WAL pages after which a commit checkpoints them into the database file (`wal_autocheckpoint`). A page
        /// written by many commits between two checkpoints is copied to the database once.
        public var walCheckpointPages = 1_000
        /// The page size of a database file this store creates (an existing file keeps its own).
        public var newDatabasePageBytes = 16_384
        public var readerCacheKiB = 16_384
        /// Called first on each of the store's threads with its name (`vigil-writer-0`...), for a caller that can
        /// name threads more reliably than Foundation (vigild does it through pthread); nil leaves Foundation's.
        public var nameThread: (@Sendable (String) -> Void)?
        /// The HMAC key of page tokens (32 bytes or more). Random by default: tokens then do not survive a restart,
        /// which clients see as INVALID_ARGUMENT and answer by listing again from the first page.
        public var pageTokenKey: [UInt8] = SecureRandom.bytes(32)
        /// Events one ingest group commit takes at most (see IngestCommitter).
        public var maximumGroupEvents = 20_000
        /// Events the indexer moves from the recent tail into the indexed tables per transaction (docs/STORAGE.md).
        /// Live events' occurred_at scatter over the last minute of each index, so a slice dirties about the same
        /// pages whatever its size: 100,000 writes 4.9 KB per event to disk where 20,000 writes 16 KB, and sustains
        /// 20,000 events/s where 20,000-event slices fell behind. The cost is the writer held longer per slice:
        /// acks waiting behind one see seconds (`vigild --index-slice-events` chooses otherwise).
        public var indexSliceEvents = 100_000
        /// Lag (in events) past which indexing runs between group commits even while ingest is busy, bounding what
        /// every list has to scan. 100,000 kept ListAlerts p99 at 7.0-7.3 ms over 2.5-3.9 million alerts while
        /// ingesting 27,000 events/s, where 200,000 gave 10-12.5 ms; the price is bursts: a
        /// 150,000-event burst is acked at ~84k events/s instead of ~173k (README, "Lists under load").
        public var maximumTailEvents = 100_000
        /// The bound while no list has been served for `listDemandWindow`: nothing then pays for a longer tail, so a
        /// burst is acked at the append rate for longer (a 150,000-event burst at ~240k events/s instead of
        /// ~130k; README, Ingest). Once lists run again the lower bound applies at the next group commit.
        public var maximumTailEventsWithoutLists = 200_000
        /// How long after a list (ListEvents, ListAlerts, GetStats) the store counts as being read.
        public var listDemandWindow: Duration = .seconds(2)
        /// How long ingest must pause before the indexer moves the tail (see SQLiteStore+Indexer).
        public var indexIdleDelay: Duration = .milliseconds(100)
        /// First wait before retrying a failed indexing slice (a full disk, a read-only file); doubled per failure in
        /// a row up to `indexRetryMaximumDelay`. See SQLiteStore+Indexer.
        public var indexRetryInitialDelay: Duration = .milliseconds(500)
        public var indexRetryMaximumDelay: Duration = .seconds(30)
        /// Told about failure streaks of the group committer and the indexer and about their end (StoreReport), on
        /// the writer thread: keep it short (vigild writes one log line).
        public var report: (@Sendable (StoreReport) -> Void)?
        /// Runs on the writer thread before each ingest group commit: a test hook that slows the writer on purpose.
        public var beforeIngestCommit: (@Sendable () -> Void)?
        /// Runs on the indexer's thread after it prepared a postings slice there, before the writer inserts it:
        /// a test hook that lets other writes (retention) land in between.
        public var afterPostingsPrepared: (@Sendable () -> Void)?
        /// Now, in nanoseconds since the Unix epoch (UTC); replaceable so tests control time.
        public var clock: @Sendable () -> Int64 = SQLiteStore.systemClock

        public init(path: String) {
            self.path = path
        }
    }

    public static let systemClock: @Sendable () -> Int64 = {
        Int64((Date().timeIntervalSince1970 * 1_000_000_000).rounded())
    }

    public let configuration: Configuration
    let writer: ConnectionWorkers
    let readers: ConnectionWorkers
    /// One read connection for the indexer's postings slices, on a thread of its own, so lists never wait behind
    /// a slice being built (100,000 events take a reader ~140 ms) nor a slice behind a queue of lists.
    let indexer: ConnectionWorkers
    let pageTokens: PageTokenCodec
    let ingestCommitter: IngestCommitter
    /// False when the writer connection could only open the file read-only (a read-only filesystem or file):
    /// SQLite then falls back to reading without an error, and every write of this store's life fails with
    /// SQLITE_READONLY (UNAVAILABLE), even after the filesystem becomes writable again. A server should refuse to
    /// start on such a store (a restart is what recovers); offline readers such as backup can still use it.
    public let isWritable: Bool
    /// Backs `usersChanged`.
    let userChanges = Atomic<UInt64>(0)
    /// When a list last ran, for the tail bound.
    let lastList = LastOccurrence()
    /// Retention transactions committed so far: a postings slice prepared off the writer is inserted only if none
    /// committed since it was read (SQLiteStore+Indexer).
    let retentionCommits = Atomic<UInt64>(0)
    var clock: @Sendable () -> Int64 { self.configuration.clock }

    /// Opens (creating when missing) and migrates the database, then starts the writer and reader threads.
    /// Blocking (it opens files and may run migrations): call it at startup, not from a task on the cooperative pool
    /// that other work is waiting on.
    public init(configuration: Configuration) throws(StoreError) {
        precondition(configuration.readerCount >= 1, "a store needs a reader")
        self.configuration = configuration
        self.pageTokens = try PageTokenCodec(key: configuration.pageTokenKey)
        self.ingestCommitter = IngestCommitter(maximumGroupEvents: configuration.maximumGroupEvents)
        do {
            let writer = try Database(
                path: configuration.path,
                options: .init(access: .readWriteCreate, busyTimeout: configuration.busyTimeout)
            )
            self.isWritable = !writer.isReadOnly
            if self.isWritable { try writer.setPageSizeForNewDatabase(bytes: configuration.newDatabasePageBytes) }
            try writer.setJournalMode(.wal)
            try writer.setSynchronous(.full)
            try writer.setForeignKeys(true)
            try writer.setCacheSize(kibibytes: configuration.writerCacheKiB)
            try writer.setJournalSizeLimit(bytes: configuration.walSizeLimitBytes)
            try writer.setWALAutocheckpoint(pages: configuration.walCheckpointPages)
            try StoreSchema.migrator.migrate(writer)
            // Readers open after the writer made the file WAL and current, read-only whatever the file mode.
            var readers: [Database] = []
            for _ in 0..<configuration.readerCount {
                let reader = try Database(
                    path: configuration.path,
                    options: .init(access: .readOnly, busyTimeout: configuration.busyTimeout)
                )
                try reader.setCacheSize(kibibytes: configuration.readerCacheKiB)
                readers.append(reader)
            }
            self.writer = ConnectionWorkers(
                name: "vigil-writer",
                connections: [writer],
                capacity: configuration.writerQueueCapacity,
                nameThread: configuration.nameThread
            )
            self.readers = ConnectionWorkers(
                name: "vigil-reader",
                connections: readers,
                capacity: configuration.readerQueueCapacity,
                nameThread: configuration.nameThread
            )
            let indexer = try Database(
                path: configuration.path,
                options: .init(access: .readOnly, busyTimeout: configuration.busyTimeout)
            )
            try indexer.setCacheSize(kibibytes: configuration.readerCacheKiB)
            self.indexer = ConnectionWorkers(
                name: "vigil-indexer", connections: [indexer], capacity: 4, nameThread: configuration.nameThread)
        } catch {
            throw StoreError.from(error)
        }
        // A tail left by the previous run (a crash, a busy shutdown) starts moving at once.
        self.scheduleIndexing(onWriterOnly: true)
    }

    /// A store on `path` with default settings.
    public convenience init(path: String) throws(StoreError) {
        try self.init(configuration: Configuration(path: path))
    }

    deinit {
        self.writer.shutdown(wait: false)
        self.readers.shutdown(wait: false)
        self.indexer.shutdown(wait: false)
    }

    /// Fails queued calls, lets running ones finish, and closes every connection. Blocks until the threads exit:
    /// call it at shutdown, after the last caller is done. Readers close first so that the writer is the last
    /// connection: SQLite then checkpoints the WAL into the database file and removes it.
    public func close() {
        self.indexer.shutdown()
        self.readers.shutdown()
        self.writer.shutdown()
    }

    /// Runs `body` in one BEGIN IMMEDIATE transaction on the writer thread: committed when it returns, rolled back
    /// when it throws.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        try await self.writer.run { database in try database.transaction(.immediate, body) }
    }

    /// Runs `body` in one read transaction on a reader thread, so every statement of it sees the same snapshot.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        try await self.readers.run { database in try database.transaction(.deferred, body) }
    }

    /// Runs `body` on the writer connection outside any transaction, for tests and tools (backup, EXPLAIN).
    func withWriterConnection<T: Sendable>(
        _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(StoreError) -> T {
        try await self.writer.run(body)
    }

    /// Runs `body` on a reader connection outside any transaction, for tests (EXPLAIN QUERY PLAN).
    func withReaderConnection<T: Sendable>(
        _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(StoreError) -> T {
        try await self.readers.run(body)
    }
}
