// What the store's background work tells the operator: the group committer and the indexer run on the writer
// thread with no caller to throw to (a failed group commit does fail its batches, but the streams only see
// UNAVAILABLE, never why), so without these a full disk or a read-only file would show as nothing in vigild's log.
// Streaks are reported, not every failure: the first, then on the 2nd, 4th, 8th... in a row, and their end once.

/// One event of the store's background work, for the server's log (`SQLiteStore.Configuration.report`).
public enum StoreReport: Sendable {
    /// An ingest group commit failed and rolled back (nothing of it stored or acked), `failures` in a row.
    case ingestCommitFailed(StoreError, failures: Int)
    /// Group commits succeed again after `failures` in a row failed.
    case ingestCommitRecovered(failures: Int)
    /// An indexing slice failed and rolled back, `failures` in a row; the next try comes after `retryIn`.
    case indexingFailed(StoreError, failures: Int, retryIn: Duration)
    /// Indexing succeeds again after `failures` in a row failed.
    case indexingRecovered(failures: Int)
}
