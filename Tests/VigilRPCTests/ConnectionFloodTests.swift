// The flood budgets of the connection machine (FloodLimits): each kind of valid-but-useless frame ends the
// connection with GOAWAY ENHANCE_YOUR_CALM once its budget is spent, the budget refills with time, and frames a
// well-behaved peer sends (credit it owes, a half-close, a reset of a finished stream) never spend from it.

import Testing
import VigilRPC

@Suite("Connection flood limits")
struct ConnectionFloodTests {
    static let call = CallHeaders(methodPath: "/vigil.v1.Vigil/Echo")
    static let start = ContinuousClock.now
    static let small = FloodLimits(
        controlFrames: TokenBucket(burst: 10, perSecond: 5), streamResets: TokenBucket(burst: 10, perSecond: 5))

    static func server(
        _ limits: FloodLimits = Self.small, settings: ConnectionSettings = .defaults
    ) -> ConnectionStateMachine {
        var machine = ConnectionStateMachine(role: .server, localSettings: settings, floodLimits: limits)
        _ = machine.start()
        _ = machine.receive(.settings(.defaults), at: Self.start)
        _ = machine.receive(.settingsAck, at: Self.start)
        return machine
    }

    static func calmed(_ action: ConnectionAction) -> Bool {
        action.events.contains { event in
            if case .connectionClosed(.enhanceYourCalm, _) = event { return true }
            return false
        }
            && action.frames.contains { frame in
                if case .goAway(let goAway) = frame { return goAway.code == .enhanceYourCalm }
                return false
            }
    }

    /// Sends `count` frames made by `frame` at instant `at`; returns how many were accepted before the GOAWAY.
    static func flood(
        _ machine: inout ConnectionStateMachine, _ count: Int, at: ContinuousClock.Instant = Self.start,
        _ frame: (Int) -> Frame
    ) -> Int? {
        for index in 0..<count where Self.calmed(machine.receive(frame(index), at: at)) {
            return index
        }
        return nil
    }

    @Test("a PING flood gets GOAWAY ENHANCE_YOUR_CALM after the burst; each PING before it is answered")
    func pingFlood() {
        var machine = Self.server()
        for value in 0..<10 {
            #expect(machine.receive(.ping(UInt64(value)), at: Self.start).frames == [.pong(UInt64(value))])
        }
        #expect(Self.calmed(machine.receive(.ping(99), at: Self.start)))
        #expect(machine.isClosed)
        #expect(machine.receive(.ping(100), at: Self.start).isEmpty)
    }

    @Test("the budget refills with time: a steady keepalive never runs out")
    func refill() {
        var machine = Self.server()
        // 5 per second refill: 100 PINGs, one every 250 ms (4/s), for 25 s.
        for index in 0..<100 {
            let at = Self.start + .milliseconds(250 * index)
            #expect(!Self.calmed(machine.receive(.ping(UInt64(index)), at: at)))
        }
        #expect(!machine.isClosed)
        // After a quiet second the bucket holds 5 more; a burst past what it holds is caught.
        let later = Self.start + .seconds(60)
        #expect(Self.flood(&machine, 20, at: later) { .ping(UInt64($0)) } == 10)
    }

    @Test("empty DATA frames without END_STREAM are a flood; an empty END_STREAM half-close is not")
    func emptyData() {
        var machine = Self.server()
        _ = machine.receive(.headers(StreamID(1), Self.call, endStream: false), at: Self.start)
        #expect(Self.flood(&machine, 20) { _ in .data(StreamID(1), DataFrame()) } == 10)

        machine = Self.server()
        for raw in stride(from: UInt32(1), through: 61, by: 2) {
            _ = machine.receive(.headers(StreamID(raw), Self.call, endStream: false), at: Self.start)
            let action = machine.receive(.data(StreamID(raw), DataFrame(endStream: true)), at: Self.start)
            #expect(!Self.calmed(action))
            _ = machine.sendTrailers(CallTrailers(status: Status(code: .ok)), on: StreamID(raw))
        }
        #expect(!machine.isClosed)
    }

    @Test("WINDOW_UPDATEs beyond what was sent are a flood; credit owed back, or crossing a stream's end, is not")
    func windowUpdates() {
        var machine = Self.server()
        #expect(Self.flood(&machine, 20) { _ in .windowUpdate(.connection, increment: 1) } == 10)

        machine = Self.server()
        _ = machine.receive(.headers(StreamID(1), Self.call, endStream: false), at: Self.start)
        #expect(Self.flood(&machine, 20) { _ in .windowUpdate(StreamID(1), increment: 1) } == 10)

        // Updates crossing the end of their stream are normal and free.
        machine = Self.server()
        _ = machine.receive(.headers(StreamID(1), Self.call, endStream: true), at: Self.start)
        _ = machine.sendTrailers(CallTrailers(status: Status(code: .ok)), on: StreamID(1))
        #expect(Self.flood(&machine, 20) { _ in .windowUpdate(StreamID(1), increment: 100) } == nil)

        // A reader crediting what it consumed: 200 rounds of 1000 bytes sent and credited back.
        machine = Self.server()
        _ = machine.receive(.headers(StreamID(1), Self.call, endStream: true), at: Self.start)
        for _ in 0..<200 {
            let data = DataFrame(messageLength: 996, bytes: Array(repeating: 0, count: 996), endMessage: true)
            #expect(throws: Never.self) { try machine.sendData(data, on: StreamID(1)) }
            #expect(!Self.calmed(machine.receive(.windowUpdate(StreamID(1), increment: 1000), at: Self.start)))
            #expect(!Self.calmed(machine.receive(.windowUpdate(.connection, increment: 1000), at: Self.start)))
        }
        #expect(!machine.isClosed)
    }

    @Test("rapid reset: streams opened and reset while open get ENHANCE_YOUR_CALM after the burst")
    func rapidReset() {
        var machine = Self.server()
        var raw: UInt32 = 1
        var accepted = 0
        while accepted < 30 {
            _ = machine.receive(.headers(StreamID(raw), Self.call, endStream: false), at: Self.start)
            let action = machine.receive(.reset(StreamID(raw), .cancelled), at: Self.start)
            if Self.calmed(action) { break }
            // The application hears of every reset stream, so it can cancel the handler.
            #expect(action.events == [.streamClosed(StreamID(raw), .reset(.cancelled))])
            accepted += 1
            raw += 2
        }
        #expect(accepted == 10)
        #expect(machine.isClosed)
        #expect(machine.goAwaySent?.code == .enhanceYourCalm)
    }

    @Test("a reset after the stream finished costs nothing (a deadline racing the trailers)")
    func lateReset() {
        var machine = Self.server()
        for raw in stride(from: UInt32(1), through: 99, by: 2) {
            _ = machine.receive(.headers(StreamID(raw), Self.call, endStream: true), at: Self.start)
            _ = machine.sendTrailers(CallTrailers(status: Status(code: .ok)), on: StreamID(raw))
            #expect(!Self.calmed(machine.receive(.reset(StreamID(raw), .deadlineExceeded), at: Self.start)))
        }
        #expect(!machine.isClosed)
    }

    @Test("streams refused over max_concurrent_streams spend the reset budget")
    func refusedStreams() {
        var settings = ConnectionSettings.defaults
        settings.maxConcurrentStreams = 1
        var machine = Self.server(settings: settings)
        _ = machine.receive(.headers(StreamID(1), Self.call, endStream: false), at: Self.start)
        var raw: UInt32 = 3
        var refused = 0
        while refused < 30 {
            let action = machine.receive(.headers(StreamID(raw), Self.call, endStream: false), at: Self.start)
            if Self.calmed(action) { break }
            #expect(action.frames.count == 1)
            refused += 1
            raw += 2
        }
        #expect(refused == 10)
    }

    @Test("streams ended by a stream error (oversized headers) spend the reset budget")
    func refusedHeaders() {
        var machine = Self.server()
        var refused = 0
        for index in 0..<30 {
            let id = StreamID(UInt32(2 * index + 1))
            let error = FrameError(.headersTooLarge, .endStream(id, .resourceExhausted), "too large")
            if Self.calmed(machine.receiveError(error, at: Self.start)) { break }
            refused += 1
        }
        #expect(refused == 10)
    }

    @Test("the default budgets are nghttp2's for resets and leave room for ordinary traffic")
    func defaults() {
        #expect(FloodLimits.default.streamResets == TokenBucket(burst: 1000, perSecond: 33))
        var machine = Self.server(.default)
        #expect(Self.flood(&machine, 2000) { .ping(UInt64($0)) } == 1000)
    }
}
