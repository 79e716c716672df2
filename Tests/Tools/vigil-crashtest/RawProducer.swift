// A producer on raw IngestEvents streams, one batch in flight, for the disk scenarios: VigilClient's IngestSession
// retries UNAVAILABLE silently, and these scenarios must see the status every refused batch got. After a failure
// it waits, reopens under the same producer id and continues from the server's `ready`: a batch the server
// reports committed there was stored even though its ack never came, and is counted acknowledged (the check then
// finds it in the file); anything else is resent with the same sequence and events.
import Foundation
import Synchronization
import VigilAPI
import VigilClient
import VigilRPC

final class RawProducer: Sendable {
    let stream: Int
    let producerID = VigilClient.newProducerID()
    let batchSize: Int
    private let state = Mutex<(next: UInt64, acked: Int, codes: [String: Int], firstMessage: [String: String])>(
        (1, 0, [:], [:]))

    init(stream: Int, batchSize: Int) {
        self.stream = stream
        self.batchSize = batchSize
    }

    /// Batches acknowledged so far.
    var acked: Int { self.state.withLock { $0.acked } }
    /// How often each failure status (its name) ended a stream.
    var codes: [String: Int] { self.state.withLock { $0.codes } }
    var firstMessages: [String: String] { self.state.withLock { $0.firstMessage } }

    func failures(_ code: Status.Code) -> Int { self.codes["\(code)"] ?? 0 }

    /// Sends batches, one at a time, until `done()` says so or `deadline` passes; returns whether `done()` did.
    func run(
        _ client: VigilClient, _ ledger: Ledger, deadline: ContinuousClock.Instant,
        backoff: Duration = .milliseconds(150),
        done: @escaping @Sendable () -> Bool
    ) async -> Bool {
        while !done() {
            if ContinuousClock.now > deadline { return false }
            do {
                try await self.streamBatches(client, ledger, done: done)
            } catch {
                let name = (error as? RPCError).map { "\($0.code)" } ?? "transport"
                self.state.withLock { state in
                    state.codes[name, default: 0] += 1
                    if state.firstMessage[name] == nil { state.firstMessage[name] = "\(error)" }
                }
                try? await Task.sleep(for: backoff)
            }
        }
        return true
    }

    private func batch(_ sequence: UInt64) -> IngestEventsRequest {
        let first = Int(sequence - 1) * self.batchSize
        var batch = EventBatch()
        batch.sequence = sequence
        batch.events = (first..<first + self.batchSize).map { Ledger.event(stream: self.stream, index: $0) }
        var request = IngestEventsRequest()
        request.kind = .batch(batch)
        return request
    }

    private func streamBatches(_ client: VigilClient, _ ledger: Ledger, done: @escaping @Sendable () -> Bool)
        async throws
    {
        guard let token = client.tokens?.accessToken else {
            throw RPCError(code: .unauthenticated, message: "the client holds no token")
        }
        var metadata = Metadata()
        metadata.append("authorization", "Bearer \(token)")
        try await client.transport.bidiStream(
            VigilMethods.ingestEvents, requestType: IngestEventsRequest.self, responseType: IngestEventsResponse.self,
            metadata: metadata, deadline: .now + .seconds(30)
        ) { writer, responses in
            var iterator = responses.makeAsyncIterator()
            var open = IngestOpen()
            open.producerId = self.producerID
            var request = IngestEventsRequest()
            request.kind = .open(open)
            try await writer.write(request)
            guard case .ready(let ready)? = try await iterator.next()?.kind else {
                throw RPCError(code: .internal, message: "no ready")
            }
            // Committed before its ack could come: stored, so acknowledged by `ready`.
            let committed = ready.lastCommittedSequence
            self.state.withLock { state in
                while state.next <= committed {
                    ledger.acked(self.stream, through: Int(state.next) * self.batchSize, duplicateBatch: false)
                    state.next += 1
                    state.acked += 1
                }
            }
            // A few batches per stream, well inside its deadline; the next stream continues.
            for _ in 0..<20 where !done() {
                let sequence = self.state.withLock { $0.next }
                ledger.sent(self.stream, through: Int(sequence) * self.batchSize)
                try await writer.write(self.batch(sequence))
                guard let response = try await iterator.next() else {
                    throw RPCError(code: .unavailable, message: "the stream ended without an ack")
                }
                guard case .ack(let ack) = response.kind, ack.sequence == sequence else {
                    throw RPCError(code: .internal, message: "expected the ack of batch \(sequence)")
                }
                ledger.acked(self.stream, through: Int(sequence) * self.batchSize, duplicateBatch: ack.duplicateBatch)
                self.state.withLock { state in
                    state.next = sequence + 1
                    state.acked += 1
                }
            }
        }
    }
}
