// Sending events: the IngestEvents stream as a caller sees it. Events go in batches (at most `batchSize` events and
// under 1 MiB encoded, so a batch always fits the server's message limit), several batches in flight at once, and
// every batch is acknowledged by the server only after it is stored. The summary maps each per-event rejection back
// to the event's position in the caller's list, so a tool can report "line 12: description is blank".
//
// What this does not do yet (the durable-ingest issue): reconnect and resend unacknowledged batches under the same
// producer id after a broken connection. A failed stream ends `ingest` with the error; batches acknowledged before
// it are stored, and the summary of them is lost with the error, so callers should use idempotency keys when they
// may retry.
public import VigilAPI
public import VigilRPC
import VigilTLS

/// One event the server refused, by its index in the list given to `ingest`.
public struct IngestRejection: Sendable, Hashable {
    public let eventIndex: Int
    public let code: Status.Code
    public let reason: String
}

/// What one `ingest` call stored.
public struct IngestSummary: Sendable, Hashable {
    public var accepted = 0
    public var duplicates = 0
    public var alertsCreated = 0
    public var batches = 0
    public var rejections: [IngestRejection] = []

    public init() {}
}

extension VigilClient {
    /// Largest encoded batch: under the server's 4 MiB message limit with room to spare, and small enough that one
    /// batch never holds up other streams for long.
    public static let maximumBatchBytes = 1 << 20

    /// A new random producer id (16 bytes). An agent may keep one across restarts.
    public static func newProducerID() -> [UInt8] { SecureRandom.bytes(16) }

    /// Streams `events` and returns once every batch is acknowledged.
    /// - Parameters:
    ///   - batchSize: events per batch at most (the 1 MiB bound may close a batch earlier).
    ///   - maxInFlight: batches sent before waiting for the oldest acknowledgement.
    ///   - onAck: called with the running summary after each acknowledgement (progress lines).
    public func ingest(
        _ events: [Event],
        producerID: [UInt8] = VigilClient.newProducerID(),
        batchSize: Int = 500,
        maxInFlight: Int = 8,
        onAck: (@Sendable (IngestSummary) -> Void)? = nil
    ) async throws -> IngestSummary {
        precondition(batchSize >= 1 && maxInFlight >= 1, "batchSize and maxInFlight must be positive")
        let batches = Self.batches(events, batchSize: batchSize)
        let token = try await self.accessToken()
        return try await self.transport.bidiStream(
            VigilMethods.ingestEvents, requestType: IngestEventsRequest.self, responseType: IngestEventsResponse.self,
            metadata: Self.bearer(token), deadline: nil
        ) { writer, responses in
            var open = IngestOpen()
            open.producerId = producerID
            var request = IngestEventsRequest()
            request.kind = .open(open)
            try await writer.write(request)
            var acks = responses.makeAsyncIterator()
            guard case .ready(let ready)? = try await acks.next()?.kind else {
                throw RPCError(code: .internal, message: "the server did not answer the ingest stream's open")
            }
            var summary = IngestSummary()
            var inFlight: [(sequence: UInt64, firstIndex: Int)] = []
            var sequence = ready.lastCommittedSequence

            func awaitAck() async throws {
                guard case .ack(let ack)? = try await acks.next()?.kind else {
                    throw RPCError(code: .internal, message: "the ingest stream ended before every batch was acknowledged")
                }
                let expected = inFlight.removeFirst()
                guard ack.sequence == expected.sequence else {
                    throw RPCError(code: .internal, message: "ack for batch \(ack.sequence), expected \(expected.sequence)")
                }
                summary.batches += 1
                summary.accepted += Int(ack.accepted)
                summary.duplicates += Int(ack.duplicates)
                summary.alertsCreated += Int(ack.alertsCreated)
                for rejection in ack.rejections {
                    summary.rejections.append(IngestRejection(
                        eventIndex: expected.firstIndex + Int(rejection.index),
                        code: Status.Code(rawValue: rejection.code), reason: rejection.reason))
                }
                onAck?(summary)
            }

            for (firstIndex, slice) in batches {
                sequence += 1
                var batch = EventBatch()
                batch.sequence = sequence
                batch.events = Array(events[slice])
                var message = IngestEventsRequest()
                message.kind = .batch(batch)
                try await writer.write(message)
                inFlight.append((sequence, firstIndex))
                if inFlight.count >= maxInFlight { try await awaitAck() }
            }
            while !inFlight.isEmpty { try await awaitAck() }
            return summary
        }
    }

    /// Index ranges of `events` making batches of at most `batchSize` events and `maximumBatchBytes` encoded.
    package static func batches(_ events: [Event], batchSize: Int) -> [(firstIndex: Int, range: Range<Int>)] {
        var result: [(Int, Range<Int>)] = []
        var start = 0
        var bytes = 0
        for (index, event) in events.enumerated() {
            let size = event.serializedSize() + 4  // key and length prefix of the repeated field
            if index > start && (index - start >= batchSize || bytes + size > Self.maximumBatchBytes - 64) {
                result.append((start, start..<index))
                start = index
                bytes = 0
            }
            bytes += size
        }
        if start < events.count { result.append((start, start..<events.count)) }
        return result
    }
}
