// The per-connection rules, one test each: SETTINGS ordering, rising ids, the concurrency limit, both connection
// windows, batched credit, GOAWAY draining, PING, and that a connection error ends every stream.

import Testing
import VigilRPC

@Suite("Connection state machine")
struct ConnectionStateMachineTests {
    static let call = CallHeaders(methodPath: "/vigil.v1.Vigil/Echo")

    /// A server past the handshake: its SETTINGS sent and acknowledged, the client's received.
    static func server(_ settings: ConnectionSettings = .defaults) -> ConnectionStateMachine {
        var machine = ConnectionStateMachine(role: .server, localSettings: settings)
        _ = machine.start()
        _ = machine.receive(.settings(.defaults))
        _ = machine.receive(.settingsAck)
        return machine
    }

    static func client(peer: ConnectionSettings = .defaults) -> ConnectionStateMachine {
        var machine = ConnectionStateMachine(role: .client)
        _ = machine.start()
        _ = machine.receive(.settings(peer))
        _ = machine.receive(.settingsAck)
        return machine
    }

    static func open(_ machine: inout ConnectionStateMachine, _ raw: UInt32) -> ConnectionAction {
        machine.receive(.headers(StreamID(raw), Self.call, endStream: false))
    }

    static func closedCode(_ action: ConnectionAction) -> GoAwayCode? {
        for case .connectionClosed(let code, _) in action.events { return code }
        return nil
    }

    @Test(
        "the first frame must be SETTINGS, answered with an ACK; a second SETTINGS is a protocol error")
    func settingsOrdering() {
        var machine = ConnectionStateMachine(role: .server)
        #expect(Self.closedCode(machine.receive(.ping(1))) == .protocolError)

        machine = ConnectionStateMachine(role: .server)
        #expect(machine.start() == [.settings(.defaults)])
        let action = machine.receive(.settings(.defaults))
        #expect(action.frames == [.settingsAck])
        #expect(Self.closedCode(machine.receive(.settings(.defaults))) == .protocolError)
    }

    @Test("a SETTINGS ACK for settings never sent is a protocol error")
    func unexpectedAck() {
        var machine = ConnectionStateMachine(role: .server)
        _ = machine.receive(.settings(.defaults))
        #expect(Self.closedCode(machine.receive(.settingsAck)) == .protocolError)
    }

    @Test("stream ids must rise; frames on never-opened ids are protocol errors")
    func risingIDs() {
        var machine = Self.server()
        #expect(
            Self.open(&machine, 5).events == [.streamOpened(StreamID(5), Self.call, endStream: false)])
        #expect(Self.closedCode(Self.open(&machine, 3)) == .protocolError)

        machine = Self.server()
        _ = Self.open(&machine, 1)
        #expect(Self.closedCode(machine.receive(.data(StreamID(7), .message([1])))) == .protocolError)
    }

    @Test(
        "HEADERS beyond max concurrent streams is refused with UNAVAILABLE; its late DATA is ignored")
    func concurrencyLimit() {
        var settings = ConnectionSettings()
        settings.maxConcurrentStreams = 2
        var machine = Self.server(settings)
        _ = Self.open(&machine, 1)
        _ = Self.open(&machine, 3)
        let refused = Self.open(&machine, 5)
        #expect(refused.events.isEmpty)
        guard case .trailers(StreamID(5), let trailers)? = refused.frames.first else {
            Issue.record("expected TRAILERS, got \(refused.frames)")
            return
        }
        #expect(trailers.status.code == .unavailable)
        #expect(trailers.status.message == "too many concurrent streams")
        #expect(machine.receive(.data(StreamID(5), .message([1]))).events.isEmpty)
        #expect(machine.openStreamIDs == [StreamID(1), StreamID(3)])
    }

    @Test("DATA beyond the connection window closes the connection with FLOW_CONTROL_ERROR")
    func connectionReceiveWindow() {
        var settings = ConnectionSettings()
        settings.initialConnectionWindow = 100
        var machine = Self.server(settings)
        #expect(machine.connectionReceiveWindow == 100)
        _ = Self.open(&machine, 1)
        _ = Self.open(&machine, 3)
        _ = machine.receive(.data(StreamID(1), .message(Array(repeating: 0, count: 60))))
        #expect(machine.connectionReceiveWindow == 36)
        let action = machine.receive(.data(StreamID(3), .message(Array(repeating: 0, count: 60))))
        #expect(Self.closedCode(action) == .flowControlError)
    }

    @Test("credit is returned in batches, once half a window is consumed")
    func batchedCredit() {
        var machine = Self.server()
        _ = Self.open(&machine, 1)
        _ = machine.receive(.data(StreamID(1), .message(Array(repeating: 0, count: 20_000))))
        #expect(machine.consumed(10_004, on: StreamID(1)).isEmpty)
        let frames = machine.consumed(30_000, on: StreamID(1))
        #expect(frames == [.windowUpdate(StreamID(1), increment: 40_004)])
        #expect(machine.windows(of: StreamID(1))?.receive == 65_536 - 20_004 + 40_004)
    }

    @Test("a message over half the window is credited as it arrives: batched credit cannot starve it")
    func halfWindowMessageIsNotHeld() {
        var machine = Self.server()
        _ = Self.open(&machine, 1)
        // 30,004 bytes read and owed, under the 32,768 that sends an update: the sender has 35,532 left.
        _ = machine.receive(.data(StreamID(1), .message(Array(repeating: 0, count: 30_000))))
        #expect(machine.consumed(30_004, on: StreamID(1)).isEmpty)
        // A 36,004-byte message cannot fit that; had its first frame waited for the whole message to be read, no
        // credit would ever come back. Credited on arrival, it brings the owed credit over the threshold.
        let firstFrame = DataFrame(messageLength: 36_000, bytes: Array(repeating: 0, count: 16_380))
        let action = machine.receive(.data(StreamID(1), firstFrame))
        #expect(action.frames.contains(.windowUpdate(StreamID(1), increment: 46_388)))
    }

    @Test("a PACKED frame's messages are one event, charged to both windows and credited as each is read")
    func packedCredit() {
        var machine = Self.server()
        _ = Self.open(&machine, 1)
        let messages = Array(repeating: Array(repeating: UInt8(1), count: 996), count: 40)
        let action = machine.receive(.data(StreamID(1), .packed(messages)))
        #expect(action.events == [.messages(StreamID(1), messages, endStream: false)])
        #expect(machine.windows(of: StreamID(1))?.receive == 65_536 - 40_000)
        #expect(machine.connectionReceiveWindow == ConnectionSettings.defaults.initialConnectionWindow - 40_000)
        for _ in 0..<32 { #expect(machine.consumed(1_000, on: StreamID(1)).isEmpty) }
        let frames = machine.consumed(1_000, on: StreamID(1))
        #expect(frames.contains(.windowUpdate(StreamID(1), increment: 33_000)))
    }

    @Test("the connection send window limits every stream and reopens with WINDOW_UPDATE on stream 0")
    func connectionSendWindow() throws {
        var peer = ConnectionSettings()
        peer.initialConnectionWindow = 10
        var machine = Self.client(peer: peer)
        let (id, _) = try machine.openStream(Self.call, endStream: false)
        #expect(machine.sendableBytes(on: id) == 10)
        _ = try machine.sendData(DataFrame(messageLength: 100, bytes: [1, 2, 3, 4, 5, 6]), on: id)
        #expect(machine.sendableBytes(on: id) == 0)
        #expect(throws: FrameError.self) { try machine.sendData(DataFrame(bytes: [7]), on: id) }
        #expect(machine.receive(.windowUpdate(.connection, increment: 50)).events == [.writable(nil)])
        #expect(machine.sendableBytes(on: id) == 50)
    }

    @Test("after GOAWAY the server refuses new streams and lets existing ones finish")
    func goAwayDraining() {
        var machine = Self.server()
        _ = Self.open(&machine, 1)
        let action = machine.goAway()
        #expect(action.frames == [.goAway(GoAway(lastStreamID: StreamID(1), code: .noError))])
        let late = Self.open(&machine, 3)
        #expect(late.events.isEmpty)
        if case .trailers(_, let trailers)? = late.frames.first {
            #expect(trailers.status.code == .unavailable)
        } else {
            Issue.record("expected TRAILERS UNAVAILABLE, got \(late.frames)")
        }
        let message = machine.receive(.data(StreamID(1), .message([1], endStream: true)))
        #expect(message.events == [.message(StreamID(1), [1], credit: 5, endStream: true)])
        #expect(!machine.isDrained)
        #expect(machine.sendTrailers(CallTrailers(status: .ok), on: StreamID(1)) != nil)
        #expect(machine.isDrained)
    }

    @Test(
        "a client receiving GOAWAY ends the streams above its last id with UNAVAILABLE and opens no more"
    )
    func clientGoAway() throws {
        var machine = Self.client()
        _ = try machine.openStream(Self.call, endStream: false)
        _ = try machine.openStream(Self.call, endStream: false)
        let action = machine.receive(.goAway(GoAway(lastStreamID: StreamID(1), code: .noError)))
        #expect(
            action.events.first
                == .streamClosed(
                    StreamID(3), .failed(.unavailable, "not processed: the server is going away")))
        #expect(machine.openStreamIDs == [StreamID(1)])
        #expect(throws: RPCError.self) { try machine.openStream(Self.call, endStream: false) }
    }

    @Test("PING is answered with a PONG carrying the same bytes")
    func pingPong() {
        var machine = Self.server()
        #expect(machine.receive(.ping(0xDEAD_BEEF)).frames == [.pong(0xDEAD_BEEF)])
        #expect(machine.receive(.pong(7)).events == [.pong(7)])
    }

    @Test("a client opens odd rising ids and respects the peer's concurrency limit")
    func clientOpens() throws {
        var peer = ConnectionSettings()
        peer.maxConcurrentStreams = 2
        var machine = Self.client(peer: peer)
        #expect(try machine.openStream(Self.call, endStream: false).0 == StreamID(1))
        #expect(try machine.openStream(Self.call, endStream: true).0 == StreamID(3))
        #expect(!machine.canOpenStream)
        #expect(throws: RPCError.self) { try machine.openStream(Self.call, endStream: false) }
        #expect(machine.resetStream(StreamID(1), code: .cancelled) == .reset(StreamID(1), .cancelled))
        #expect(try machine.openStream(Self.call, endStream: false).0 == StreamID(5))
    }

    @Test("an oversized message from the decoder ends its stream and credits the connection")
    func decoderStreamError() {
        var machine = Self.server()
        _ = Self.open(&machine, 1)
        let error = FrameError(
            .messageTooLarge, .endStream(StreamID(1), .resourceExhausted), "too big",
            flowControlledBytes: 1000)
        let action = machine.receiveError(error)
        #expect(action.events == [.streamClosed(StreamID(1), .failed(.resourceExhausted, "too big"))])
        #expect(machine.connectionReceiveWindow == 1_048_576 - 1000)
        #expect(machine.openStreamIDs.isEmpty)
    }

    @Test("a connection error ends every open stream once, then the connection")
    func connectionErrorEndsStreams() {
        var machine = Self.server()
        _ = Self.open(&machine, 1)
        _ = Self.open(&machine, 3)
        let action = machine.receive(
            .windowUpdate(.connection, increment: UInt32(ConnectionSettings.maxWindow)))
        #expect(action.events.count == 3)
        #expect(Self.closedCode(action) == .flowControlError)
        #expect(machine.openStreamIDs.isEmpty)
        #expect(machine.receive(.ping(1)).isEmpty)
    }
}
