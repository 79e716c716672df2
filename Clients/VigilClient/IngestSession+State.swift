// The session's shared state and its transitions, kept apart from the I/O so each rule reads in one place: how a
// batch closes, which sequence it gets, what the server's `ready` may say after a reopen, how an ack is matched to
// its batch and mapped to session-wide event indexes, and who is woken when. Every method runs under the session's
// `Mutex`; continuations are returned, never resumed here, so callers resume them after the lock is released (and
// each is taken out of the state before it is resumed, so none is resumed twice).
import VigilAPI
import VigilRPC

extension IngestSession {
    /// A closed batch the server has not acknowledged yet: resent unchanged after a reopen.
    struct PendingBatch: Sendable {
        let sequence: UInt64
        let events: [Event]
        /// Session-wide index of `events[0]`.
        let firstIndex: Int
        var firstWrittenAt: ContinuousClock.Instant?
    }

    struct Waiter {
        let target: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    /// Continuations to resume once the lock is released.
    struct Wakeups {
        var writer: CheckedContinuation<Void, Never>?
        var waiters: [Waiter] = []
        var opening: CheckedContinuation<Void, any Error>?

        func resume(with failure: RPCError? = nil) {
            self.writer?.resume()
            for waiter in self.waiters {
                if let failure { waiter.continuation.resume(throwing: failure) } else { waiter.continuation.resume() }
            }
            if let failure { self.opening?.resume(throwing: failure) } else { self.opening?.resume() }
        }
    }

    struct State {
        let batchSize: Int
        let maxUnackedBatches: Int
        /// A little under `maximumBatchBytes` for the batch's own sequence field and the request's framing.
        let maxBatchBytes = VigilClient.maximumBatchBytes - 64

        var open: [Event] = []
        var openBytes = 0
        /// Events accepted by `send` so far (the open batch included).
        var eventCount = 0
        var nextSequence: UInt64 = 1
        /// Closed, unacknowledged batches in sequence order; `pending[0..<written]` went out on the current stream.
        var pending: [PendingBatch] = []
        var written = 0
        /// Highest sequence whose ack has been handed to `onAck`: what `flush` and backpressure wait for.
        var reportedThrough: UInt64 = 0
        var summary = IngestSummary()

        var opened = false
        var openOutcome: Result<Void, RPCError>?
        var opening: CheckedContinuation<Void, any Error>?
        /// Streams that reached `ready`.
        var streamsOpened = 0
        /// Whether the current stream got an ack (or had nothing to resend): resets the reconnect backoff.
        var progressed = false
        var closed = false
        var failure: RPCError?

        var writer: CheckedContinuation<Void, Never>?
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiterID: UInt64 = 0

        init(batchSize: Int, maxUnackedBatches: Int) {
            self.batchSize = batchSize
            self.maxUnackedBatches = maxUnackedBatches
        }

        func checkUsable() throws(RPCError) {
            if self.closed { throw RPCError(code: .failedPrecondition, message: "the ingest session is closed") }
            if let failure = self.failure { throw failure }
        }

        // MARK: Sending

        enum AppendOutcome {
            /// Taken; the writer to wake when a batch closed.
            case appended(writer: CheckedContinuation<Void, Never>?)
            /// Not taken: the batch it would close does not fit the window until `sequence` is acknowledged.
            case waitFor(sequence: UInt64)
        }

        /// Adds one event, or says which ack to wait for first: a batch closes only when it fits the window, so at
        /// most `maxUnackedBatches` closed batches are ever held, and an event `send` threw for was not taken.
        mutating func append(_ event: Event, size: Int) throws(RPCError) -> AppendOutcome {
            try self.checkUsable()
            guard size <= self.maxBatchBytes else {
                throw RPCError(
                    code: .invalidArgument,
                    message: "an event of \(size) bytes does not fit a batch of \(self.maxBatchBytes) bytes")
            }
            let overflows = !self.open.isEmpty && self.openBytes + size > self.maxBatchBytes
            let fills = (overflows ? 1 : self.open.count + 1) >= self.batchSize
            let closes = (overflows ? 1 : 0) + (fills ? 1 : 0)
            let excess = self.pending.count + closes - self.maxUnackedBatches
            if excess > 0, !self.pending.isEmpty {
                return .waitFor(sequence: self.pending[min(excess, self.pending.count) - 1].sequence)
            }
            if overflows { _ = self.closeBatch() }
            self.open.append(event)
            self.openBytes += size
            self.eventCount += 1
            if fills { _ = self.closeBatch() }
            return .appended(writer: closes > 0 ? self.takeWriter() : nil)
        }

        /// Closes the open batch if any; returns the last sequence to wait for.
        mutating func closeForFlush() throws(RPCError) -> (target: UInt64, writer: CheckedContinuation<Void, Never>?) {
            if self.closed { return (self.reportedThrough, nil) }
            if let failure = self.failure { throw failure }
            guard !self.open.isEmpty else { return (self.nextSequence - 1, nil) }
            _ = self.closeBatch()
            return (self.nextSequence - 1, self.takeWriter())
        }

        private mutating func closeBatch() -> UInt64 {
            let sequence = self.nextSequence
            self.nextSequence += 1
            self.pending.append(PendingBatch(
                sequence: sequence, events: self.open, firstIndex: self.eventCount - self.open.count))
            self.open = []
            self.open.reserveCapacity(self.batchSize)
            self.openBytes = 0
            return sequence
        }

        /// Marks the session closed when nothing is left to send or acknowledge.
        mutating func closeIfIdle() -> Bool {
            if self.closed { return true }
            guard self.failure == nil, self.open.isEmpty, self.pending.isEmpty else { return false }
            self.closed = true
            return true
        }

        // MARK: The writer

        /// The next batch to write on the current stream, if one is closed and within the window.
        mutating func nextWrite(at now: ContinuousClock.Instant) -> PendingBatch? {
            guard self.written < self.pending.count, self.written < self.maxUnackedBatches else { return nil }
            if self.pending[self.written].firstWrittenAt == nil { self.pending[self.written].firstWrittenAt = now }
            defer { self.written += 1 }
            return self.pending[self.written]
        }

        var hasWriteReady: Bool { self.written < self.pending.count && self.written < self.maxUnackedBatches }

        mutating func takeWriter() -> CheckedContinuation<Void, Never>? {
            defer { self.writer = nil }
            return self.writer
        }

        // MARK: The reader

        /// Checks the server's `ready` against what this session knows; on the first stream it fixes the sequence.
        mutating func accept(lastCommitted last: UInt64) throws(RPCError) -> CheckedContinuation<Void, any Error>? {
            self.written = 0
            self.progressed = self.pending.isEmpty
            self.streamsOpened += 1
            guard self.opened else {
                self.opened = true
                self.nextSequence = last + 1
                self.reportedThrough = last
                self.openOutcome = .success(())
                defer { self.opening = nil }
                return self.opening
            }
            let firstUnacked = self.pending.first?.sequence ?? self.nextSequence
            if last + 1 < firstUnacked {
                throw RPCError(
                    code: .failedPrecondition,
                    message: "data loss on the server: after a reopen it reports sequence \(last) committed for this "
                        + "producer, but batches through \(firstUnacked - 1) were already acknowledged")
            }
            if last >= self.nextSequence {
                throw RPCError(
                    code: .failedPrecondition,
                    message: "the server has sequence \(last) committed for this producer, beyond the "
                        + "\(self.nextSequence - 1) this session sent: another session uses the same producer id")
            }
            return nil
        }

        /// Matches `ack` to the oldest written batch and folds it into the summary.
        mutating func acknowledge(_ ack: IngestAck, at now: ContinuousClock.Instant) throws(RPCError)
            -> (ack: IngestSessionAck, writer: CheckedContinuation<Void, Never>?)
        {
            guard self.written > 0, let batch = self.pending.first else {
                throw RPCError(code: .internal, message: "the server acknowledged batch \(ack.sequence), none was sent")
            }
            guard ack.sequence == batch.sequence else {
                throw RPCError(
                    code: .internal,
                    message: "the server acknowledged batch \(ack.sequence), expected \(batch.sequence)")
            }
            self.pending.removeFirst()
            self.written -= 1
            self.progressed = true
            let rejections = ack.rejections.map { rejection in
                IngestSessionAck.Rejection(
                    eventIndex: batch.firstIndex + Int(rejection.index), code: Status.Code(rawValue: rejection.code),
                    reason: rejection.reason)
            }
            let result = IngestSessionAck(
                sequence: ack.sequence, accepted: Int(ack.accepted), duplicates: Int(ack.duplicates),
                alertsCreated: Int(ack.alertsCreated), duplicateBatch: ack.duplicateBatch, rejections: rejections,
                latency: batch.firstWrittenAt.map { now - $0 } ?? .zero)
            self.summary.batches += 1
            self.summary.accepted += result.accepted
            self.summary.duplicates += result.duplicates
            self.summary.alertsCreated += result.alertsCreated
            for rejection in rejections {
                self.summary.rejections.append(
                    IngestRejection(eventIndex: rejection.eventIndex, code: rejection.code, reason: rejection.reason))
            }
            return (result, self.takeWriter())
        }

        /// After `onAck` saw `sequence`: the waiters it satisfies.
        mutating func reported(through sequence: UInt64) -> Wakeups {
            self.reportedThrough = max(self.reportedThrough, sequence)
            var wakeups = Wakeups()
            for (id, waiter) in self.waiters where waiter.target <= self.reportedThrough {
                self.waiters[id] = nil
                wakeups.waiters.append(waiter)
            }
            return wakeups
        }

        // MARK: The end

        /// Records the session's end (the first reason wins) and takes everyone waiting.
        mutating func fail(_ error: RPCError) -> (failure: RPCError, wakeups: Wakeups) {
            let failure = self.failure ?? error
            self.failure = failure
            if !self.opened { self.openOutcome = .failure(failure) }
            let wakeups = Wakeups(writer: self.takeWriter(), waiters: Array(self.waiters.values), opening: self.opening)
            self.waiters = [:]
            self.opening = nil
            return (failure, wakeups)
        }
    }
}
