// Sending a list of events: the one-shot face of `IngestSession` for tools such as `vigilctl events ingest`. The
// session does the batching (at most `batchSize` events and under 1 MiB encoded, so a batch always fits the server's
// message limit), keeps several batches in flight, reopens a broken stream and resends what was not acknowledged;
// this file only maps each per-event rejection back to the event's position in the caller's list, so a tool can
// report "line 12: description is blank".
import Synchronization
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

    /// Streams `events` and returns once every batch is acknowledged. A broken connection is reopened and the
    /// unacknowledged batches resent under the same producer id (see `IngestSession`), so a summary means every event
    /// was stored, refused or recognised as a duplicate exactly once.
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
        var report: (@Sendable (IngestSessionAck) -> Void)?
        if let onAck {
            let progress = RunningSummary()
            report = { ack in onAck(progress.add(ack)) }
        }
        let session = try await self.ingestSession(
            producerID: producerID, batchSize: batchSize, maxUnackedBatches: maxInFlight, onAck: report)
        do {
            try await session.send(contentsOf: events)
            try await session.close()
        } catch {
            await session.cancel()
            throw error
        }
        // A fresh session counts events from 0, so its indexes are the list's.
        return session.summary
    }

    /// Index ranges of `events` making batches of at most `batchSize` events and `maximumBatchBytes` encoded.
    package static func batches(_ events: [Event], batchSize: Int) -> [(firstIndex: Int, range: Range<Int>)] {
        var result: [(Int, Range<Int>)] = []
        var start = 0
        var bytes = 0
        for (index, event) in events.enumerated() {
            let size = event.serializedSize() + Self.batchFieldOverhead
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

/// The summary handed to `ingest`'s progress callback, folded ack by ack on the session's task.
private final class RunningSummary: Sendable {
    private let summary = Mutex(IngestSummary())

    func add(_ ack: IngestSessionAck) -> IngestSummary {
        self.summary.withLock { summary in
            summary.batches += 1
            summary.accepted += ack.accepted
            summary.duplicates += ack.duplicates
            summary.alertsCreated += ack.alertsCreated
            summary.rejections += ack.rejections.map {
                IngestRejection(eventIndex: $0.eventIndex, code: $0.code, reason: $0.reason)
            }
            return summary
        }
    }
}
