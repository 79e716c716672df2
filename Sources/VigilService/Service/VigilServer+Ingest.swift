// The simple IngestEvents of the service issue: one store transaction per batch and one ack per batch, written only
// after that transaction committed, so an acknowledged event is stored. Each event is validated on its own; a refused
// one is reported in the ack (index, INVALID_ARGUMENT, reason) and the rest of the batch is stored. The caller is
// authorised again every `tokenRecheckInterval`, so a token that expires or a user disabled mid-stream ends it
// with UNAUTHENTICATED.
//
// What the ingest issue replaces: producer high-water marks are not stored yet, so `ready` always says 0 and a
// resent batch is recognised only within one stream (a sequence at or below the last one acked on it); there is no
// gap check (without a durable mark a gap cannot be told from a resumed session), no takeover of a producer by a
// newer stream, and no group commit across streams.
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
            var caller = try Caller.required(try await self.authorize(context, method))
            var iterator = requests.makeAsyncIterator()
            guard let first = try await iterator.next(), case .open(let open) = first.kind else {
                throw RPCError(code: .invalidArgument, message: "the first message of IngestEvents must be open")
            }
            guard open.producerId.count == Self.producerIDLength else {
                throw RPCError(code: .invalidArgument, message: "producer_id must be exactly 16 bytes")
            }
            var ready = IngestEventsResponse()
            ready.kind = .ready(IngestReady())
            try await responses.write(ready)

            var lastSequence: UInt64 = 0
            var lastCheck = ContinuousClock.now
            while let message = try await iterator.next() {
                guard case .batch(let batch) = message.kind else {
                    throw RPCError(code: .invalidArgument, message: "every message after open must be a batch")
                }
                guard batch.sequence >= 1 else {
                    throw RPCError(code: .invalidArgument, message: "batch sequence numbers start at 1")
                }
                if ContinuousClock.now - lastCheck >= self.configuration.tokenRecheckInterval {
                    caller = try Caller.required(try await self.authorize(context, method))
                    lastCheck = ContinuousClock.now
                }
                var response = IngestEventsResponse()
                if batch.sequence <= lastSequence {
                    response.kind = .ack(Self.duplicateAck(batch))
                } else {
                    response.kind = .ack(try await self.ingest(batch, by: caller))
                    lastSequence = batch.sequence
                }
                try await responses.write(response)
            }
        }
    }

    /// Validates and stores one batch in one transaction; the ack it returns describes what committed.
    func ingest(_ batch: EventBatch, by caller: Caller) async throws(RPCError) -> IngestAck {
        let receivedAt = self.configuration.eventClock()
        var ack = IngestAck()
        ack.sequence = batch.sequence
        var accepted: [NewEvent] = []
        accepted.reserveCapacity(batch.events.count)
        for (index, event) in batch.events.enumerated() {
            switch self.validator.validate(event, receivedAt: receivedAt) {
            case .success(let valid):
                accepted.append(valid)
            case .failure(let error):
                var rejection = EventRejection()
                rejection.index = UInt32(clamping: index)
                rejection.code = Status.Code.invalidArgument.rawValue
                rejection.reason = error.message
                ack.rejections.append(rejection)
            }
        }
        let stored = accepted
        let outcomes = try await RPCError.mappingStore { () throws(StoreError) in
            try await self.store.insertEvents(stored, submittedBy: caller.acting)
        }
        for outcome in outcomes {
            switch outcome {
            case .stored(_, let alertID):
                ack.accepted += 1
                if alertID != nil { ack.alertsCreated += 1 }
            case .duplicate:
                ack.duplicates += 1
            }
        }
        return ack
    }

    /// The ack of a batch resent on the same stream: nothing stored, every event a duplicate.
    static func duplicateAck(_ batch: EventBatch) -> IngestAck {
        var ack = IngestAck()
        ack.sequence = batch.sequence
        ack.duplicates = UInt32(clamping: batch.events.count)
        ack.duplicateBatch = true
        return ack
    }
}
