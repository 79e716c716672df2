// `vigilctl events list|get|ingest`. Ingest reads the file a chunk at a time and streams it through the client's
// durable ingest session (batches in flight, a broken stream reopened and resent), so a file of any size runs in
// bounded memory apart from one line number per event, kept to name the lines the server refuses.
import Foundation
import Glibc
import Synchronization
import VigilAPI
import VigilClient
import VigilRPC

extension Commands {
    func listEvents() async throws {
        try self.arguments.allow(["severity", "type", "source", "since", "until", "order", "limit", "all"])
        guard self.arguments.words.count == 2 else { throw UsageError("unexpected \"\(self.arguments.words[2])\"") }
        var request = ListEventsRequest()
        var filter = EventFilter()
        filter.severities = try Self.list(self.arguments.option("severity"), EventLineParser.severity, what: "severity")
        filter.eventType = self.arguments.option("type") ?? ""
        filter.sourceName = self.arguments.option("source") ?? ""
        filter.occurred = try self.timeRange()
        request.filter = filter
        if let (field, ascending) = self.order() {
            guard let order = EventOrderField(protoName: "EVENT_ORDER_FIELD_" + field.uppercased()), order != .unspecified
            else { throw UsageError("--order: events order by occurred_at or severity (-FIELD for descending)") }
            request.orderBy = order
            request.ascending = ascending
        }
        request.pageSize = try self.pageSize()
        try await self.pages(
            fetch: { token in
                request.pageToken = token
                let response = try await self.client.listEvents(request)
                return (response.events, response.nextPageToken)
            },
            json: CanonicalJSON.event, table: Printing.events)
    }

    func getEvent() async throws {
        try self.arguments.allow([])
        let response = try await self.client.getEvent(id: try self.id(at: 2))
        if self.json { self.out(CanonicalJSON.getEvent(response)) } else { self.out(Printing.event(response)) }
    }

    func ingest() async throws {
        try self.arguments.allow(["key-from-line", "batch-size", "no-progress"])
        let words = self.arguments.words
        guard words.count == 3 else { throw UsageError("events ingest needs one FILE, or - for stdin") }
        let path = words[2]
        let handle: FileHandle
        if path == "-" {
            handle = FileHandle.standardInput
        } else {
            guard let file = FileHandle(forReadingAtPath: path) else {
                throw UsageError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            handle = file
        }
        let batchSize = Int(try self.arguments.integer("batch-size") ?? 500)
        guard (1...10_000).contains(batchSize) else { throw UsageError("--batch-size must be 1 to 10000") }
        let progress = IngestProgress(
            enabled: !self.arguments.has("no-progress") && !self.json && isatty(STDERR_FILENO) != 0)

        var lineNumbers: [Int] = []  // of each event sent, by its index in the session
        var refused: [EventLineError] = []
        var session: IngestSession?
        let reader = EventLineReader(handle: handle, parser: EventLineParser(keyFromLine: self.arguments.has("key-from-line")))
        do {
            for result in reader {
                switch result {
                case .success(let item):
                    if session == nil {
                        session = try await self.client.ingestSession(
                            batchSize: batchSize, maxUnackedBatches: 8, onAck: { progress.acked($0) })
                    }
                    lineNumbers.append(item.lineNumber)
                    try await session?.send(item.event)
                    progress.read(line: item.lineNumber, refused: refused.count)
                case .failure(let error):
                    refused.append(error)
                    progress.read(line: error.lineNumber, refused: refused.count)
                }
            }
            try await session?.close()
        } catch {
            progress.finish()
            await session?.cancel()
            throw error
        }
        progress.finish()

        let summary = session?.summary ?? IngestSummary()
        let rejected = (refused + summary.rejections.map {
            EventLineError(
                lineNumber: $0.eventIndex < lineNumbers.count ? lineNumbers[$0.eventIndex] : 0,
                reason: "\(Status(code: $0.code).code): \($0.reason)")
        }).sorted { $0.lineNumber < $1.lineNumber }
        if self.json {
            self.out(JSON.object([
                ("accepted", .number(summary.accepted)), ("duplicates", .number(summary.duplicates)),
                ("rejected", .array(rejected.map { .object([("line", .number($0.lineNumber)), ("reason", .string($0.reason))]) })),
                ("alertsCreated", .number(summary.alertsCreated)),
            ]))
        } else {
            self.out("accepted \(summary.accepted), duplicates \(summary.duplicates), rejected \(rejected.count), "
                + "alerts created \(summary.alertsCreated)")
            for error in rejected { self.out("  \(error)") }
        }
    }
}

/// The progress line of `events ingest` on a terminal (stderr): lines read, events acknowledged, refused so far.
/// Redrawn at most five times a second; cleared before the summary is printed.
final class IngestProgress: Sendable {
    private struct State {
        var line = 0
        var refusedLocally = 0
        var accepted = 0
        var duplicates = 0
        var rejected = 0
        var lastDraw = ContinuousClock.now - .seconds(1)
        var drawn = false
    }

    private let enabled: Bool
    private let state = Mutex(State())

    init(enabled: Bool) { self.enabled = enabled }

    func read(line: Int, refused: Int) {
        guard self.enabled else { return }
        self.update { state in
            state.line = line
            state.refusedLocally = refused
        }
    }

    func acked(_ ack: IngestSessionAck) {
        guard self.enabled else { return }
        self.update { state in
            state.accepted += ack.accepted
            state.duplicates += ack.duplicates
            state.rejected += ack.rejections.count
        }
    }

    private func update(_ change: (inout State) -> Void) {
        let line: String? = self.state.withLock { state in
            change(&state)
            let now = ContinuousClock.now
            guard now - state.lastDraw >= .milliseconds(200) else { return nil }
            state.lastDraw = now
            state.drawn = true
            return "\r\u{1B}[Kline \(state.line): accepted \(state.accepted), duplicates \(state.duplicates), "
                + "rejected \(state.rejected + state.refusedLocally)"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    func finish() {
        guard self.enabled, self.state.withLock({ $0.drawn }) else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
