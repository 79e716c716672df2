// Durable ingest, the agent's side: an `IngestSession` takes events one at a time, cuts them into batches, and keeps
// every batch until the server acknowledges it, because an ack is the only proof that a batch is stored. When the
// stream breaks (server restart, drain, lost connection, expired token) the session reopens it under the same
// producer id and resends every unacknowledged batch unchanged; the server recognises the ones it had already
// committed by their sequence numbers and acknowledges them as duplicates, so nothing is lost and nothing is stored
// twice. Errors that a reopen cannot fix (another stream took the producer over, a sequence gap, a refused
// argument or permission) end the session, and the next `send`, `flush` or `close` throws them.
//
// Shape: one background task owns the stream (`IngestSession+Stream.swift`); callers touch only a `Mutex`-guarded
// state (`IngestSession+State.swift`). `send` of one event appends to an array under the lock; only closing a batch
// wakes the writer, and only a full window of unacknowledged batches makes `send` wait (backpressure, never an
// unbounded buffer).
import Synchronization
public import VigilAPI
public import VigilRPC

/// The outcome of one batch of an `IngestSession`.
public struct IngestSessionAck: Sendable, Hashable {
    /// One refused event, by its position among every event sent on the session (from 0, in send order).
    public struct Rejection: Sendable, Hashable {
        public let eventIndex: Int
        public let code: Status.Code
        public let reason: String
    }

    public let sequence: UInt64
    public let accepted: Int
    public let duplicates: Int
    public let alertsCreated: Int
    /// True when the server had already committed this batch (its first ack was lost with a broken stream).
    public let duplicateBatch: Bool
    public let rejections: [Rejection]
    /// From the batch's first write to a stream to this ack: includes reconnects and resends.
    public let latency: Duration
}

/// An ingest stream that survives broken connections: see the top of this file.
///
/// `Sendable`: every stored property is immutable and `Sendable`; mutable state lives in `Core`, behind a `Mutex`.
public final class IngestSession: Sendable {
    /// When and how often to reopen a broken stream.
    public struct ReconnectPolicy: Sendable, Hashable {
        /// Consecutive failed reopens before giving up; 0 means no limit (only `timeout` applies).
        public var maxAttempts: Int
        /// How long the session may go without a working stream before giving up. The default of 5 minutes outlasts
        /// a server restart or a deploy; an agent that must never give up can set a very long one and rely on the
        /// bounded window for memory.
        public var timeout: Duration
        /// First wait before reopening; doubled after each failure up to `maximumBackoff`, with jitter.
        public var initialBackoff: Duration
        public var maximumBackoff: Duration

        public init(
            maxAttempts: Int = 0,
            timeout: Duration = .seconds(300),
            initialBackoff: Duration = .milliseconds(50),
            maximumBackoff: Duration = .seconds(2)
        ) {
            self.maxAttempts = maxAttempts
            self.timeout = timeout
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
        }
    }

    public let producerID: [UInt8]
    let core: Core
    private let task: Task<Void, Never>

    init(core: Core) async throws {
        self.producerID = core.producerID
        self.core = core
        // The task holds the core, not the session, so a session dropped without `close` is freed and its deinit
        // stops the stream.
        self.task = Task { await core.run() }
        do {
            try await core.waitUntilOpened(timeout: core.client.defaultTimeout)
        } catch {
            self.task.cancel()
            await self.task.value
            throw error
        }
    }

    deinit { self.task.cancel() }

    /// The sequence number the next batch will carry. Persist it with `producerID` to continue after a restart (the
    /// server's `ready` decides in the end: a new session starts at its last committed sequence + 1).
    public var nextSequence: UInt64 { self.core.state.withLock { $0.nextSequence } }

    /// Running totals over every acknowledged batch; `rejections` holds session-wide event indexes and grows for the
    /// session's life, so a long-running agent should take rejections from `onAck` instead.
    public var summary: IngestSummary { self.core.state.withLock { $0.summary } }

    /// Batches closed and not yet acknowledged.
    public var unackedBatchCount: Int { self.core.state.withLock { $0.pending.count } }

    /// Streams opened after the first, each after a failure (for an agent's metrics).
    public var reconnectCount: Int { self.core.state.withLock { max(0, $0.streamsOpened - 1) } }

    /// Appends `event` to the open batch. Waits while the batch it would close does not fit the window of
    /// `maxUnackedBatches` unacknowledged batches. When it throws, the event was not taken. There is no timer: a
    /// batch goes out when it is full or at `flush`, so an agent sending slowly should flush every few seconds.
    public func send(_ event: Event) async throws {
        let size = event.serializedSize() + VigilClient.batchFieldOverhead
        while true {
            let outcome = try self.core.state.withLock { state throws(RPCError) in
                try state.append(event, size: size)
            }
            switch outcome {
            case .appended(let writer):
                writer?.resume()
                return
            case .waitFor(let sequence):
                try await self.core.waitUntilAcked(through: sequence)
            }
        }
    }

    /// Appends `events` in order, as `send` one by one does.
    public func send(contentsOf events: [Event]) async throws {
        for event in events { try await self.send(event) }
    }

    /// Closes the open batch and returns once every event sent so far is acknowledged.
    public func flush() async throws {
        let (target, writer) = try self.core.state.withLock { state throws(RPCError) in
            try state.closeForFlush()
        }
        writer?.resume()
        try await self.core.waitUntilAcked(through: target)
    }

    /// Flushes, then ends the stream. Later sends throw; a second close returns at once.
    public func close() async throws {
        do {
            while true {
                try await self.flush()
                if self.core.state.withLock({ $0.closeIfIdle() }) { break }
            }
        } catch {
            self.task.cancel()
            await self.task.value
            throw error
        }
        self.task.cancel()
        await self.task.value
    }

    /// Ends the stream at once; unacknowledged batches are dropped and later calls throw CANCELLED.
    public func cancel() async {
        self.task.cancel()
        await self.task.value
    }
}

extension VigilClient {
    /// Key and length prefix of one event in a batch's repeated field, counted towards `maximumBatchBytes`.
    static let batchFieldOverhead = 4

    /// Opens an ingest session: returns once the server answered the stream's open (a failure to open, or no answer
    /// within the client's `defaultTimeout`, throws at once; reconnecting applies only to a session that was open).
    /// - Parameters:
    ///   - producerID: 16 bytes; pass a persisted one to continue its sequence after a restart.
    ///   - batchSize: events per batch at most (the 1 MiB bound may close a batch earlier).
    ///   - maxUnackedBatches: closed batches held before `send` waits for an ack.
    ///   - reconnect: when to give up on a broken stream.
    ///   - onAck: called on the session's task after each ack, in sequence order, before `flush` waiting for that
    ///     ack returns; keep it short and never wait on the session from it.
    public func ingestSession(
        producerID: [UInt8] = VigilClient.newProducerID(),
        batchSize: Int = 100,
        maxUnackedBatches: Int = 64,
        reconnect: IngestSession.ReconnectPolicy = IngestSession.ReconnectPolicy(),
        onAck: (@Sendable (IngestSessionAck) -> Void)? = nil
    ) async throws -> IngestSession {
        guard batchSize >= 1, maxUnackedBatches >= 1 else {
            throw RPCError(code: .invalidArgument, message: "batchSize and maxUnackedBatches must be positive")
        }
        let core = IngestSession.Core(
            client: self, producerID: producerID, batchSize: batchSize, maxUnackedBatches: maxUnackedBatches,
            policy: reconnect, onAck: onAck)
        return try await IngestSession(core: core)
    }
}
