// IngestEvents: the durable, exactly-once ingest stream (the protocol is in Proto/vigil/v1/ingest.proto).
//
// A stream opens for a producer id, takes the producer over from any older stream (which ends with ABORTED), and
// answers `ready` with the producer's last committed sequence. Then three tasks share the call:
// - the reader validates each batch and hands it to the store's group committer without waiting for the commit,
//   so a stream keeps many batches in flight; it first takes a permit of the stream (at most
//   `ingestMaxUnackedBatches` unacknowledged) and bytes of the server-wide budget (`ingestQueueBytes`), and while it
//   waits for them it stops reading, which stops the flow-control window and so slows the client: backpressure,
//   never unbounded buffering;
// - the ack writer sends one ack per batch, in order (the committer completes one stream's batches in submission
//   order), each only after its batch committed; the first failed batch (a gap, a foreign producer, a store that
//   cannot write) ends the stream with that status;
// - the watcher checks the caller's token again every `tokenRecheckInterval` (an expired token or a disabled user
//   ends the stream with UNAUTHENTICATED) and ends it with ABORTED when a newer stream takes the producer over.
// Duplicates and gaps are decided by the store inside the commit transaction, against the stored high-water mark,
// so resends after a reconnect or a restart never store anything twice.
import VigilAPI
import VigilRPC
import VigilWire

extension VigilServer {
    /// Producer ids are random 128-bit values.
    public static let producerIDLength = 16

    func registerIngest(into router: inout Router) {
        let method = VigilMethods.ingestEvents
        router.registerBidirectional(method) {
            (
                requests: RPCMessageStream<IngestEventsRequest>, responses: RPCMessageWriter<IngestEventsResponse>,
                context
            ) in
            let caller = try Caller.required(try await self.authorize(context, method))
            var iterator = requests.makeAsyncIterator()
            guard let first = try await iterator.next(), case .open(let open) = first.kind else {
                throw RPCError(code: .invalidArgument, message: "the first message of IngestEvents must be open")
            }
            let producerID = open.producerId
            guard producerID.count == Self.producerIDLength else {
                throw RPCError(code: .invalidArgument, message: "producer_id must be exactly 16 bytes")
            }
            let lease = self.producers.claim(producerID)
            defer { self.producers.release(lease) }
            let known = try await RPCError.mappingStore { () throws(StoreError) in
                try await self.store.producer(id: producerID)
            }
            if let known, known.ownerUserID != caller.user.id {
                throw RPCError(code: .permissionDenied, message: "this producer id belongs to another user")
            }
            var readiness = IngestReady()
            readiness.lastCommittedSequence = known?.lastSequence ?? 0
            var ready = IngestEventsResponse()
            ready.kind = .ready(readiness)
            try await responses.write(ready)
            let stream = IngestStream(
                server: self, caller: caller, producerID: producerID, lease: lease, context: context, method: method)
            try await stream.run(requests, responses)
        }
    }
}

/// The tasks of one open ingest stream.
struct IngestStream: Sendable {
    let server: VigilServer
    let caller: Caller
    let producerID: [UInt8]
    let lease: ProducerRegistry.Lease
    let context: ServerContext
    let method: MethodDescriptor

    /// What the reader hands the ack writer: an ack (or the failure that ends the stream), or the count of batches
    /// submitted in all, once the client stopped sending.
    enum Handoff: Sendable {
        case ack(Result<IngestAck, RPCError>)
        case end(submitted: Int)
    }

    private enum Finished {
        case reader, writer, watcher
    }

    func run(
        _ requests: RPCMessageStream<IngestEventsRequest>,
        _ responses: RPCMessageWriter<IngestEventsResponse>
    ) async throws {
        let (handoffs, handoff) = AsyncStream.makeStream(of: Handoff.self)
        let unacked = AsyncPermits(capacity: self.server.configuration.ingestMaxUnackedBatches)
        try await withThrowingTaskGroup(of: Finished.self) { group in
            group.addTask {
                try await self.readBatches(requests, unacked: unacked, handoff: handoff)
                return .reader
            }
            group.addTask {
                try await self.writeAcks(handoffs, responses, unacked: unacked)
                return .writer
            }
            group.addTask {
                try await self.watch()
                return .watcher
            }
            while let finished = try await group.next() {
                if finished == .writer {
                    group.cancelAll()
                    return
                }
            }
        }
    }

    /// Reads batches until the client stops sending, submitting each to the store as soon as it has room.
    private func readBatches(
        _ requests: RPCMessageStream<IngestEventsRequest>,
        unacked: AsyncPermits,
        handoff: AsyncStream<Handoff>.Continuation
    ) async throws {
        let budget = self.server.ingestBudget
        let recheckInterval = self.server.configuration.tokenRecheckInterval
        var lastCheck = ContinuousClock.now
        var submitted = 0
        for try await message in requests {
            guard case .batch(let batch) = message.kind else {
                throw RPCError(code: .invalidArgument, message: "every message after open must be a batch")
            }
            guard batch.sequence >= 1 else {
                throw RPCError(code: .invalidArgument, message: "batch sequence numbers start at 1")
            }
            self.server.hashingPool.noteDemand()
            // Besides the watcher's timer: a busy stream never stores a batch sent after its caller lost access.
            if ContinuousClock.now - lastCheck >= recheckInterval {
                try await self.checkCaller()
                lastCheck = ContinuousClock.now
            }
            _ = try await unacked.acquire()
            let bytes = try await budget.acquire(batch.serializedSize())
            let (validated, skeleton) = self.validate(batch)
            let eventCount = batch.events.count
            submitted += 1
            self.server.store.submitIngest(
                IngestBatch(
                    producerID: self.producerID, sequence: batch.sequence, submitter: self.caller.acting,
                    events: validated)
            ) { result in
                budget.release(bytes)
                handoff.yield(.ack(Self.ack(skeleton, eventCount: eventCount, result)))
            }
        }
        handoff.yield(.end(submitted: submitted))
    }

    /// The events that pass validation, and the ack's start: sequence and rejections (with their batch indexes).
    private func validate(_ batch: EventBatch) -> ([NewEvent], IngestAck) {
        var skeleton = IngestAck()
        skeleton.sequence = batch.sequence
        var accepted: [NewEvent] = []
        accepted.reserveCapacity(batch.events.count)
        let receivedAt = self.server.configuration.eventClock()
        for (index, event) in batch.events.enumerated() {
            switch self.server.validator.validate(event, receivedAt: receivedAt) {
            case .success(let valid):
                accepted.append(valid)
            case .failure(let error):
                var rejection = EventRejection()
                rejection.index = UInt32(clamping: index)
                rejection.code = Status.Code.invalidArgument.rawValue
                rejection.reason = error.message
                skeleton.rejections.append(rejection)
            }
        }
        return (accepted, skeleton)
    }

    /// The ack of a committed batch, or the error that ends the stream.
    static func ack(
        _ skeleton: IngestAck,
        eventCount: Int,
        _ result: Result<IngestOutcome, StoreError>
    ) -> Result<IngestAck, RPCError> {
        switch result {
        case .failure(let error):
            return .failure(RPCError(store: error))
        case .success(.duplicateBatch):
            var ack = IngestAck()
            ack.sequence = skeleton.sequence
            ack.duplicates = UInt32(clamping: eventCount)
            ack.duplicateBatch = true
            return .success(ack)
        case .success(.stored(let outcomes)):
            var ack = skeleton
            for outcome in outcomes {
                switch outcome {
                case .stored(_, let alertID):
                    ack.accepted += 1
                    if alertID != nil { ack.alertsCreated += 1 }
                case .duplicate:
                    ack.duplicates += 1
                }
            }
            return .success(ack)
        }
    }

    /// Sends acks in order until every submitted batch is acknowledged; throws the first failure.
    private func writeAcks(
        _ handoffs: AsyncStream<Handoff>,
        _ responses: RPCMessageWriter<IngestEventsResponse>,
        unacked: AsyncPermits
    ) async throws {
        var written = 0
        var expected: Int?
        for await handoff in handoffs {
            switch handoff {
            case .ack(let result):
                var response = IngestEventsResponse()
                response.kind = .ack(try result.get())
                try await responses.write(response)
                written += 1
                unacked.release()
            case .end(let submitted):
                expected = submitted
            }
            if written == expected { return }
        }
        try Task.checkCancellation()
    }

    /// Ends the stream when the caller's token stops being good or a newer stream takes the producer over.
    private func watch() async throws {
        // A floor, so a zero interval (tests) does not spin.
        let interval = max(self.server.configuration.tokenRecheckInterval, .milliseconds(10))
        while !Task.isCancelled {
            if await self.lease.waitForRevocation(timeout: interval) {
                throw RPCError(
                    code: .aborted, message: "a newer IngestEvents stream took this producer over; do not retry")
            }
            guard !Task.isCancelled else { break }
            try await self.checkCaller()
        }
        throw CancellationError()
    }

    /// Authorises the call again: UNAUTHENTICATED once the token expired or the user was disabled.
    private func checkCaller() async throws(RPCError) {
        _ = try Caller.required(try await self.server.authorize(self.context, self.method))
    }
}
