// Random legal and illegal frame sequences against a server-side connection machine, checking after every step
// that windows stay within bounds, DATA beyond a window is refused, ids rise, and every stream ends exactly once.
// Each sequence has its own seed, printed on failure, so a failure replays exactly.

import Testing
import VigilRPC

/// SplitMix64: tiny, seedable, good enough to pick test steps.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Connection state machine properties")
struct ConnectionStateMachinePropertyTests {
    /// What the test believes, to compare with what the machine reports.
    struct Model {
        var opened: [StreamID] = []
        var ended: Set<StreamID> = []
        var credit: [StreamID: Int] = [:]
        var peerNextID: UInt32 = 1
    }

    @Test("random frame sequences keep the invariants", arguments: 0..<40)
    func randomSequences(batch: Int) {
        for offset in 0..<10 {
            let seed = UInt64(batch * 10 + offset) &* 0x1234_5678_9ABC + 17
            if let failure = Self.run(seed: seed, steps: 300) {
                Issue.record("seed \(seed): \(failure)")
                return
            }
        }
    }

    static func run(seed: UInt64, steps: Int) -> String? {
        var random = SeededRandom(seed: seed)
        var settings = ConnectionSettings()
        settings.maxConcurrentStreams = Int.random(in: 1...6, using: &random)
        settings.initialStreamWindow = Int.random(in: 1_000...70_000, using: &random)
        settings.initialConnectionWindow = Int.random(in: 1_000...200_000, using: &random)
        var machine = ConnectionStateMachine(role: .server, localSettings: settings)
        var model = Model()
        _ = machine.start()
        _ = machine.receive(.settings(.defaults))
        if Bool.random(using: &random) { _ = machine.receive(.settingsAck) }

        for step in 0..<steps {
            let before = machine
            let (description, action) = Self.step(&machine, &model, &random)
            if let problem = Self.check(before, machine, action, &model, description) {
                return "step \(step) (\(description)): \(problem)"
            }
            if machine.isClosed { return nil }
        }
        return nil
    }

    /// One random input: a peer frame (legal or not), a decoder error, or a local action.
    static func step(
        _ machine: inout ConnectionStateMachine, _ model: inout Model, _ random: inout SeededRandom
    ) -> (String, ConnectionAction) {
        let known =
            model.opened.isEmpty ? StreamID(1) : model.opened.randomElement(using: &random) ?? StreamID(1)
        let open = machine.openStreamIDs
        let call = CallHeaders(methodPath: "/t.T/M")
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<20:
            let id = StreamID(model.peerNextID)
            model.peerNextID += 2 * UInt32.random(in: 1...3, using: &random)
            return (
                "HEADERS \(id.rawValue)",
                machine.receive(.headers(id, call, endStream: random.next() % 4 == 0))
            )
        case 20..<22:
            return (
                "HEADERS reused \(known.rawValue)", machine.receive(.headers(known, call, endStream: false))
            )
        case 22..<50:
            let size = Int.random(in: 0...(random.next() % 5 == 0 ? 80_000 : 3_000), using: &random)
            let frame = DataFrame.message(
                Array(repeating: 7, count: size), endStream: random.next() % 8 == 0)
            return ("DATA \(size) on \(known.rawValue)", machine.receive(.data(known, frame)))
        case 50..<53:
            return (
                "DATA on unopened", machine.receive(.data(StreamID(model.peerNextID + 40), .message([1])))
            )
        case 53..<60:
            let id = random.next() % 3 == 0 ? StreamID.connection : known
            let increment =
                random.next() % 10 == 0
                ? UInt32(ConnectionSettings.maxWindow) : UInt32.random(in: 1...9_000, using: &random)
            return (
                "WINDOW_UPDATE \(increment) on \(id.rawValue)",
                machine.receive(.windowUpdate(id, increment: increment))
            )
        case 60..<63:
            return ("RST \(known.rawValue)", machine.receive(.reset(known, .cancelled)))
        case 63..<65:
            return ("PING", machine.receive(.ping(random.next())))
        case 65:
            return ("SETTINGS again", machine.receive(.settings(.defaults)))
        case 66:
            return ("SETTINGS ACK", machine.receive(.settingsAck))
        case 67:
            return ("GOAWAY local", machine.goAway())
        case 68..<70:
            let error = FrameError(
                .messageTooLarge, .endStream(known, .resourceExhausted), "big", flowControlledBytes: 50)
            return ("decoder stream error on \(known.rawValue)", machine.receiveError(error))
        case 70..<82:
            guard let id = model.credit.keys.randomElement(using: &random), let owed = model.credit[id]
            else {
                return ("nothing to consume", .none)
            }
            model.credit[id] = nil
            return (
                "consume \(owed) on \(id.rawValue)",
                ConnectionAction(frames: machine.consumed(owed, on: id))
            )
        case 82..<92:
            guard let id = open.randomElement(using: &random) else {
                return ("no stream to send on", .none)
            }
            let credit = machine.sendableBytes(on: id)
            guard credit >= 5 else { return ("no credit on \(id.rawValue)", .none) }
            let size = Int.random(in: 0...(credit - 4), using: &random)
            do {
                let frame = try machine.sendData(.message(Array(repeating: 1, count: size)), on: id)
                return ("send \(size) on \(id.rawValue)", ConnectionAction(frames: [frame]))
            } catch {
                return (
                    "SEND REFUSED within credit \(credit): \(error)", ConnectionAction(events: [.pong(0xBAD)])
                )
            }
        case 92..<96:
            guard let id = open.randomElement(using: &random) else { return ("no stream to end", .none) }
            model.ended.insert(id)
            model.credit[id] = nil
            return (
                "trailers on \(id.rawValue)",
                ConnectionAction(
                    frames: [machine.sendTrailers(CallTrailers(status: .ok), on: id)].compactMap { $0 })
            )
        default:
            guard let id = open.randomElement(using: &random) else {
                return ("no stream to reset", .none)
            }
            model.ended.insert(id)
            model.credit[id] = nil
            return (
                "reset \(id.rawValue)",
                ConnectionAction(frames: [machine.resetStream(id, code: .cancelled)].compactMap { $0 })
            )
        }
    }

    /// The invariants, against the machine before and after the step.
    static func check(
        _ before: ConnectionStateMachine, _ after: ConnectionStateMachine, _ action: ConnectionAction,
        _ model: inout Model, _ description: String
    ) -> String? {
        if action.events.contains(.pong(0xBAD)) { return description }
        for event in action.events {
            switch event {
            case .streamOpened(let id, _, _):
                if let last = model.opened.last, id <= last {
                    return "\(id) opened after \(last): ids must rise"
                }
                model.opened.append(id)
            case .streamClosed(let id, _):
                guard model.opened.contains(id) else { return "\(id) closed but never opened" }
                guard model.ended.insert(id).inserted else { return "\(id) ended twice" }
                model.credit[id] = nil
            case .message(let id, _, let credit, _):
                model.credit[id, default: 0] += credit
            default:
                break
            }
        }
        // Windows: what the peer may send goes negative only by our SETTINGS shrinking it below the default it was
        // granted under (the peer's view shrinks alike); nothing is credited past 2^31 - 1.
        let defaults = ConnectionSettings.defaults
        let connectionFloor = min(
            0, after.localSettings.initialConnectionWindow - defaults.initialConnectionWindow)
        let streamFloor = min(0, after.localSettings.initialStreamWindow - defaults.initialStreamWindow)
        guard after.connectionReceiveWindow >= connectionFloor,
            after.connectionReceiveWindow <= ConnectionSettings.maxWindow,
            after.connectionSendWindow <= ConnectionSettings.maxWindow
        else {
            return
                "connection windows out of bounds: \(after.connectionReceiveWindow), \(after.connectionSendWindow)"
        }
        for id in after.openStreamIDs {
            guard let windows = after.windows(of: id) else { return "\(id) has no windows" }
            guard windows.receive >= streamFloor, windows.receive <= ConnectionSettings.maxWindow,
                windows.send <= ConnectionSettings.maxWindow
            else { return "\(id) windows out of bounds: \(windows)" }
        }
        // Every stream ends exactly once: open ones are exactly those opened and not ended.
        let expectedOpen = model.opened.filter { !model.ended.contains($0) }
        guard after.openStreamIDs == expectedOpen else {
            return
                "open streams \(after.openStreamIDs.map(\.rawValue)), expected \(expectedOpen.map(\.rawValue))"
        }
        // DATA beyond a window granted must have closed the connection.
        if description.hasPrefix("DATA "), !before.isClosed, !after.isClosed {
            let parts = description.split(separator: " ")
            if let size = Int(parts[1]), let raw = UInt32(parts[3]) {
                let cost = size + 4
                let streamWindow = before.windows(of: StreamID(raw))?.receive ?? Int.max
                if cost > before.connectionReceiveWindow || cost > streamWindow {
                    let windows = "(\(before.connectionReceiveWindow), \(streamWindow))"
                    return "DATA of cost \(cost) beyond windows \(windows) accepted"
                }
            }
        }
        if after.isClosed && !after.openStreamIDs.isEmpty {
            return "closed connection with open streams"
        }
        return nil
    }
}
