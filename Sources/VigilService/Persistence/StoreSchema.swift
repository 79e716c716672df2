// The SQLite schema, as ordered named migrations (names are recorded in the database and never change once
// shipped; a change is a new migration appended at the end). Operators read the file with `sqlite3`: one row per
// event in the view `all_events`, one per alert in `all_alerts` (each the indexed table plus its recent tail), times as integer nanoseconds since the Unix epoch (UTC), severity as
// its rank (1 LOW ... 4 CRITICAL) and status as its lifecycle position (1 OPEN, 2 ACKNOWLEDGED, 3 RESOLVED), so
// ordering by the integer is ordering by rank, never alphabetical.
//
// Index design: each list ordering has an index whose columns are the order's key (the rowid `id`, implicit at the
// end of every index, breaks ties), and each exact-match filter has an index of (filter column, time), so a page is
// a range scan of at most page_size matching rows and never a full scan plus a sort. Alerts repeat their event's
// severity, source_name and event_type (events never change, so the copies cannot drift) to make the alert filters
// and the severity order indexable without a join.
import VigilSQLite

enum StoreSchema {
    static let migrator = Migrator([
        Migration("0001_users_and_refresh_tokens", sql: Self.users),
        Migration("0002_events_and_alerts", sql: Self.eventsAndAlerts),
        Migration("0003_producers", sql: Self.producers),
        Migration("0004_recent_tail_and_idempotency_keys", sql: Self.recentTail),
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

    /// The write path of docs/STORAGE.md: ingest appends to `events_recent` and `alerts_recent`, which have no
    /// secondary index (so an ack costs a few appends, not a dozen scattered index updates), and the indexer moves
    /// their oldest rows into the indexed `events` and `alerts` in large sorted batches. Ids are assigned by the
    /// writer, unique across both tables, and never change when a row moves. Lists read both (the tail is small);
    /// `alert_changes` loses its foreign key because its alert may still be in `alerts_recent`. Idempotency keys get
    /// a table of their own, so checking one is a primary-key lookup whichever table holds its event.
    private static let recentTail = """
        CREATE TABLE events_recent (
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

        CREATE TABLE alerts_recent (
            id INTEGER PRIMARY KEY,
            event_id INTEGER NOT NULL UNIQUE,
            status INTEGER NOT NULL CHECK (status BETWEEN 1 AND 3),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            resolved_at INTEGER,
            version INTEGER NOT NULL DEFAULT 1,
            severity INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
            source_name TEXT NOT NULL,
            event_type TEXT NOT NULL
        ) STRICT;

        CREATE TABLE idempotency_keys (
            user_id INTEGER NOT NULL,
            key TEXT NOT NULL,
            event_id INTEGER NOT NULL,
            PRIMARY KEY (user_id, key)
        ) STRICT, WITHOUT ROWID;
        INSERT INTO idempotency_keys (user_id, key, event_id)
            SELECT submitted_by_user_id, idempotency_key, id FROM events WHERE idempotency_key IS NOT NULL;
        DROP INDEX events_idempotency;

        CREATE TABLE alert_changes_new (
            id INTEGER PRIMARY KEY,
            alert_id INTEGER NOT NULL,
            changed_by_user_id INTEGER NOT NULL,
            changed_by_username TEXT NOT NULL,
            from_status INTEGER NOT NULL CHECK (from_status BETWEEN 1 AND 3),
            to_status INTEGER NOT NULL CHECK (to_status BETWEEN 1 AND 3),
            changed_at INTEGER NOT NULL,
            version INTEGER NOT NULL
        ) STRICT;
        INSERT INTO alert_changes_new SELECT * FROM alert_changes;
        DROP TABLE alert_changes;
        ALTER TABLE alert_changes_new RENAME TO alert_changes;
        CREATE INDEX alert_changes_alert ON alert_changes (alert_id, id);

        -- For operators with the sqlite3 CLI: every event and alert, wherever it is now.
        CREATE VIEW all_events AS SELECT * FROM events UNION ALL SELECT * FROM events_recent;
        CREATE VIEW all_alerts AS SELECT * FROM alerts UNION ALL SELECT * FROM alerts_recent;
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
