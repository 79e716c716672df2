// Connection-level abuse: more connections than the server allows, TLS handshakes trickled one byte a second
// (slowloris), and garbage after a valid preface. Documented answers: connections over `--max-connections` are
// accepted and closed at once; a handshake not finished within `--handshake-timeout` is disconnected; garbage is a
// connection error (GOAWAY PROTOCOL_ERROR or FRAME_SIZE_ERROR, then close).
import Foundation
import Glibc
import VigilPOSIX
import VigilRPC
import VigilTLS

enum ConnectionAttacks {
    /// Opens max-connections + 32 TCP connections that never start TLS and holds them for the attack's time; in
    /// the middle, a newcomer doing a real handshake and a call must get through (the slowloris must not starve
    /// accepts: handshaking connections give way to it).
    static func connectionFlood(_ context: AttackContext) -> Verdict {
        let extra = 32
        let total = context.options.maxConnections + extra
        var clients: [RawClient] = []
        var failedConnects = 0
        for _ in 0..<total {
            if let client = try? RawClient(tcpTo: context.address) {
                clients.append(client)
            } else {
                failedConnects += 1
            }
        }
        // The server's answer to the overflow comes at once: count who was closed within a second.
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(1) {
            for client in clients where !client.outcome.closed { _ = try? client.pump(timeout: .zero) }
            usleepSafe(20_000)
        }
        let refusedAtOnce = clients.filter { $0.outcome.closed }.count + failedConnects
        // Every slot is now held by a silent handshaker or an established client: a newcomer must still get in,
        // once the silent ones are older than any honest handshake (the server's eviction age, at most 1 s).
        usleepSafe(300_000)
        var newcomer = "newcomer served"
        var newcomerServed = true
        do {
            let client = try RawClient(tlsTo: context.address, context: context.tls)
            // Diagnostics/Check with an empty HealthCheckRequest: HEADERS, then one empty message that half-closes.
            try client.send([
                .headers(StreamID(1), CallHeaders(methodPath: "/vigil.v1.Diagnostics/Check"), endStream: false),
                .data(StreamID(1), DataFrame(messageLength: 0, endMessage: true, endStream: true)),
            ])
            _ = client.waitFor(timeout: .seconds(3)) { _ in client.trailersStatus(StreamID(1)) != nil }
            if client.trailersStatus(StreamID(1)) != .ok {
                newcomerServed = false
                newcomer =
                    "newcomer's call ended \(client.trailersStatus(StreamID(1)).map { "\($0)" } ?? "without trailers")"
            }
            client.close()
        } catch {
            newcomerServed = false
            newcomer = "newcomer refused (\(error))"
        }
        // Hold the rest (they occupy handshake slots) for the attack's time, or until the server times them out.
        let holdUntil = start + .seconds(min(context.options.seconds, context.options.handshakeTimeout + 2))
        while ContinuousClock.now < holdUntil {
            for client in clients where !client.outcome.closed { _ = try? client.pump(timeout: .zero) }
            usleepSafe(50_000)
        }
        let closedLater = clients.filter { $0.outcome.closed }.count + failedConnects - refusedAtOnce
        for client in clients { client.close() }
        // Some of the limit is taken by the good client (and connections of earlier attacks still closing), so
        // at least the overflow must have been refused.
        let passed = refusedAtOnce >= extra && newcomerServed
        return Verdict(
            passed: passed,
            detail: "offender opened \(total) silent connections (limit \(context.options.maxConnections)): "
                + "\(refusedAtOnce) closed at once, \(closedLater) more by the handshake timeout; \(newcomer)")
    }

    /// A real ClientHello, trickled one byte a second by 8 clients. Each must be cut off by the handshake timeout.
    static func slowHandshake(_ context: AttackContext) -> Verdict {
        do {
            let session = try TLSSession(context: context.tls, serverName: "127.0.0.1")
            try session.handshake()
            let hello = session.takeCiphertext()
            var clients: [(client: RawClient, sent: Int)] = try (0..<8).map { _ in
                (try RawClient(tcpTo: context.address), 0)
            }
            let start = ContinuousClock.now
            var closedAfter: [Double] = []
            let limit = context.options.handshakeTimeout + 3
            var nextByte = start
            while closedAfter.count < clients.count && (ContinuousClock.now - start).seconds < limit {
                let sendNow = ContinuousClock.now >= nextByte
                if sendNow { nextByte = nextByte + .seconds(1) }
                for index in clients.indices where !clients[index].client.outcome.closed {
                    if sendNow && clients[index].sent < hello.count {
                        _ = try? clients[index].client.sendRaw(
                            [hello[clients[index].sent]], timeout: .milliseconds(100))
                        clients[index].sent += 1
                    }
                    if (try? clients[index].client.pump(timeout: .zero)) != true || clients[index].client.outcome.closed
                    {
                        clients[index].client.outcome.closed = true
                        closedAfter.append((ContinuousClock.now - start).seconds)
                    }
                }
                usleepSafe(50_000)
            }
            for entry in clients { entry.client.close() }
            let worst = closedAfter.max() ?? .infinity
            let passed = closedAfter.count == clients.count && worst <= context.options.handshakeTimeout + 1.5
            return Verdict(
                passed: passed,
                detail: "offender \(clients.count) clients at 1 byte/s: \(closedAfter.count) disconnected, the last "
                    + "after \(String(format: "%.1f", worst)) s (handshake timeout \(context.options.handshakeTimeout) s)"
            )
        } catch {
            return Verdict(passed: false, detail: "attack failed: \(error)")
        }
    }

    /// Preface and SETTINGS, then 128 KiB of random bytes, on 10 connections.
    static func garbage(_ context: AttackContext) -> Verdict {
        var codes: [String: Int] = [:]
        var failures = 0
        for attempt in 0..<10 {
            do {
                let client = try RawClient(tlsTo: context.address, context: context.tls)
                var generator = SystemRandomNumberGenerator()
                var junk = (0..<(128 * 1024)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                if attempt % 2 == 1 {
                    // A plausible length, so the frame is read whole and refused on its type, flags or stream id.
                    junk[0] = 0
                    junk[1] = 0
                }
                try? client.send(junk, timeout: .seconds(2))
                let closed = client.waitUntilClosed(timeout: .seconds(3))
                if let goAway = client.outcome.goAway, goAway.code != .noError, closed {
                    codes["\(goAway.code)", default: 0] += 1
                } else {
                    failures += 1
                }
            } catch {
                failures += 1
            }
        }
        let summary = codes.sorted { $0.key < $1.key }.map { "\($0.value)x \($0.key)" }.joined(separator: ", ")
        return Verdict(
            passed: failures == 0,
            detail: "offender 10 connections of random bytes after the preface: GOAWAY \(summary)"
                + (failures > 0 ? ", \(failures) without GOAWAY+close" : "") + ", all disconnected")
    }
}

/// Sleeps the calling thread (attacks run on threads of their own, never the cooperative pool).
func usleepSafe(_ microseconds: UInt32) {
    var request = timespec(tv_sec: Int(microseconds / 1_000_000), tv_nsec: Int(microseconds % 1_000_000) * 1000)
    _ = nanosleep(&request, nil)
}
