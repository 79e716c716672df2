// The durable-ingest issue's main proof, against the real vigild binary over loopback TLS on a real SQLite file:
// 8 ingest sessions (one producer id each, spread over 4 client connections) stream events with mixed severities;
// 10 % carry an idempotency key, half of those shared by all 8 sessions (so the server must store each once). While
// they stream, vigild is killed with SIGKILL twice at random moments and restarted on the same data directory and
// port; the sessions reconnect and resend on their own. After the run vigild is killed once more and restarted, and
// each producer's last batches (and its first) are resent by hand on a raw IngestEvents stream with the same
// sequences and events: every one must come back `duplicate_batch`. Then the store must hold exactly the events the
// acks accepted (GetStats, ListEvents walked 1,000 at a time, and sqlite3 on the tables `event_batches` and `alerts` of
// the file after a clean stop): no event twice, every acknowledged event present, one event per shared key, one alert per stored HIGH/CRITICAL event, and
// `duplicateBatch` acks only for batches that were in flight when a kill happened.
//
// "Stored equals accepted" needs one refinement: a batch committed just before a SIGKILL whose ack died with the
// process is resent and acked `duplicate_batch` with accepted 0, so no ack reports what its first commit stored.
// The test counts those batches' events from the store (each non-shared-key one must be there) and adds them to
// the acks' sums; everything else is compared with the acks as they are.
//
// Size: the full 8 × 50,000 always. Measured in a debug build on the 2-core machine: 15-24 s of ingest,
// 29-43 s in all (the rest is walking 383 pages of ListEvents and the checks); 8 × 5,000 took ~2 s and ~5 s. That
// is under the ~90 s beyond which the full size would go behind VIGIL_LONG_TESTS=1.
import Foundation
import Synchronization
import Testing
import VigilAPI
import VigilClient
import VigilPOSIX
import VigilRPC
import VigilTesting

@Suite(.serialized) struct IngestDurabilityTests {
    static let password = "correct horse battery staple"
    static let sessions = 8
    static let connections = 4
    static let eventsPerSession = 50_000
    static let batchSize = 100
    static let maxUnacked = 16
    static let kills = 2
    /// Batches resent by hand per producer after the run: the first and the last few.
    static let resentTail = 5

    // MARK: The events

    /// Every 20th event carries a key shared by all sessions (same key, same severity in each); every 20th, offset by
    /// 10, a key of its own. So 10 % have keys and half of those repeat across the 8 sessions.
    static func sharedKey(_ index: Int) -> Bool { index % 20 == 0 }

    static func key(session: Int, index: Int) -> String {
        if Self.sharedKey(index) { return "shared-\(index)" }
        if index % 20 == 10 { return "own-\(session)-\(index)" }
        return ""
    }

    /// 40 % LOW, 30 % MEDIUM, 20 % HIGH, 10 % CRITICAL; a shared-key event's severity depends on its key only.
    static func severity(session: Int, index: Int) -> Severity {
        let roll = Self.sharedKey(index) ? (index / 20) % 10 : (index &* 7 &+ session &* 3) % 10
        switch roll {
        case 0..<4: return .low
        case 4..<7: return .medium
        case 7..<9: return .high
        default: return .critical
        }
    }

    static func description(session: Int, index: Int) -> String { "s\(session)-e\(index)" }

    static func event(session: Int, index: Int) -> Event {
        var event = Event()
        event.sourceName = "host-\(session)-\(index % 50)"
        event.eventType = "proc.exec"
        event.severity = Self.severity(session: session, index: index)
        event.description = Self.description(session: session, index: index)
        event.idempotencyKey = Self.key(session: session, index: index)
        return event
    }

    static func isHighOrCritical(_ severity: Severity) -> Bool { severity == .high || severity == .critical }

    // MARK: The test

    @Test("8 sessions through 2 SIGKILLs of vigild: acked events all stored, none twice, one alert per HIGH/CRITICAL")
    func ingestThroughKills() async throws {
        let started = ContinuousClock.now
        let directory = try TemporaryDirectory(prefix: "vigild-durability")
        let ca = directory.file("data/tls/cert.pem")
        let server = try Vigild(directory: directory, port: VigildServeTests.freePort())
        defer { server.terminateIfRunning() }
        try server.start()

        var clients: [VigilClient] = []
        for _ in 0..<Self.connections {
            let client = try await VigildServeTests.connect(port: server.port, ca: ca)
            try await client.authenticate(username: "admin", password: Self.password)
            clients.append(client)
        }
        let logs = (0..<Self.sessions).map { _ in AckLog() }
        let done = Flag()

        // The killer: at two random points of progress, SIGKILL, note which batches each session had reported as
        // acked before the kill and shortly after it (a resent batch acked `duplicate_batch` must lie just above),
        // restart on the same port.
        let total = Self.sessions * Self.eventsPerSession
        let thresholds = [Double.random(in: 0.1...0.35), Double.random(in: 0.5...0.75)].map { Int($0 * Double(total)) }
        let killer = Task { () throws -> [KillRecord] in
            var records: [KillRecord] = []
            for threshold in thresholds {
                while logs.reduce(0, { $0 + $1.events }) < threshold && !done.isSet {
                    try await Task.sleep(for: .milliseconds(2))
                }
                if done.isSet { break }
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...30)))
                let before = logs.map(\.reportedThrough)
                server.killHard()
                // Let the sessions read whatever the dead server's socket still held.
                try await Task.sleep(for: .milliseconds(200))
                let after = logs.map(\.reportedThrough)
                let down = ContinuousClock.now
                try server.start()
                let probe = try await VigildServeTests.connect(port: server.port, ca: ca)
                await probe.close()
                records.append(KillRecord(before: before, after: after, restart: ContinuousClock.now - down))
            }
            return records
        }
        defer {
            done.set()
            killer.cancel()
        }

        let ingestStarted = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: SessionResult.self) { group in
            for session in 0..<Self.sessions {
                let client = clients[session % Self.connections]
                let log = logs[session]
                group.addTask {
                    let ingest = try await client.ingestSession(
                        batchSize: Self.batchSize, maxUnackedBatches: Self.maxUnacked,
                        reconnect: IngestSession.ReconnectPolicy(
                            timeout: .seconds(120), initialBackoff: .milliseconds(20),
                            maximumBackoff: .milliseconds(200)),
                        onAck: log.append)
                    var highOrCritical = 0
                    for index in 0..<Self.eventsPerSession {
                        let event = Self.event(session: session, index: index)
                        if Self.isHighOrCritical(event.severity) { highOrCritical += 1 }
                        try await ingest.send(event)
                    }
                    try await ingest.close()
                    return SessionResult(
                        session: session, producerID: ingest.producerID, highOrCriticalSent: highOrCritical,
                        reconnects: ingest.reconnectCount, summary: ingest.summary)
                }
            }
            var results: [SessionResult] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.session < $1.session }
        }
        done.set()
        let ingestTime = ContinuousClock.now - ingestStarted
        let kills = try await killer.value
        #expect(kills.count == Self.kills, "vigild was killed \(kills.count) times, thresholds \(thresholds)")

        // What the sessions saw.
        let batchesPerSession = UInt64((Self.eventsPerSession + Self.batchSize - 1) / Self.batchSize)
        var acceptedByAcks = 0
        var alertsByAcks = 0
        var keyDuplicatesByAcks = 0
        var duplicateBatches = 0
        /// Events of batches whose first ack died with a killed vigild: committed then, acked `duplicate_batch` (with
        /// accepted 0) after the resend, so no ack says how many of them that first commit stored.
        var lostAckEvents: [(session: Int, index: Int)] = []
        for result in results {
            let acks = logs[result.session].all
            let session = result.session
            #expect(acks.map(\.sequence) == Array(1...batchesPerSession), "session \(session): one ack per batch")
            #expect(acks.allSatisfy { $0.rejections.isEmpty }, "session \(session): nothing refused")
            #expect(result.summary.accepted + result.summary.duplicates == Self.eventsPerSession)
            acceptedByAcks += acks.reduce(0) { $0 + $1.accepted }
            alertsByAcks += acks.reduce(0) { $0 + $1.alertsCreated }
            keyDuplicatesByAcks += acks.filter { !$0.duplicateBatch }.reduce(0) { $0 + $1.duplicates }
            for ack in acks where ack.duplicateBatch {
                duplicateBatches += 1
                let first = Int(ack.sequence - 1) * Self.batchSize
                lostAckEvents += (first..<min(first + Self.batchSize, Self.eventsPerSession)).map { (session, $0) }
                #expect(ack.accepted == 0 && ack.alertsCreated == 0 && ack.duplicates == Self.batchSize)
                // A duplicate batch is a resend: a batch in flight when some kill happened.
                let inFlight = kills.contains { kill in
                    ack.sequence > kill.before[session]
                        && ack.sequence <= kill.after[session] + UInt64(Self.maxUnacked)
                }
                #expect(inFlight, "session \(session): batch \(ack.sequence) acked duplicate_batch but not resent")
            }
            // Every session with batches still unacknowledged well after a kill had to reopen its stream (`before`
            // would race with the last ack of a session that finishes just as vigild dies).
            let killsWhileStreaming = kills.filter { $0.after[session] < batchesPerSession }.count
            let acked = kills.map { "\($0.before[session])-\($0.after[session])" }
            #expect(
                result.reconnects >= killsWhileStreaming,
                "session \(session): \(result.reconnects) reconnects for \(killsWhileStreaming) kills, acked \(acked)")
        }

        // What the store must hold: every event without a shared key, and one per shared key.
        let sharedKeys = (0..<Self.eventsPerSession).filter(Self.sharedKey)
        var expectedHighOrCritical = 0
        var unshared = Set<String>()
        for session in 0..<Self.sessions {
            for index in 0..<Self.eventsPerSession where !Self.sharedKey(index) {
                unshared.insert(Self.description(session: session, index: index))
                if Self.isHighOrCritical(Self.severity(session: session, index: index)) { expectedHighOrCritical += 1 }
            }
        }
        expectedHighOrCritical += sharedKeys.filter { Self.isHighOrCritical(Self.severity(session: 0, index: $0)) }
            .count
        let expectedCount = unshared.count + sharedKeys.count
        let highOrCriticalSent = results.reduce(0) { $0 + $1.highOrCriticalSent }
        let sharedHighOrCritical = sharedKeys.filter { Self.isHighOrCritical(Self.severity(session: 0, index: $0)) }
        #expect(highOrCriticalSent - sharedHighOrCritical.count * (Self.sessions - 1) == expectedHighOrCritical)
        /// What the lost first acks of the `duplicate_batch` batches would have said, read back from a set of stored
        /// descriptions: events stored, HIGH/CRITICAL among them, shared-key events not stored (key duplicates).
        func lostAcks(_ stored: Set<String>) -> (accepted: Int, alerts: Int, keyDuplicates: Int) {
            var lost = (accepted: 0, alerts: 0, keyDuplicates: 0)
            for (session, index) in lostAckEvents {
                if stored.contains(Self.description(session: session, index: index)) {
                    lost.accepted += 1
                    if Self.isHighOrCritical(Self.severity(session: session, index: index)) { lost.alerts += 1 }
                } else if Self.sharedKey(index) {
                    lost.keyDuplicates += 1
                }
            }
            return lost
        }
        /// Checks the acks' sums, completed by the lost acks as `stored` tells them, against what must be stored.
        func checkAckSums(_ stored: Set<String>, _ source: String) {
            let lost = lostAcks(stored)
            #expect(acceptedByAcks + lost.accepted == expectedCount, "\(source): accepted by acks \(acceptedByAcks) + \(lost.accepted) in lost acks")
            #expect(alertsByAcks + lost.alerts == expectedHighOrCritical, "\(source): alerts by acks \(alertsByAcks) + \(lost.alerts)")
            #expect(
                keyDuplicatesByAcks + lost.keyDuplicates == sharedKeys.count * (Self.sessions - 1),
                "\(source): key duplicates by acks \(keyDuplicatesByAcks) + \(lost.keyDuplicates)")
        }

        // One more SIGKILL with nothing in flight, then resend by hand: every batch is a duplicate.
        server.killHard()
        try server.start()
        let raw = try await VigildServeTests.connect(port: server.port, ca: ca)
        try await raw.authenticate(username: "admin", password: Self.password)
        var resentBatches = 0
        for result in results {
            let sequences = [1] + Array(batchesPerSession - UInt64(Self.resentTail) + 1...batchesPerSession)
            let batches = sequences.map { sequence in
                let first = Int(sequence - 1) * Self.batchSize
                let events = (first..<min(first + Self.batchSize, Self.eventsPerSession)).map {
                    Self.event(session: result.session, index: $0)
                }
                return IngestEventsRequest.resentBatch(sequence, events)
            }
            let run = try await Self.rawStream(raw, producer: result.producerID, batches)
            #expect(run.ready == batchesPerSession, "session \(result.session): the mark survived the SIGKILLs")
            #expect(run.acks.map(\.sequence) == sequences)
            for ack in run.acks {
                #expect(ack.duplicateBatch && ack.accepted == 0 && ack.duplicates == UInt32(Self.batchSize))
                #expect(ack.alertsCreated == 0)
            }
            resentBatches += run.acks.count
        }

        // The store through the API.
        let stats = try await raw.getStats()
        let listed = try await Self.storedDescriptions(raw)
        let listedSet = Set(listed)
        let lostByList = lostAcks(listedSet)
        checkAckSums(listedSet, "ListEvents")
        #expect(stats.totalEvents == Int64(acceptedByAcks + lostByList.accepted))
        #expect(stats.totalAlerts == Int64(alertsByAcks + lostByList.alerts))
        #expect(listed.count == acceptedByAcks + lostByList.accepted)
        #expect(listedSet.count == listed.count, "no event listed twice")
        await raw.close()
        for client in clients { await client.close() }

        // The file itself, after a clean stop.
        try await server.stop()
        let database = directory.file("data/vigil.db")
        // Events are read from their batch rows (StoredEventBatches parses the blobs), alerts from their rows.
        let storedEvents = try StoredEventBatches.parse(rows: try Self.sqlite(database, StoredEventBatches.query))
        let stored = storedEvents.map(\.description)
        let storedSet = Set(stored)
        checkAckSums(storedSet, "sqlite3")
        #expect(stored.count == acceptedByAcks + lostAcks(storedSet).accepted, "stored events equal the acks' accepted sum")
        // Every acknowledged event is there, those acked `duplicate_batch` included.
        let lostAcked = lostAckEvents.filter { !Self.sharedKey($0.index) }
            .map { Self.description(session: $0.session, index: $0.index) }.filter { !storedSet.contains($0) }
        #expect(lostAcked.isEmpty, "acked duplicate_batch but not stored: \(lostAcked.prefix(20))")
        #expect(storedSet.count == stored.count, "no event stored twice")
        let missing = unshared.subtracting(storedSet)
        #expect(missing.isEmpty, "every acknowledged event is stored: \(missing.count) missing, \(missing.prefix(20))")
        let wrongCopies = sharedKeys.map { index in
            (index, (0..<Self.sessions).filter { storedSet.contains(Self.description(session: $0, index: index)) }.count)
        }.filter { $0.1 != 1 }
        #expect(wrongCopies.isEmpty, "shared keys not stored exactly once (key, copies): \(wrongCopies.prefix(20))")
        #expect(storedSet.count == expectedCount)
        let alertEventIDs = try Self.sqlite(database, "SELECT event_id FROM alerts").map { Int64($0) ?? -1 }
        let alerts = alertEventIDs.count
        let alertedEvents = Set(alertEventIDs).count
        let highIDs = Set(storedEvents.filter { $0.severity.rawValue >= 3 }.map(\.id))
        let storedHigh = highIDs.count
        let alertsOnHigh = alertEventIDs.filter { highIDs.contains($0) }.count
        let keys = try Self.sqliteInt(database, "SELECT count(*) FROM idempotency_keys")
        #expect(storedHigh == expectedHighOrCritical)
        #expect(alerts == storedHigh && alertedEvents == storedHigh && alertsOnHigh == storedHigh)
        #expect(keys == sharedKeys.count + Self.sessions * (0..<Self.eventsPerSession).filter { $0 % 20 == 10 }.count)

        let elapsed = ContinuousClock.now - started
        print(
            "IngestDurabilityTests: \(Self.sessions) × \(Self.eventsPerSession) events, ingest \(ingestTime), "
                + "total \(elapsed), kills at \(thresholds) acked events, restarts \(kills.map(\.restart)), "
                + "reconnects \(results.map(\.reconnects)), duplicate batches \(duplicateBatches), "
                + "(\(lostAcks(storedSet).accepted) events stored by their lost first acks), resent by hand \(resentBatches), "
                + "stored \(stored.count), alerts \(alerts)")
    }

    // MARK: Helpers

    struct SessionResult: Sendable {
        let session: Int
        let producerID: [UInt8]
        let highOrCriticalSent: Int
        let reconnects: Int
        let summary: IngestSummary
    }

    struct KillRecord: Sendable {
        /// Each session's highest reported ack just before the SIGKILL and 200 ms after it.
        let before: [UInt64]
        let after: [UInt64]
        let restart: Duration
    }

    final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { self.value.withLock { $0 = true } }
        var isSet: Bool { self.value.withLock { $0 } }
    }

    /// Every ack of one session, in the order `onAck` saw them.
    final class AckLog: Sendable {
        private let acks = Mutex<[IngestSessionAck]>([])
        private let counters = Mutex((events: 0, through: UInt64(0)))
        func append(_ ack: IngestSessionAck) {
            self.acks.withLock { $0.append(ack) }
            self.counters.withLock {
                $0.events += ack.accepted + ack.duplicates
                $0.through = max($0.through, ack.sequence)
            }
        }
        var all: [IngestSessionAck] { self.acks.withLock { $0 } }
        var events: Int { self.counters.withLock { $0.events } }
        var reportedThrough: UInt64 { self.counters.withLock { $0.through } }
    }

    /// vigild on a fixed port and data directory, killed and restarted by the test; its log goes to a file per life
    /// (a pipe nobody reads could fill and stall it).
    final class Vigild: Sendable {
        let directory: TemporaryDirectory
        let port: UInt16
        private let current = Mutex<(process: ChildProcess?, lives: Int)>((nil, 0))

        init(directory: TemporaryDirectory, port: UInt16) {
            self.directory = directory
            self.port = port
        }

        func start() throws {
            let life = self.current.withLock { state in
                state.lives += 1
                return state.lives
            }
            let logPath = self.directory.file("vigild-\(life).log")
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let process = ChildProcess()
            process.executableURL = URL(fileURLWithPath: VigildBinaryTests.binary)
            process.arguments = [
                "--data-dir", self.directory.file("data"), "--listen", "127.0.0.1:\(self.port)", "--event-loops", "1",
            ]
            process.environment = ["VIGIL_ADMIN_PASSWORD": IngestDurabilityTests.password]
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            try process.run()
            self.current.withLock { $0.process = process }
        }

        /// SIGKILL, and wait for the process to be gone.
        func killHard() {
            guard let process = self.current.withLock({ $0.process }) else { return }
            _ = kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        /// SIGTERM; expects a clean exit within 30 s.
        func stop() async throws {
            guard let process = self.current.withLock({ $0.process }) else { return }
            _ = kill(process.processIdentifier, SIGTERM)
            let end = ContinuousClock.now + .seconds(30)
            while process.isRunning && ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!process.isRunning)
            if process.isRunning {
                _ = kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            #expect(process.terminationStatus == 0, "vigild log: \(self.lastLog())")
        }

        func terminateIfRunning() {
            if let process = self.current.withLock({ $0.process }), process.isRunning {
                _ = kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }

        func lastLog() -> String {
            let life = self.current.withLock { $0.lives }
            return (try? String(contentsOfFile: self.directory.file("vigild-\(life).log"), encoding: .utf8)) ?? ""
        }
    }

    struct RawRun {
        var ready: UInt64
        var acks: [IngestAck]
    }

    /// Opens a raw IngestEvents stream for `producer` with the client's token, writes every batch, and reads
    /// `ready` and one ack per batch.
    static func rawStream(
        _ client: VigilClient, producer: [UInt8], _ batches: [IngestEventsRequest]
    ) async throws -> RawRun {
        let token = try #require(client.tokens).accessToken
        var metadata = Metadata()
        metadata.append("authorization", "Bearer \(token)")
        return try await client.transport.bidiStream(
            VigilMethods.ingestEvents, requestType: IngestEventsRequest.self, responseType: IngestEventsResponse.self,
            metadata: metadata, deadline: .now + .seconds(60)
        ) { writer, responses in
            var iterator = responses.makeAsyncIterator()
            var open = IngestOpen()
            open.producerId = producer
            var request = IngestEventsRequest()
            request.kind = .open(open)
            try await writer.write(request)
            guard case .ready(let ready)? = try await iterator.next()?.kind else {
                throw RPCError(code: .internal, message: "no ready")
            }
            for batch in batches { try await writer.write(batch) }
            var acks: [IngestAck] = []
            while acks.count < batches.count {
                guard let response = try await iterator.next() else {
                    throw RPCError(code: .internal, message: "the stream ended after \(acks.count) acks")
                }
                guard case .ack(let ack) = response.kind else {
                    throw RPCError(code: .internal, message: "expected an ack")
                }
                acks.append(ack)
            }
            return RawRun(ready: ready.lastCommittedSequence, acks: acks)
        }
    }

    /// Every event description stored, paging through ListEvents 1,000 at a time.
    static func storedDescriptions(_ client: VigilClient) async throws -> [String] {
        var descriptions: [String] = []
        var request = ListEventsRequest()
        request.pageSize = 1000
        while true {
            let page = try await client.listEvents(request)
            descriptions += page.events.map(\.description)
            if page.nextPageToken.isEmpty { return descriptions }
            request.pageToken = page.nextPageToken
        }
    }

    /// One column of a query's rows, through the sqlite3 CLI.
    static func sqlite(_ database: String, _ query: String) throws -> [String] {
        let sqlite3 = try #require(Subprocess.which("sqlite3"), "the sqlite3 CLI is needed to read the file")
        let result = try Subprocess.run(sqlite3, ["-batch", "-noheader", database, query])
        #expect(result.status == 0, "sqlite3: \(result.stderrText)")
        return result.stdoutText.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    static func sqliteInt(_ database: String, _ query: String) throws -> Int {
        try #require(Int(try Self.sqlite(database, query).first ?? ""), "\(query) gave no number")
    }
}

extension IngestEventsRequest {
    fileprivate static func resentBatch(_ sequence: UInt64, _ events: [Event]) -> IngestEventsRequest {
        var batch = EventBatch()
        batch.sequence = sequence
        batch.events = events
        var request = IngestEventsRequest()
        request.kind = .batch(batch)
        return request
    }
}
