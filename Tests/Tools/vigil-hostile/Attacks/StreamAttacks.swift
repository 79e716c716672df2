// Stream-level abuse (docs/PROTOCOL.md §4–§6, §11): the rapid reset (CVE-2023-44487), a client holding every stream
// it may open without reading, one that never credits a window, and frames or headers over the limits.
import VigilAPI
import VigilPOSIX
import VigilRPC
import VigilTLS
import VigilWire

enum StreamAttacks {
    static func echoHeaders(_ context: AttackContext, timeout: Duration? = nil) -> CallHeaders {
        CallHeaders(methodPath: DiagnosticsMethods.echoStream.path, metadata: context.token, timeout: timeout)
    }

    /// One EchoRequest message.
    static func echoMessage(_ size: Int) -> [UInt8] {
        var request = EchoRequest()
        request.payload = [UInt8](repeating: 0x61, count: size)
        return request.serializedBytes()
    }

    /// HEADERS then RST_STREAM CANCELLED on fresh streams, 50 pairs per write. Documented: ENHANCE_YOUR_CALM.
    static func rapidReset(_ context: AttackContext) -> Verdict {
        guard !context.token.isEmpty else { return Verdict(passed: true, detail: "SKIP (needs --username)") }
        let headers = Self.echoHeaders(context)
        var raw: UInt32 = 1
        return ControlFloods.flood(context, name: "streams opened and reset", expected: .enhanceYourCalm) { index in
            let id = StreamID(raw)
            if index % 2 == 1 { raw += 2 }
            return index % 2 == 0 ? .headers(id, headers, endStream: false) : .reset(id, .cancelled)
        }
    }

    /// Opens every stream the server allows (plus one), sends a message on each, then reads nothing for the
    /// attack's time. Documented: the extra stream gets TRAILERS UNAVAILABLE; what the server holds is bounded by
    /// the windows.
    static func streamHog(_ context: AttackContext) -> Verdict {
        guard !context.token.isEmpty else { return Verdict(passed: true, detail: "SKIP (needs --username)") }
        do {
            let client = try RawClient(tlsTo: context.address, context: context.tls)
            // Learn the server's limit from its SETTINGS.
            _ = client.waitFor(timeout: .seconds(3)) { outcome in
                outcome.frames.contains { if case .settings = $0 { true } else { false } }
            }
            var limit = 100
            for case .settings(let settings) in client.outcome.frames { limit = settings.maxConcurrentStreams }
            let message = Self.echoMessage(8 * 1024)
            let encoder = FrameEncoder()
            var bytes: [UInt8] = []
            for index in 0..<limit {
                let id = StreamID(UInt32(2 * index + 1))
                try encoder.encode(.headers(id, Self.echoHeaders(context), endStream: false), into: &bytes)
                try encoder.encodeMessage(message, on: id, into: &bytes)
            }
            let extra = StreamID(UInt32(2 * limit + 1))
            try encoder.encode(.headers(extra, Self.echoHeaders(context), endStream: false), into: &bytes)
            // Written without reading (RawClient.sendRaw reads only if the kernel refuses bytes for a while).
            try client.send(bytes)
            let holdUntil = ContinuousClock.now + .seconds(context.options.seconds)
            while ContinuousClock.now < holdUntil {
                _ = try? client.epoll.wait(into: client.events, timeout: .milliseconds(100))
            }
            let answered = client.waitFor(timeout: .seconds(5)) { _ in client.trailersStatus(extra) != nil }
            let status = client.trailersStatus(extra)
            let echoed = client.outcome.frames.filter { if case .data = $0 { true } else { false } }.count
            let passed = answered && status == .unavailable && client.outcome.goAway == nil
            return Verdict(
                passed: passed,
                detail: "offender held \(limit) streams unread for \(context.options.seconds) s; stream \(limit + 1) "
                    + "TRAILERS \(status.map { "\($0)" } ?? "none"), \(echoed) DATA frames waiting afterwards")
        } catch {
            return Verdict(passed: false, detail: "attack failed: \(error)")
        }
    }

    /// Advertises a 1 KiB stream window, asks for 32 KiB echoes with a 1 s deadline, and never credits. The
    /// server must not buffer past the window and must end each call DEADLINE_EXCEEDED.
    static func windowStarve(_ context: AttackContext) -> Verdict {
        guard !context.token.isEmpty else { return Verdict(passed: true, detail: "SKIP (needs --username)") }
        do {
            var settings = ConnectionSettings.defaults
            settings.initialStreamWindow = 1024
            let client = try RawClient(tlsTo: context.address, context: context.tls, settings: settings)
            let streams = 20
            let message = Self.echoMessage(32 * 1024)
            let encoder = FrameEncoder()
            var bytes: [UInt8] = []
            for index in 0..<streams {
                let id = StreamID(UInt32(2 * index + 1))
                try encoder.encode(
                    .headers(id, Self.echoHeaders(context, timeout: .seconds(1)), endStream: false), into: &bytes)
                try encoder.encodeMessage(message, on: id, into: &bytes)
            }
            try client.send(bytes)
            let ids = (0..<streams).map { StreamID(UInt32(2 * $0 + 1)) }
            _ = client.waitFor(timeout: .seconds(6)) { _ in ids.allSatisfy { client.trailersStatus($0) != nil } }
            let statuses = ids.map { client.trailersStatus($0) }
            let expired = statuses.filter { $0 == .deadlineExceeded }.count
            var received = 0
            for case .data(_, let data) in client.outcome.frames { received += data.flowControlledLength }
            let passed = expired == streams && received <= streams * 1024
            return Verdict(
                passed: passed,
                detail: "offender never credited \(streams) streams: \(expired)/\(streams) TRAILERS DEADLINE_EXCEEDED, "
                    + "\(received) DATA bytes sent within the 1 KiB windows")
        } catch {
            return Verdict(passed: false, detail: "attack failed: \(error)")
        }
    }

    /// HEADERS over max_header_bytes and a message prefix over max_message_bytes (stream errors: the connection
    /// goes on), then a frame header over max_frame_size (GOAWAY FRAME_SIZE_ERROR); on new connections for the
    /// attack's time.
    static func oversized(_ context: AttackContext) -> Verdict {
        let end = context.deadline
        var rounds = 0
        var verdict: Verdict
        repeat {
            verdict = Self.oversizedOnce(context)
            rounds += 1
        } while verdict.passed && ContinuousClock.now < end
        return Verdict(passed: verdict.passed, detail: "\(verdict.detail) (\(rounds) connections)")
    }

    static func oversizedOnce(_ context: AttackContext) -> Verdict {
        do {
            let client = try RawClient(tlsTo: context.address, context: context.tls)
            var big = context.token
            big.append("x-padding", String(repeating: "p", count: 20_000))
            let fat = CallHeaders(methodPath: DiagnosticsMethods.echoStream.path, metadata: big)
            try client.send([.headers(StreamID(1), fat, endStream: false)])
            try client.send([
                .headers(StreamID(3), Self.echoHeaders(context), endStream: false),
                .data(StreamID(3), DataFrame(messageLength: 512 * 1024 * 1024, bytes: [1, 2, 3])),
            ])
            _ = client.waitFor(timeout: .seconds(3)) { _ in
                client.trailersStatus(StreamID(1)) != nil && client.trailersStatus(StreamID(3)) != nil
            }
            let headerStatus = client.trailersStatus(StreamID(1))
            let messageStatus = client.trailersStatus(StreamID(3))
            // A DATA frame header declaring 16 MiB - 1: refused from the header alone.
            try client.send(
                [0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05] + [UInt8](repeating: 0, count: 1024))
            let closed = client.waitUntilClosed(timeout: .seconds(3))
            let goAway = client.outcome.goAway
            let unauthenticatedOK = context.token.isEmpty && messageStatus == .unauthenticated
            let passed =
                headerStatus == .resourceExhausted
                && (messageStatus == .resourceExhausted || unauthenticatedOK) && goAway?.code == .frameSizeError
                && closed
            return Verdict(
                passed: passed,
                detail: "offender 20 KB headers: TRAILERS \(headerStatus.map { "\($0)" } ?? "none"); 512 MiB message: "
                    + "TRAILERS \(messageStatus.map { "\($0)" } ?? "none"); 16 MiB frame: "
                    + "\(goAway?.summary ?? "no GOAWAY")\(closed ? ", disconnected" : ", still connected")")
        } catch {
            return Verdict(passed: false, detail: "attack failed: \(error)")
        }
    }
}
