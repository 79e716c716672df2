// Ingest batches reach the writer through a group committer: every batch queued while one transaction runs goes
// into the next one, so a commit (and its fsync) is paid once per group, not once per batch, and throughput does not
// depend on how small client batches are or how many streams send them. At most one drain job sits in the writer's
// FIFO at a time, so other writes (alert updates, users) still get their turn between groups.
//
// Exactly-once completion: a batch leaves the committer's queue exactly once, taken by a drain (which completes it
// after its transaction commits or fails) or by a failed drain submission (which fails it); whoever takes it calls
// its completion exactly once. Completions of one drain run in queue order, so one stream's acks stay in order.
import VigilAPI
import VigilSQLite
import Synchronization

/// The queue of ingest batches in front of the writer thread.
final class IngestCommitter: Sendable {
    struct Pending: Sendable {
        let batch: IngestBatch
        let completion: @Sendable (Result<IngestOutcome, StoreError>) -> Void
    }

    private struct State {
        var queue: [Pending] = []
        var drainQueued = false
        var indexingQueued = false
        var groupCommits: UInt64 = 0
        var indexingSlices = 0
        /// Indexing slices failed in a row (0 while indexing works): while above 0 only the retry timer queues a
        /// slice, so a full disk costs one failed slice per backoff step, not one per group commit or pause.
        var indexingFailures = 0
        /// Group commits failed in a row, for reporting a failure streak once and its end once.
        var commitFailures = 0
    }

    private let state = Mutex(State())
    /// Events one transaction takes at most (it always takes at least one batch): big enough that the commit cost
    /// vanishes, small enough that one group's latency stays a few milliseconds.
    let maximumGroupEvents: Int

    init(maximumGroupEvents: Int) {
        self.maximumGroupEvents = maximumGroupEvents
    }

    /// Queues `pending`; returns true when the caller must schedule a drain (none is queued yet).
    func enqueue(_ pending: Pending) -> Bool {
        self.state.withLock { state in
            state.queue.append(pending)
            guard !state.drainQueued else { return false }
            state.drainQueued = true
            return true
        }
    }

    /// The next group to commit, oldest first, or nil when the queue is empty (the drain then ends: the next
    /// `enqueue` schedules a new one).
    func takeGroup() -> [Pending]? {
        self.state.withLock { state in
            guard !state.queue.isEmpty else {
                state.drainQueued = false
                return nil
            }
            var events = 0
            var count = 0
            for pending in state.queue {
                if count > 0 && events + pending.batch.events.count > self.maximumGroupEvents { break }
                events += pending.batch.events.count
                count += 1
            }
            let group = Array(state.queue.prefix(count))
            state.queue.removeFirst(count)
            return group
        }
    }

    /// Counts a group commit; returns the new count (the indexer's notion of "ingest since").
    func recordGroupCommit() -> UInt64 {
        self.state.withLock { state in
            state.groupCommits += 1
            return state.groupCommits
        }
    }

    var groupCommits: UInt64 { self.state.withLock { $0.groupCommits } }

    /// True when no group commit finished since `generation` and no batch waits or is being committed.
    func isIdle(since generation: UInt64) -> Bool {
        self.state.withLock { state in
            state.groupCommits == generation && state.queue.isEmpty && !state.drainQueued
        }
    }

    /// `isIdle(since:)` for a caller on the writer thread, where no group can be mid-commit: a drain still queued
    /// then only finds the queue empty (each drain requeues itself once more), so it does not count as ingest.
    func isIdleOnWriter(since generation: UInt64) -> Bool {
        self.state.withLock { state in state.groupCommits == generation && state.queue.isEmpty }
    }

    /// True when the caller should queue an indexing slice: none is queued yet, and indexing is not backing off
    /// after a failure (then only the retry timer, `isRetry`, may queue one).
    func claimIndexing(isRetry: Bool = false) -> Bool {
        self.state.withLock { state in
            guard !state.indexingQueued else { return false }
            guard state.indexingFailures == 0 || isRetry else { return false }
            state.indexingQueued = true
            return true
        }
    }

    /// Counts a failed slice; returns the failures in a row, this one included.
    func recordIndexingFailure() -> Int {
        self.state.withLock { state in
            state.indexingFailures += 1
            return state.indexingFailures
        }
    }

    /// Counts a slice that committed; returns the failures in a row it ends (0 when there were none).
    func recordIndexingSuccess() -> Int {
        self.state.withLock { state in
            defer { state.indexingFailures = 0 }
            return state.indexingFailures
        }
    }

    /// Failed indexing slices in a row (for tests and diagnostics).
    var indexingFailures: Int { self.state.withLock { $0.indexingFailures } }

    /// Counts a group commit that failed (true) or committed (false); returns the failures in a row, this one
    /// included, when it failed, or the streak it ends (0 when there was none) when it committed.
    func recordCommitOutcome(failed: Bool) -> Int {
        self.state.withLock { state in
            if failed {
                state.commitFailures += 1
                return state.commitFailures
            }
            defer { state.commitFailures = 0 }
            return state.commitFailures
        }
    }

    /// The queued indexing slice started (or could not be queued): the next one may be queued.
    func finishIndexing(ran: Bool) {
        self.state.withLock { state in
            state.indexingQueued = false
            if ran { state.indexingSlices += 1 }
        }
    }

    /// Indexing slices started so far (for tests and diagnostics).
    var indexingSlices: Int { self.state.withLock { $0.indexingSlices } }

    /// Batches queued and not yet taken by a drain: what the server holds in memory for the writer.
    var queuedBatches: Int { self.state.withLock { $0.queue.count } }

    /// Takes every queued batch, for failing them when no drain can run.
    func takeAll() -> [Pending] {
        self.state.withLock { state in
            defer {
                state.queue = []
                state.drainQueued = false
            }
            return state.queue
        }
    }
}

extension SQLiteStore {
    public func producer(id: [UInt8]) async throws(StoreError) -> ProducerState? {
        // On the writer, behind every batch queued so far, so the answer includes them.
        try await self.withWriterConnection { database in try Self.producerState(database, id) }
    }

    public func submitIngest(
        _ batch: IngestBatch,
        completion: @escaping @Sendable (Result<IngestOutcome, StoreError>) -> Void
    ) {
        for event in batch.events {
            do {
                _ = try validSeverity(event.severity)
            } catch {
                completion(.failure(error))
                return
            }
        }
        if self.ingestCommitter.enqueue(IngestCommitter.Pending(batch: batch, completion: completion)) {
            self.scheduleIngestDrain()
        }
    }

    private func scheduleIngestDrain() {
        let job = ConnectionWorkers.Job(
            run: { database in self.drainIngest(database) },
            fail: { error in
                for pending in self.ingestCommitter.takeAll() { pending.completion(.failure(error)) }
            }
        )
        if let refusal = self.writer.submit(job) { job.fail(refusal) }
    }

    /// Commits one group on the writer thread, completes its batches, and queues the next drain if more arrived.
    private func drainIngest(_ database: Database) {
        guard let group = self.ingestCommitter.takeGroup() else {
            // The queue ran dry: ingest has stopped, so a tail left behind (an indexing slice that ran while this
            // drain was still queued saw no pause) is indexed once the pause lasts.
            if ((try? Self.tailEvents(database)) ?? 0) > 0 {
                self.scheduleIndexingAfterPause(since: self.ingestCommitter.groupCommits)
            }
            return
        }
        self.configuration.beforeIngestCommit?()
        let now = self.clock()
        let results: [Result<IngestOutcome, StoreError>]
        do {
            results = try database.transaction(.immediate) { database in
                try group.map { pending in try Self.commit(database, pending.batch, receivedAt: now) }
            }
            let ended = self.ingestCommitter.recordCommitOutcome(failed: false)
            if ended > 0 {
                self.configuration.report?(.ingestCommitRecovered(failures: ended))
                // Writes work again (space returned): an indexer backing off after the same failure retries now
                // rather than at the end of a backoff that may have grown to `indexRetryMaximumDelay`.
                if self.ingestCommitter.indexingFailures > 0 { self.scheduleIndexing(isRetry: true) }
            }
        } catch {
            // Rolled back: no batch of the group is stored, so none is acked; each stream ends with the failure
            // (UNAVAILABLE for a full disk, a read-only file or an I/O error: safe to resend, see StoreError+SQLite).
            let failure = StoreError.from(error)
            results = group.map { _ in .failure(failure) }
            let failures = self.ingestCommitter.recordCommitOutcome(failed: true)
            if Self.isReportable(failures) {
                self.configuration.report?(.ingestCommitFailed(failure, failures: failures))
            }
        }
        for (pending, result) in zip(group, results) { pending.completion(result) }
        self.afterGroupCommit(database)
        // Requeue behind whatever else waits for the writer rather than looping here, so other writes interleave.
        self.scheduleIngestDrain()
    }

    /// Applies one batch inside the group's transaction. Sequence and ownership refusals are results (the rest of
    /// the group still commits); an SQL failure throws and rolls the whole group back.
    static func commit(
        _ database: Database,
        _ batch: IngestBatch,
        receivedAt: Int64
    ) throws -> Result<IngestOutcome, StoreError> {
        let known = try self.producerState(database, batch.producerID)
        if let known, known.ownerUserID != batch.submitter.userID {
            return .failure(StoreError(.permissionDenied, "this producer id belongs to another user"))
        }
        let last = known?.lastSequence ?? 0
        if batch.sequence <= last { return .success(.duplicateBatch) }
        guard batch.sequence == last + 1 else {
            return .failure(
                StoreError(
                    .failedPrecondition,
                    "batch \(batch.sequence) skips ahead: the producer's last committed batch is \(last)"))
        }
        let outcomes = try self.insertBatch(database, batch.events, submittedBy: batch.submitter, receivedAt: receivedAt)
        let upsert = try database.cachedStatement(
            """
            INSERT INTO producers (producer_id, user_id, last_sequence, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (producer_id) DO UPDATE SET last_sequence = excluded.last_sequence,
                updated_at = excluded.updated_at
            """
        )
        try upsert.execute(arguments: [
            batch.producerID, batch.submitter.userID, Int64(bitPattern: batch.sequence), receivedAt,
        ])
        return .success(.stored(outcomes))
    }

    /// Failure streaks are reported on their 1st, 2nd, 4th, 8th... failure: an operator learns at once that the
    /// disk is full, and a server retried against a full disk for hours logs a few dozen lines, not one per retry.
    static func isReportable(_ failures: Int) -> Bool {
        failures > 0 && failures & (failures - 1) == 0
    }

    static func producerState(_ database: Database, _ id: [UInt8]) throws -> ProducerState? {
        let find = try database.cachedStatement("SELECT user_id, last_sequence FROM producers WHERE producer_id = ?")
        return try find.firstRow(arguments: [id]) { row in
            ProducerState(ownerUserID: row.int64(at: 0), lastSequence: UInt64(bitPattern: row.int64(at: 1)))
        }
    }
}
