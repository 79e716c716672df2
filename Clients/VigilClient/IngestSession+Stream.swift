// The task that owns an ingest session's stream: open (producer id, wait for `ready`), then a writer of closed
// batches and a reader of acks side by side until the stream breaks; then decide whether a reopen can fix it, wait
// a backoff, and open again with every unacknowledged batch resent. It talks to callers only through the state in
// `IngestSession+State.swift`, so a `send` never waits on this task except for backpressure.
//
// Which failures reopen: the ones a later stream can succeed after, which are a lost connection or a draining or
// restarting server (UNAVAILABLE, and UNKNOWN for failures below the RPC layer), a server shedding load
// (RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED) and an expired token (UNAUTHENTICATED, after a forced refresh). ABORTED
// means another stream took the producer over, and retrying would take it back and forth forever; the rest
// (FAILED_PRECONDITION, INVALID_ARGUMENT, PERMISSION_DENIED, INTERNAL, ...) would fail the same way again.
import Synchronization
import VigilAPI
import VigilRPC

extension IngestSession {
    /// What the stream task and the public methods share. `Sendable`: immutable configuration, the state behind a
    /// `Mutex`.
    final class Core: Sendable {
        let client: VigilClient
        let producerID: [UInt8]
        let policy: ReconnectPolicy
        let onAck: (@Sendable (IngestSessionAck) -> Void)?
        let state: Mutex<State>

        init(
            client: VigilClient, producerID: [UInt8], batchSize: Int, maxUnackedBatches: Int,
            policy: ReconnectPolicy, onAck: (@Sendable (IngestSessionAck) -> Void)?
        ) {
            self.client = client
            self.producerID = producerID
            self.policy = policy
            self.onAck = onAck
            self.state = Mutex(State(batchSize: batchSize, maxUnackedBatches: maxUnackedBatches))
        }

        static let retryable: Set<Status.Code> = [
            .unavailable, .unknown, .resourceExhausted, .deadlineExceeded, .unauthenticated,
        ]

        // MARK: Waiting (callers' side)

        /// Returns once the first stream is ready; throws why it could not open.
        func waitUntilOpened(timeout: Duration?) async throws {
            let timer = timeout.map { timeout in
                Task {
                    guard (try? await Task.sleep(for: timeout)) != nil else { return }
                    let error = RPCError(
                        code: .deadlineExceeded, message: "the server did not answer the ingest open within \(timeout)")
                    let ended = self.state.withLock { state in state.opened ? nil : state.fail(error) }
                    ended?.wakeups.resume(with: ended?.failure)
                }
            }
            defer { timer?.cancel() }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let outcome: Result<Void, RPCError>? = self.state.withLock { state in
                        if let outcome = state.openOutcome { return outcome }
                        state.opening = continuation
                        return nil
                    }
                    if let outcome { continuation.resume(with: outcome.mapError { $0 }) }
                }
            } onCancel: {
                self.finish(RPCError(code: .cancelled, message: "opening the ingest session was cancelled"))
            }
        }

        /// Returns once every batch through `target` is acknowledged (and reported to `onAck`).
        func waitUntilAcked(through target: UInt64) async throws {
            let id = self.state.withLock { state in
                defer { state.nextWaiterID += 1 }
                return state.nextWaiterID
            }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let immediate: Result<Void, any Error>? = self.state.withLock { state in
                        if state.reportedThrough >= target { return .success(()) }
                        if let failure = state.failure { return .failure(failure) }
                        // Cancelled before the handler below could find this waiter.
                        if Task.isCancelled { return .failure(CancellationError()) }
                        state.waiters[id] = Waiter(target: target, continuation: continuation)
                        return nil
                    }
                    if let immediate { continuation.resume(with: immediate) }
                }
            } onCancel: {
                let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
                waiter?.continuation.resume(throwing: CancellationError())
            }
        }

        /// Ends the session with `error` (the first reason wins) and wakes everyone waiting.
        func finish(_ error: RPCError) {
            let (failure, wakeups) = self.state.withLock { $0.fail(error) }
            wakeups.resume(with: failure)
        }

        // MARK: The stream task

        func run() async {
            var failures = 0
            var failingSince: ContinuousClock.Instant?
            var backoff = self.policy.initialBackoff
            var forceRefresh = false
            while true {
                self.state.withLock { $0.progressed = false }
                let error = await self.runStream(forceRefresh: forceRefresh)
                let (opened, closed, progressed) = self.state.withLock { ($0.opened, $0.closed, $0.progressed) }
                if closed || Task.isCancelled {
                    return self.finish(RPCError(code: .cancelled, message: "the ingest session was closed"))
                }
                guard opened, Self.retryable.contains(error.code), error.terminal == false else {
                    return self.finish(error.rpcError)
                }
                if progressed {
                    failures = 0
                    failingSince = nil
                    backoff = self.policy.initialBackoff
                }
                failures += 1
                let since = failingSince ?? ContinuousClock.now
                failingSince = since
                let attemptsExhausted = self.policy.maxAttempts > 0 && failures > self.policy.maxAttempts
                if attemptsExhausted || ContinuousClock.now - since > self.policy.timeout {
                    var final = error.rpcError
                    final.message = "gave up reopening the ingest stream after \(failures) failures: \(final.message)"
                    return self.finish(final)
                }
                // A refresh that could not reach the server is tried again before the next open.
                forceRefresh = error.code == .unauthenticated || (forceRefresh && error.beforeCall)
                do {
                    try await Task.sleep(for: backoff * Double.random(in: 0.5...1.0))
                } catch {
                    return self.finish(RPCError(code: .cancelled, message: "the ingest session was closed"))
                }
                backoff = min(backoff * 2, self.policy.maximumBackoff)
            }
        }

        /// Why one stream ended; `terminal` when no reopen may follow whatever the code (a refresh that failed).
        struct StreamEnd: Error {
            var rpcError: RPCError
            var terminal = false
            /// Failed getting a token, before any call was made.
            var beforeCall = false
            var code: Status.Code { self.rpcError.code }
        }

        /// One stream, from open until it breaks; returns why it broke.
        func runStream(forceRefresh: Bool) async -> StreamEnd {
            let bearer: Metadata
            do {
                bearer = try await self.client.authorization(forceRefresh: forceRefresh)
            } catch {
                let rpcError = Self.rpcError(error)
                // UNAUTHENTICATED here is the session itself gone (refresh token expired or revoked).
                return StreamEnd(rpcError: rpcError, terminal: rpcError.code == .unauthenticated, beforeCall: true)
            }
            let call: any ClientCall
            do {
                call = try await self.client.transport.makeCall(
                    VigilMethods.ingestEvents, metadata: bearer, deadline: nil)
            } catch {
                return StreamEnd(rpcError: Self.rpcError(error))
            }
            defer { call.finish() }
            do {
                try await withTaskCancellationHandler {
                    try await self.exchange(on: call)
                } onCancel: {
                    call.cancel()
                }
            } catch let end as StreamEnd {
                return end
            } catch {
                return StreamEnd(rpcError: Self.rpcError(error))
            }
            return StreamEnd(rpcError: RPCError(code: .unavailable, message: "the ingest stream ended"))
        }

        /// Opens the producer on `call`, then writes batches and reads acks until either side fails.
        private func exchange(on call: any ClientCall) async throws {
            let writer = RPCMessageWriter<IngestEventsRequest>(
                send: { try await call.send($0, endStream: false) }, maxMessageBytes: call.maxRequestBytes)
            let responses = RPCMessageStream<IngestEventsResponse>(
                receive: { try await call.receive() }, decodeFailureCode: .internal)
            var open = IngestOpen()
            open.producerId = self.producerID
            var request = IngestEventsRequest()
            request.kind = .open(open)
            try await writer.write(request)
            var iterator = responses.makeAsyncIterator()
            guard let first = try await iterator.next() else {
                throw RPCError(code: .unavailable, message: "the server ended the ingest stream before ready")
            }
            guard case .ready(let ready) = first.kind else {
                throw StreamEnd(
                    rpcError: RPCError(code: .internal, message: "the server did not answer open with ready"),
                    terminal: true)
            }
            do {
                let opening = try self.state.withLock { state throws(RPCError) in
                    try state.accept(lastCommitted: ready.lastCommittedSequence)
                }
                opening?.resume()
            } catch {
                throw StreamEnd(rpcError: error, terminal: true)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.writeBatches(writer) }
                group.addTask { try await self.readAcks(responses) }
                do {
                    try await group.next()
                } catch {
                    // A writer waiting for flow-control credit wakes only when the call ends.
                    call.cancel()
                    throw error
                }
                call.cancel()
            }
        }

        private func writeBatches(_ writer: RPCMessageWriter<IngestEventsRequest>) async throws {
            while true {
                let pending = try await self.nextBatch()
                var batch = EventBatch()
                batch.sequence = pending.sequence
                batch.events = pending.events
                var request = IngestEventsRequest()
                request.kind = .batch(batch)
                try await writer.write(request)
            }
        }

        /// The next batch to write, waiting until one is closed and the window has room.
        private func nextBatch() async throws -> PendingBatch {
            while true {
                try Task.checkCancellation()
                if let batch = self.state.withLock({ $0.nextWrite(at: .now) }) { return batch }
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let now = self.state.withLock { state in
                            if state.hasWriteReady || state.failure != nil || Task.isCancelled { return true }
                            state.writer = continuation
                            return false
                        }
                        if now { continuation.resume() }
                    }
                } onCancel: {
                    self.state.withLock { $0.takeWriter() }?.resume()
                }
            }
        }

        private func readAcks(_ responses: RPCMessageStream<IngestEventsResponse>) async throws {
            for try await response in responses {
                guard case .ack(let ack) = response.kind else {
                    throw StreamEnd(
                        rpcError: RPCError(code: .internal, message: "the server sent a second ready"), terminal: true)
                }
                let now = ContinuousClock.now
                let result: (ack: IngestSessionAck, writer: CheckedContinuation<Void, Never>?)
                do {
                    result = try self.state.withLock { state throws(RPCError) in try state.acknowledge(ack, at: now) }
                } catch {
                    throw StreamEnd(rpcError: error, terminal: true)
                }
                result.writer?.resume()
                self.onAck?(result.ack)
                self.state.withLock { $0.reported(through: result.ack.sequence) }.resume()
            }
            throw RPCError(code: .unavailable, message: "the server ended the ingest stream")
        }

        static func rpcError(_ error: any Error) -> RPCError {
            switch error {
            case let error as RPCError: error
            case let end as StreamEnd: end.rpcError
            case is CancellationError: RPCError(code: .cancelled, message: "cancelled")
            default: RPCError(code: .unknown, message: "ingest stream failed: \(error)")
            }
        }
    }
}
