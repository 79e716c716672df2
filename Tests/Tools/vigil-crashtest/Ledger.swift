// What the clients were told, and the events they sent. Every event is named by its description, `s<stream>-e<index>`,
// unique in the run, so the database tells which event it holds and how often; every tenth also carries an
// idempotency key of its own. Streams send their events in order and acks come in order, so what one stream had
// acknowledged is a prefix of its events: the ledger keeps, per stream, how many events were handed to the server
// (`sent`) and how many of those were acknowledged (`acked`).
import Synchronization
import VigilAPI

final class Ledger: Sendable {
    private struct Stream {
        var sent = 0
        var acked = 0
        var batchesAcked = 0
        var duplicateBatches = 0
    }

    private let streams: Mutex<[Stream]>

    init(streams: Int) {
        self.streams = Mutex(Array(repeating: Stream(), count: streams))
    }

    var count: Int { self.streams.withLock { $0.count } }

    /// `events` more of `stream`'s events were handed to the server (may be stored from now on).
    func sent(_ stream: Int, through events: Int) {
        self.streams.withLock { $0[stream].sent = max($0[stream].sent, events) }
    }

    /// The server acknowledged `stream`'s events up to (excluding) `through`.
    func acked(_ stream: Int, through events: Int, duplicateBatch: Bool) {
        self.streams.withLock { streams in
            streams[stream].acked = max(streams[stream].acked, events)
            streams[stream].batchesAcked += 1
            if duplicateBatch { streams[stream].duplicateBatches += 1 }
        }
    }

    func sent(_ stream: Int) -> Int { self.streams.withLock { $0[stream].sent } }
    func acked(_ stream: Int) -> Int { self.streams.withLock { $0[stream].acked } }
    var totalAcked: Int { self.streams.withLock { $0.reduce(0) { $0 + $1.acked } } }
    var totalSent: Int { self.streams.withLock { $0.reduce(0) { $0 + $1.sent } } }
    var duplicateBatches: Int { self.streams.withLock { $0.reduce(0) { $0 + $1.duplicateBatches } } }

    // MARK: The events

    static func description(stream: Int, index: Int) -> String { "s\(stream)-e\(index)" }

    /// Parses a description back into (stream, index); nil for anything else.
    static func parse(_ description: Substring) -> (stream: Int, index: Int)? {
        guard description.first == "s", let dash = description.firstIndex(of: "-") else { return nil }
        let afterDash = description.index(after: dash)
        guard afterDash < description.endIndex, description[afterDash] == "e",
            let stream = Int(description[description.index(after: description.startIndex)..<dash]),
            let index = Int(description[description.index(after: afterDash)...])
        else { return nil }
        return (stream, index)
    }

    /// 40 % LOW, 30 % MEDIUM, 20 % HIGH, 10 % CRITICAL, mixed along each stream.
    static func severity(stream: Int, index: Int) -> Severity {
        switch (index &* 7 &+ stream &* 3) % 10 {
        case 0..<4: .low
        case 4..<7: .medium
        case 7..<9: .high
        default: .critical
        }
    }

    static func event(stream: Int, index: Int) -> Event {
        var event = Event()
        event.sourceName = "host-\(stream)-\(index % 64)"
        event.eventType = "proc.exec"
        event.severity = Self.severity(stream: stream, index: index)
        event.description = Self.description(stream: stream, index: index)
        if index % 10 == 0 { event.idempotencyKey = "k-" + event.description }
        return event
    }
}
