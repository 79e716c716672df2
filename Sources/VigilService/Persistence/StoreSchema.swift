// The SQLite schema, as ordered named migrations (names are recorded in the database and never change once
// shipped; a change is a new migration appended at the end). Operators read the file with `sqlite3`: since 0009
// events are stored a few dozen per row of `event_batches` (first and last id, count, and the events as
// vigil.v1.Event encodings: StoreSchema+EventBatches), one row per alert in `alerts`, times as integer nanoseconds
// since the Unix epoch (UTC), severity as its rank (1 LOW ... 4 CRITICAL) and status as its lifecycle position
// (1 OPEN, 2 ACKNOWLEDGED, 3 RESOLVED), so ordering by the integer is ordering by rank, never alphabetical.
//
// Index design: each list ordering has an index whose columns are the order's key (the id last breaks ties), and
// each exact-match filter has an index of (filter column, time), so a page is a range scan of at most page_size
// matching rows and never a full scan plus a sort. Since 0004 these indexes are tables the indexer derives behind
// the acknowledged append (see `deferredIndexes`). Alerts repeat their event's
// severity, source_name and event_type (events never change, so the copies cannot drift) to make the alert filters
// and the severity order indexable without a join.
import VigilSQLite

enum StoreSchema {
    static let migrator = Migrator([
        Migration("0001_users_and_refresh_tokens", sql: Self.users),
        Migration("0002_events_and_alerts", sql: Self.eventsAndAlerts),
        Migration("0003_producers", sql: Self.producers),
        Migration("0004_deferred_indexes", sql: Self.deferredIndexes),
        Migration("0005_index_marks_per_index", sql: Self.indexMarksPerIndex),
        Migration("0006_event_postings", sql: Self.eventPostings),
        Migration("0007_time_postings", sql: Self.timePostings),
        Migration("0008_alert_postings", sql: Self.alertPostings),
        Self.eventBatches,
        Migration("0010_postings_by_segment", sql: Self.postingsBySegment),
    ])

    private static let users = """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE COLLATE NOCASE,
            role INTEGER NOT NULL CHECK (role BETWEEN 1 AND 3),
            password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            -- Bumped by disabling and password resets: every token issued before is refused.
            token_epoch INTEGER NOT NULL DEFAULT 0,
            -- Seconds since the epoch of the last such revocation, comparable with a token's iat.
            tokens_revoked_at INTEGER NOT NULL DEFAULT 0
        ) STRICT;
        CREATE INDEX users_role ON users (role);

        CREATE TABLE refresh_tokens (
            jti TEXT PRIMARY KEY NOT NULL,
            user_id INTEGER NOT NULL REFERENCES users (id),
            family_id TEXT NOT NULL,
            parent_jti TEXT,
            issued_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            revoked_at INTEGER
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
        CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
        """

    private static let eventsAndAlerts = """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            source_name TEXT NOT NULL,
            event_type TEXT NOT NULL,
            severity INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
            description TEXT NOT NULL,
            occurred_at INTEGER NOT NULL,
            received_at INTEGER NOT NULL,
            submitted_by_user_id INTEGER NOT NULL,
            submitted_by_username TEXT NOT NULL,
            idempotency_key TEXT
        ) STRICT;
        CREATE INDEX events_occurred ON events (occurred_at);
        CREATE INDEX events_severity_occurred ON events (severity, occurred_at);
        CREATE INDEX events_source_occurred ON events (source_name, occurred_at);
        CREATE INDEX events_type_occurred ON events (event_type, occurred_at);
        CREATE UNIQUE INDEX events_idempotency ON events (submitted_by_user_id, idempotency_key)
            WHERE idempotency_key IS NOT NULL;

        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            event_id INTEGER NOT NULL UNIQUE REFERENCES events (id),
            status INTEGER NOT NULL CHECK (status BETWEEN 1 AND 3),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            resolved_at INTEGER,
            version INTEGER NOT NULL DEFAULT 1,
            -- Copies of the (immutable) event's fields, so filters and the severity order need no join.
            severity INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
            source_name TEXT NOT NULL,
            event_type TEXT NOT NULL
        ) STRICT;
        CREATE INDEX alerts_created ON alerts (created_at);
        CREATE INDEX alerts_status_created ON alerts (status, created_at);
        CREATE INDEX alerts_severity_created ON alerts (severity, created_at);
        CREATE INDEX alerts_source_created ON alerts (source_name, created_at);
        CREATE INDEX alerts_type_created ON alerts (event_type, created_at);

        CREATE TABLE alert_changes (
            id INTEGER PRIMARY KEY,
            alert_id INTEGER NOT NULL REFERENCES alerts (id),
            changed_by_user_id INTEGER NOT NULL,
            changed_by_username TEXT NOT NULL,
            from_status INTEGER NOT NULL CHECK (from_status BETWEEN 1 AND 3),
            to_status INTEGER NOT NULL CHECK (to_status BETWEEN 1 AND 3),
            changed_at INTEGER NOT NULL,
            version INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX alert_changes_alert ON alert_changes (alert_id, id);
        """

    /// The write path of docs/STORAGE.md, "append now, index later": `events` and `alerts` keep every row but
    /// lose their secondary indexes, so acknowledging a batch costs appends, not a dozen scattered index updates.
    /// The indexer derives narrow index tables (`*_by_*`, WITHOUT ROWID, keyed like the indexes they replace, the
    /// id last) from the rows above each table's watermark in `index_marks`, in large sorted slices. Lists read an
    /// index table for rows up to the watermark and scan the few rows above it. Index rows are derived data: after
    /// a crash the indexer continues from the committed watermark. Idempotency keys get a table of their own, so a
    /// key check is a primary-key lookup.
    private static let deferredIndexes = """
        CREATE TABLE idempotency_keys (
            user_id INTEGER NOT NULL,
            key TEXT NOT NULL,
            event_id INTEGER NOT NULL,
            PRIMARY KEY (user_id, key)
        ) STRICT, WITHOUT ROWID;
        INSERT INTO idempotency_keys (user_id, key, event_id)
            SELECT submitted_by_user_id, idempotency_key, id FROM events WHERE idempotency_key IS NOT NULL;
        DROP INDEX events_idempotency;

        DROP INDEX events_occurred;
        DROP INDEX events_severity_occurred;
        DROP INDEX events_source_occurred;
        DROP INDEX events_type_occurred;
        DROP INDEX alerts_created;
        DROP INDEX alerts_status_created;
        DROP INDEX alerts_severity_created;
        DROP INDEX alerts_source_created;
        DROP INDEX alerts_type_created;

        CREATE TABLE events_by_time (
            occurred_at INTEGER NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (occurred_at, id)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE events_by_severity (
            severity INTEGER NOT NULL, occurred_at INTEGER NOT NULL, id INTEGER NOT NULL,
            PRIMARY KEY (severity, occurred_at, id)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE events_by_source (
            source_name TEXT NOT NULL, occurred_at INTEGER NOT NULL, id INTEGER NOT NULL,
            PRIMARY KEY (source_name, occurred_at, id)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE events_by_type (
            event_type TEXT NOT NULL, occurred_at INTEGER NOT NULL, id INTEGER NOT NULL,
            PRIMARY KEY (event_type, occurred_at, id)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE alerts_by_time (
            created_at INTEGER NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (created_at, id)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE alerts_by_status (
            status INTEGER NOT NULL, created_at INTEGER NOT NULL, id INTEGER NOT NULL,
            PRIMARY KEY (status, created_at, id)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE alerts_by_severity (
            severity INTEGER NOT NULL, created_at INTEGER NOT NULL, id INTEGER NOT NULL,
            PRIMARY KEY (severity, created_at, id)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE alerts_by_source (
            source_name TEXT NOT NULL, created_at INTEGER NOT NULL, id INTEGER NOT NULL,
            PRIMARY KEY (source_name, created_at, id)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE alerts_by_type (
            event_type TEXT NOT NULL, created_at INTEGER NOT NULL, id INTEGER NOT NULL,
            PRIMARY KEY (event_type, created_at, id)
        ) STRICT, WITHOUT ROWID;

        -- Highest id of each table whose index rows exist; rows above it are the tail lists scan.
        CREATE TABLE index_marks (
            name TEXT PRIMARY KEY NOT NULL CHECK (name IN ('events', 'alerts')),
            indexed_through INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        INSERT INTO index_marks (name, indexed_through) VALUES ('events', 0), ('alerts', 0);
        """

    /// One watermark per index table instead of one per indexed table, so the indexer can commit each index table
    /// in a transaction of its own (a shorter hold on the writer, which ingest's acks wait for) while every index
    /// still holds exactly the rows at or below its own mark. Each starts at its table's former mark.
    private static let indexMarksPerIndex = """
        CREATE TABLE index_marks_per_index (
            name TEXT PRIMARY KEY NOT NULL,
            table_name TEXT NOT NULL CHECK (table_name IN ('events', 'alerts')),
            indexed_through INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        INSERT INTO index_marks_per_index (name, table_name, indexed_through)
        SELECT x.name, x.table_name, m.indexed_through FROM (
            SELECT 'events_by_time' AS name, 'events' AS table_name UNION ALL SELECT 'events_by_severity', 'events'
            UNION ALL SELECT 'events_by_source', 'events' UNION ALL SELECT 'events_by_type', 'events'
            UNION ALL SELECT 'alerts_by_time', 'alerts' UNION ALL SELECT 'alerts_by_status', 'alerts'
            UNION ALL SELECT 'alerts_by_severity', 'alerts' UNION ALL SELECT 'alerts_by_source', 'alerts'
            UNION ALL SELECT 'alerts_by_type', 'alerts'
        ) x JOIN index_marks m ON m.name = x.table_name;
        DROP TABLE index_marks;
        ALTER TABLE index_marks_per_index RENAME TO index_marks;
        """

    /// The three event indexes whose keys scatter (severity, source, type) become postings (Postings.swift,
    /// docs/STORAGE.md): per slice and key one sorted run of (occurred_at, id) in chunk rows, so indexing a slice
    /// writes a few rows per key instead of a B-tree insertion per event. Their old tables go and their watermarks
    /// start over at 0: the indexer rebuilds them from the rows (meanwhile lists driven by them read a longer tail,
    /// with the same answers). The two directory indexes hold everything a walk needs to choose the next chunk.
    private static let eventPostings = """
        CREATE TABLE postings (
            index_name TEXT NOT NULL,
            key TEXT NOT NULL,
            -- The first event id of the slice the chunk was derived from.
            segment INTEGER NOT NULL,
            chunk INTEGER NOT NULL,
            low INTEGER NOT NULL,
            high INTEGER NOT NULL,
            count INTEGER NOT NULL,
            -- count × (occurred_at, id), 8 bytes little-endian each, ascending.
            entries BLOB NOT NULL,
            PRIMARY KEY (index_name, key, segment, chunk)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX postings_by_high ON postings (index_name, key, high, low);
        CREATE INDEX postings_by_low ON postings (index_name, key, low, high);
        DROP TABLE events_by_severity;
        DROP TABLE events_by_source;
        DROP TABLE events_by_type;
        UPDATE index_marks SET indexed_through = 0
            WHERE name IN ('events_by_severity', 'events_by_source', 'events_by_type');
        """

    /// events_by_time joins the postings too (one key, "", for every event): the indexer rebuilds it from mark 0.
    private static let timePostings = """
        DROP TABLE events_by_time;
        UPDATE index_marks SET indexed_through = 0 WHERE name = 'events_by_time';
        """

    /// The alert indexes but alerts_by_status (UpdateAlert moves rows in it) join the postings; the indexer
    /// rebuilds them from mark 0.
    private static let alertPostings = """
        DROP TABLE alerts_by_time;
        DROP TABLE alerts_by_severity;
        DROP TABLE alerts_by_source;
        DROP TABLE alerts_by_type;
        UPDATE index_marks SET indexed_through = 0
            WHERE name IN ('alerts_by_time', 'alerts_by_severity', 'alerts_by_source', 'alerts_by_type');
        """

    /// The postings rows keyed by slice before key: an index step's rows (one or more per key, ~1,200 for 100,000
    /// events) then land together at the end of their index's range instead of one beside each key's older chunks,
    /// so a step dirties the few pages its rows fill rather than a page per key (1,000 sources: 16 MB of WAL a step,
    /// and steps that grew from 25 to 90 ms as the table did). Reads reach chunks through the two directory indexes,
    /// which are unchanged, and a chunk by its whole key.
    private static let postingsBySegment = """
        CREATE TABLE postings_by_segment (
            index_name TEXT NOT NULL,
            key TEXT NOT NULL,
            segment INTEGER NOT NULL,
            chunk INTEGER NOT NULL,
            low INTEGER NOT NULL,
            high INTEGER NOT NULL,
            count INTEGER NOT NULL,
            entries BLOB NOT NULL,
            PRIMARY KEY (index_name, segment, key, chunk)
        ) STRICT, WITHOUT ROWID;
        INSERT INTO postings_by_segment SELECT index_name, key, segment, chunk, low, high, count, entries
            FROM postings ORDER BY index_name, segment, key, chunk;
        DROP TABLE postings;
        ALTER TABLE postings_by_segment RENAME TO postings;
        CREATE INDEX postings_by_high ON postings (index_name, key, high, low);
        CREATE INDEX postings_by_low ON postings (index_name, key, low, high);
        """

    /// Ingest producers' high-water marks, written in the same transaction as their events (the ingest issue).
    private static let producers = """
        CREATE TABLE producers (
            producer_id BLOB PRIMARY KEY NOT NULL CHECK (length(producer_id) = 16),
            user_id INTEGER NOT NULL,
            last_sequence INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        """
}
