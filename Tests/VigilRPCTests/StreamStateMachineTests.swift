// The per-stream rules, driven without sockets: legal calls deliver exactly what was sent, each rule break gives its
// action, and random frame sequences never break the invariants (windows within bounds, a stream ends once).

import Testing
import VigilRPC
import VigilTesting

let sid = StreamID(1)
let echoCall = CallHeaders(methodPath: "/vigil.v1.Vigil/Echo", timeout: .seconds(5))

@Suite("Stream state machine")
struct StreamStateMachineTests {
    static let id = StreamID(1)
    static let call = CallHeaders(methodPath: "/vigil.v1.Vigil/Echo", timeout: .seconds(5))

    static func server(window: Int = 65_536) -> StreamStateMachine {
        var local = ConnectionSettings()
        local.initialStreamWindow = window
        return StreamStateMachine(id: Self.id, role: .server, localSettings: local, peerSettings: .defaults)
    }

    static func client() throws -> StreamStateMachine {
        var machine = StreamStateMachine(id: Self.id, role: .client, localSettings: .defaults, peerSettings: .defaults)
        try machine.send(.headers(Self.id, Self.call, endStream: false))
        return machine
    }

    @Test("a server sees headers, a message split over frames, and the half-close")
    func serverUnary() throws {
        var machine = Self.server()
        #expect(
            machine.receive(.headers(Self.id, Self.call, endStream: false)) == .headers(Self.call, endStream: false))
        #expect(machine.receive(.data(Self.id, DataFrame(messageLength: 5, bytes: [1, 2]))) == .none)
        #expect(
            machine.receive(.data(Self.id, DataFrame(bytes: [3, 4, 5], endMessage: true, endStream: true)))
                == .message([1, 2, 3, 4, 5], flowControlledBytes: 9, endStream: true)
        )
        #expect(!machine.peerCanSendData)
        #expect(machine.receiveWindow == 65_536 - 9)
        try machine.send(.headers(Self.id, .response(metadata: Metadata()), endStream: false))
        try machine.send(.data(Self.id, .message([9])))
        try machine.send(.trailers(Self.id, CallTrailers(status: .ok)))
        #expect(machine.isClosed)
        #expect(machine.receive(.data(Self.id, .message([1]))) == .ignore)
    }

    @Test("a client sees initial metadata, messages and trailers")
    func clientCall() throws {
        var machine = try Self.client()
        try machine.send(.data(Self.id, .message([1], endStream: true)))
        #expect(!machine.canSendData)
        let initial = CallHeaders.response(metadata: Metadata(["server": "vigild"]))
        #expect(machine.receive(.headers(Self.id, initial, endStream: false)) == .headers(initial, endStream: false))
        #expect(
            machine.receive(.data(Self.id, .message([7]))) == .message([7], flowControlledBytes: 5, endStream: false))
        let trailers = CallTrailers(status: Status(code: .notFound, message: "gone"))
        #expect(machine.receive(.trailers(Self.id, trailers)) == .trailers(trailers))
        #expect(machine.isClosed)
    }

    @Test(
        "rule breaks give their action",
        arguments: [
            (
                "DATA after END_STREAM", [Frame.data(sid, .message([1], endStream: true)), .data(sid, .message([2]))],
                "stream"
            ),
            ("second HEADERS", [Frame.headers(sid, echoCall, endStream: false)], "stream"),
            ("TRAILERS from the client", [Frame.trailers(sid, CallTrailers(status: .ok))], "stream"),
            (
                "BEGIN_MESSAGE inside a message",
                [
                    Frame.data(sid, DataFrame(messageLength: 9, bytes: [1])),
                    .data(sid, .message([2])),
                ], "connection"
            ),
            ("continuation with no message", [Frame.data(sid, DataFrame(bytes: [1]))], "connection"),
            (
                "PACKED inside a message",
                [Frame.data(sid, DataFrame(messageLength: 9, bytes: [1])), .data(sid, .packed([[2], [3]]))],
                "connection"
            ),
            (
                "DATA after a PACKED END_STREAM",
                [Frame.data(sid, .packed([[1]], endStream: true)), .data(sid, .packed([[2]]))], "stream"
            ),
            (
                "PACKED beyond the window",
                [Frame.data(sid, .packed([Array(repeating: 0, count: 65_528), [1]]))], "connection"
            ),
            (
                "message longer than its prefix",
                [
                    Frame.data(sid, DataFrame(messageLength: 2, bytes: [1])),
                    .data(sid, DataFrame(bytes: [2, 3], endMessage: true)),
                ], "connection"
            ),
            (
                "message shorter than its prefix",
                [
                    Frame.data(sid, DataFrame(messageLength: 3, bytes: [1])),
                    .data(sid, DataFrame(bytes: [2], endMessage: true)),
                ], "connection"
            ),
            (
                "END_STREAM inside a message",
                [Frame.data(sid, DataFrame(messageLength: 3, bytes: [1], endStream: true))],
                "connection"
            ),
            ("DATA beyond the window", [Frame.data(sid, .message(Array(repeating: 0, count: 65_533)))], "connection"),
            ("window credited past 2^31 - 1", [Frame.windowUpdate(sid, increment: 0x7FFF_FFFF)], "connection"),
        ] as [(String, [Frame], String)])
    func ruleBreaks(_ name: String, _ frames: [Frame], _ scope: String) {
        var machine = Self.server()
        _ = machine.receive(.headers(Self.id, Self.call, endStream: false))
        var last = StreamStateMachine.Action.none
        for frame in frames { last = machine.receive(frame) }
        switch (last, scope) {
        case (.streamError(let code, _), "stream"):
            #expect(code == .internal)
            #expect(machine.isClosed)
        case (.connectionError, "connection"):
            break
        default:
            Issue.record("\(name): got \(last)")
        }
    }

    @Test("a PACKED frame delivers its messages in order, costs its payload and may half-close")
    func packedMessages() throws {
        var machine = Self.server()
        _ = machine.receive(.headers(Self.id, Self.call, endStream: false))
        let first = machine.receive(.data(Self.id, .packed([[1, 2], [], [3]])))
        #expect(first == .messages([[1, 2], [], [3]], endStream: false))
        #expect(machine.receiveWindow == 65_536 - 15)
        let single = machine.receive(.data(Self.id, .message([4])))
        #expect(single == .message([4], flowControlledBytes: 5, endStream: false))
        let last = machine.receive(.data(Self.id, .packed([[5], [6]], endStream: true)))
        #expect(last == .messages([[5], [6]], endStream: true))
        #expect(!machine.peerCanSendData)

        var client = try Self.client()
        try client.send(.data(Self.id, .packed([Array(repeating: 0, count: 100), [1]])))
        #expect(client.sendWindow == 65_536 - 109)
    }

    @Test("a server refuses DATA before HEADERS as a connection error")
    func dataBeforeHeaders() {
        var machine = Self.server()
        guard case .connectionError(.protocolError, _) = machine.receive(.data(Self.id, .message([1]))) else {
            Issue.record("expected a PROTOCOL_ERROR")
            return
        }
    }

    @Test("sending beyond the window throws until the peer credits it, then resumes")
    func sendWindow() throws {
        var machine = try Self.client()
        try machine.send(.data(Self.id, .message(Array(repeating: 0, count: 65_532))))
        #expect(machine.sendWindow == 0)
        #expect(throws: FrameError.self) { try machine.send(.data(Self.id, .message([1]))) }
        #expect(machine.receive(.windowUpdate(Self.id, increment: 10)) == .resumeSending)
        #expect(machine.receive(.windowUpdate(Self.id, increment: 10)) == .none)
        try machine.send(.data(Self.id, .message([1])))
        #expect(machine.sendWindow == 15)
        #expect(machine.peerInitialWindowChanged(by: -100) == .none)
        #expect(machine.sendWindow == -85)
        #expect(machine.peerInitialWindowChanged(by: 100) == .resumeSending)
    }

    @Test("credit is batched until half the window is consumed")
    func creditBatching() {
        var machine = Self.server(window: 100)
        _ = machine.receive(.headers(Self.id, Self.call, endStream: false))
        _ = machine.receive(.data(Self.id, .message(Array(repeating: 0, count: 36))))
        #expect(machine.receiveWindow == 60)
        #expect(machine.consumed(40) == nil)
        _ = machine.receive(.data(Self.id, .message(Array(repeating: 0, count: 6))))
        #expect(machine.receiveWindow == 50)
        #expect(machine.consumed(10) == .windowUpdate(Self.id, increment: 50))
        #expect(machine.receiveWindow == 100)
    }

    @Test("random frame sequences keep windows in bounds and end the stream at most once")
    func randomSequences() {
        for seed in UInt64(1)...300 {
            var generator = SplitMix64(seed: seed)
            var machine = generator.next() % 2 == 0 ? Self.server(window: 64) : (try? Self.client()) ?? Self.server()
            var ended = 0
            var closedAt: Int?
            for step in 0..<40 {
                let action = machine.receive(Self.randomFrame(&generator))
                switch action {
                case .trailers, .reset, .streamError: ended += 1
                case .connectionError: break
                case .message(_, let cost, _):
                    if generator.next() % 2 == 0 { _ = machine.consumed(cost) }
                case .messages(let messages, _):
                    if generator.next() % 2 == 0 { _ = machine.consumed(messages.reduce(0) { $0 + $1.count + 4 }) }
                default: break
                }
                if machine.isClosed, closedAt == nil { closedAt = step }
                if let closedAt, step > closedAt {
                    #expect(action == .ignore, "seed \(seed) step \(step): \(action) after the end")
                }
                #expect(machine.receiveWindow >= 0, "seed \(seed): receive window below 0")
                #expect(machine.receiveWindow <= ConnectionSettings.maxWindow, "seed \(seed)")
                #expect(machine.sendWindow <= ConnectionSettings.maxWindow, "seed \(seed)")
            }
            #expect(ended <= 1, "seed \(seed): the stream ended \(ended) times")
        }
    }

    static func randomFrame(_ generator: inout SplitMix64) -> Frame {
        let bytes = Array(repeating: UInt8(7), count: Int(generator.next() % 12))
        let end = generator.next() % 4 == 0
        switch generator.next() % 9 {
        case 0:
            return .headers(
                Self.id, generator.next() % 2 == 0 ? Self.call : .response(metadata: Metadata()),
                endStream: end)
        case 1: return .data(Self.id, .message(bytes, endStream: end))
        case 2: return .data(Self.id, DataFrame(messageLength: UInt32(generator.next() % 20), bytes: bytes))
        case 3: return .data(Self.id, DataFrame(bytes: bytes, endMessage: generator.next() % 2 == 0, endStream: end))
        case 4: return .windowUpdate(Self.id, increment: UInt32(1 + generator.next() % 0x7FFF_FFFF))
        case 5: return .trailers(Self.id, CallTrailers(status: .ok))
        case 6: return .reset(Self.id, .cancelled)
        case 7:
            return .data(Self.id, generator.next() % 2 == 0 ? .endOfStream : .packed([bytes, bytes], endStream: end))
        default: return .windowUpdate(Self.id, increment: UInt32(1 + generator.next() % 100))
        }
    }
}
