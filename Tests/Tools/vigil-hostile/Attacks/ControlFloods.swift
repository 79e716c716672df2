// Control-frame floods (docs/PROTOCOL.md §5.6, §11): frames that are each valid and cost the sender nothing but
// ask work of the server. Documented answer: GOAWAY ENHANCE_YOUR_CALM once the peer's budget (burst 1000) is spent;
// a second SETTINGS ACK is simply a PROTOCOL_ERROR.
import VigilAPI
import VigilPOSIX
import VigilRPC
import VigilTLS

struct AttackContext: Sendable {
    let options: Options
    let address: SocketAddress
    let tls: TLSContext
    let token: Metadata
    var deadline: ContinuousClock.Instant { ContinuousClock.now + .seconds(self.options.seconds) }
}

enum ControlFloods {
    /// Sends `frame(i)` in batches of 100 until the server says GOAWAY or closes; then again on a new connection,
    /// for the attack's time (so the good client is measured during a sustained attack, not one burst). Every
    /// connection must end with GOAWAY `expected` and a close.
    static func flood(
        _ context: AttackContext, name: String, expected: GoAwayCode, setup: (RawClient) throws -> Void = { _ in },
        _ frame: (Int) -> Frame
    ) -> Verdict {
        let end = context.deadline
        var rounds = 0
        var answered = 0
        var sentTotal = 0
        var pongs = 0
        var problems: [String] = []
        repeat {
            rounds += 1
            do {
                let client = try RawClient(tlsTo: context.address, context: context.tls)
                client.keepFrames = false
                try setup(client)
                // A round in progress may run past the attack's end, so it is never cut before the server answers.
                let roundEnd = max(end, ContinuousClock.now + .seconds(5))
                var sent = 0
                while client.outcome.goAway == nil && !client.outcome.closed && ContinuousClock.now < roundEnd {
                    do {
                        try client.send((0..<100).map { frame(sent + $0) })
                    } catch {
                        break  // the server closed under us: the GOAWAY, if any, is still to be read
                    }
                    sent += 100
                    _ = try? client.pump(timeout: .zero)
                }
                _ = client.waitUntilClosed(timeout: .seconds(3))
                sentTotal += sent
                pongs += client.pongs
                if let goAway = client.outcome.goAway, goAway.code == expected, client.outcome.closed {
                    answered += 1
                } else {
                    problems.append(
                        client.outcome.goAway.map { "\($0.summary)\(client.outcome.closed ? "" : " without close")" }
                            ?? (client.outcome.closed ? "closed without GOAWAY" : "still connected after \(sent)"))
                }
            } catch {
                problems.append("\(error)")
            }
        } while ContinuousClock.now < end && problems.isEmpty
        let perRound = rounds > 0 ? sentTotal / rounds : 0
        return Verdict(
            passed: problems.isEmpty && answered == rounds,
            detail:
                "offender GOAWAY \(expected) on \(answered)/\(rounds) connections, ~\(perRound) \(name) sent on each"
                + (pongs > 0 ? " (\(pongs / max(rounds, 1)) answered before it)" : "")
                + (problems.isEmpty ? "" : "; \(problems.prefix(2).joined(separator: "; "))"))
    }

    static func pingFlood(_ context: AttackContext) -> Verdict {
        Self.flood(context, name: "pings", expected: .enhanceYourCalm) { .ping(UInt64($0)) }
    }

    /// Empty DATA frames without END_STREAM on an open stream: nothing to deliver, only work.
    static func emptyFrames(_ context: AttackContext) -> Verdict {
        let headers = CallHeaders(methodPath: DiagnosticsMethods.echoStream.path, metadata: context.token)
        return Self.flood(
            context, name: "empty DATA frames", expected: .enhanceYourCalm,
            setup: { try $0.send([.headers(StreamID(1), headers, endStream: false)]) },
            { _ in .data(StreamID(1), DataFrame()) })
    }

    /// WINDOW_UPDATE +1 on the connection, over and over: credit the server never needed.
    static func windowUpdateFlood(_ context: AttackContext) -> Verdict {
        Self.flood(context, name: "WINDOW_UPDATEs", expected: .enhanceYourCalm) { _ in
            .windowUpdate(.connection, increment: 1)
        }
    }

    /// SETTINGS ACKs for SETTINGS never sent: the second is already a protocol error.
    static func settingsAckFlood(_ context: AttackContext) -> Verdict {
        Self.flood(context, name: "SETTINGS ACKs", expected: .protocolError) { _ in .settingsAck }
    }
}
