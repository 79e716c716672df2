import Dispatch
import Testing

@testable import VigilPOSIX

@Suite("Epoll and EventFD")
struct EpollTests {
    @Test("reports readable when bytes arrive and writable when the send buffer has room")
    func readableWritable() throws {
        let pair = try ConnectedPair()
        let epoll = try Epoll()
        let events = Epoll.EventBuffer(capacity: 8)
        try epoll.add(pair.server.fileDescriptor, interest: [.readable, .readHangup], data: 11)
        #expect(try epoll.wait(into: events, timeout: .zero) == 0)

        try sendAll([1], to: pair.client)
        #expect(try epoll.wait(into: events, timeout: testTimeout) == 1)
        #expect(Array(events) == [Epoll.Event(data: 11, flags: .readable)])

        try epoll.add(pair.client.fileDescriptor, interest: .writable, data: 22)
        #expect(try epoll.wait(into: events, timeout: testTimeout) == 2)
        #expect(Set(events) == [Epoll.Event(data: 11, flags: .readable), Epoll.Event(data: 22, flags: .writable)])

        try epoll.remove(pair.client.fileDescriptor)
        try epoll.modify(pair.server.fileDescriptor, interest: .writable, data: 33)
        #expect(try epoll.wait(into: events, timeout: testTimeout) == 1)
        #expect(events.first == Epoll.Event(data: 33, flags: .writable))
        #expect(throws: Errno.noSuchFile) { try epoll.remove(pair.client.fileDescriptor) }
    }

    @Test("reports the peer's close as read hangup, and hangup once both directions are closed")
    func hangup() throws {
        let pair = try ConnectedPair()
        let epoll = try Epoll()
        let events = Epoll.EventBuffer()
        try epoll.add(pair.server.fileDescriptor, interest: [.readable, .readHangup], data: 1)
        try pair.client.close()
        #expect(try epoll.wait(into: events, timeout: testTimeout) == 1)
        let flags = try #require(events.first?.flags)
        #expect(flags.contains([.readable, .readHangup]))
        #expect(!flags.contains(.hangup))

        try pair.server.shutdown(.write)
        #expect(try epoll.wait(into: events, timeout: testTimeout) == 1)
        #expect(events.first?.flags.contains(.hangup) == true)
    }

    @Test("a one-shot registration fires once until re-armed")
    func oneShot() throws {
        let pair = try ConnectedPair()
        let epoll = try Epoll()
        let events = Epoll.EventBuffer()
        try epoll.add(pair.server.fileDescriptor, interest: [.readable, .oneShot], data: 5)
        try sendAll([1], to: pair.client)
        #expect(try epoll.wait(into: events, timeout: testTimeout) == 1)
        #expect(try epoll.wait(into: events, timeout: .milliseconds(20)) == 0)
        try epoll.modify(pair.server.fileDescriptor, interest: [.readable, .oneShot], data: 6)
        #expect(try epoll.wait(into: events, timeout: testTimeout) == 1)
        #expect(events.first?.data == 6)
    }

    @Test("an edge-triggered registration reports new data only once")
    func edgeTriggered() throws {
        let pair = try ConnectedPair()
        let epoll = try Epoll()
        let events = Epoll.EventBuffer()
        try epoll.add(pair.server.fileDescriptor, interest: [.readable, .edgeTriggered], data: 5)
        try sendAll([1], to: pair.client)
        #expect(try epoll.wait(into: events, timeout: testTimeout) == 1)
        #expect(try epoll.wait(into: events, timeout: .milliseconds(20)) == 0)
        try sendAll([2], to: pair.client)
        #expect(try epoll.wait(into: events, timeout: testTimeout) == 1)
    }

    @Test("a wait with nothing ready returns no events after its timeout")
    func timeout() throws {
        let epoll = try Epoll()
        let events = Epoll.EventBuffer()
        let clock = ContinuousClock()
        let start = clock.now
        #expect(try epoll.wait(into: events, timeout: .milliseconds(50)) == 0)
        #expect(clock.now - start >= .milliseconds(45))
        #expect(events.isEmpty)
    }

    @Test("an eventfd signalled from another thread wakes a blocked wait")
    func eventFDWakes() throws {
        let epoll = try Epoll()
        let wakeup = try EventFD()
        try epoll.add(wakeup.fileDescriptor, interest: .readable, data: 99)
        let events = Epoll.EventBuffer()
        #expect(try epoll.wait(into: events, timeout: .zero) == 0)

        let clock = ContinuousClock()
        let start = clock.now
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(50)) { wakeup.signal() }
        #expect(try epoll.wait(into: events, timeout: testTimeout) == 1)
        #expect(clock.now - start < testTimeout)
        #expect(events.first == Epoll.Event(data: 99, flags: .readable))
        #expect(wakeup.drain() == 1)
        #expect(wakeup.drain() == 0)
        #expect(try epoll.wait(into: events, timeout: .zero) == 0)
    }

    @Test("an eventfd coalesces signals into one readable state and one drain")
    func eventFDCounts() throws {
        let wakeup = try EventFD()
        #expect(wakeup.drain() == 0)
        for _ in 0..<3 {
            wakeup.signal()
        }
        #expect(wakeup.drain() == 3)
    }

    @Test("the buffer holds at most its capacity per wait")
    func bufferCapacity() throws {
        let epoll = try Epoll()
        let wakeups = try (0..<5).map { _ in try EventFD() }
        for (index, wakeup) in wakeups.enumerated() {
            try epoll.add(wakeup.fileDescriptor, interest: .readable, data: UInt64(index))
            wakeup.signal()
        }
        let events = Epoll.EventBuffer(capacity: 2)
        #expect(try epoll.wait(into: events, timeout: testTimeout) == 2)
        #expect(events.count == 2)
    }

    @Test(
        "timeouts round up to whole milliseconds",
        arguments: [
            (Duration.zero, Int32(0)), (.seconds(-1), 0), (.nanoseconds(1), 1), (.milliseconds(5), 5),
            (.nanoseconds(5_000_001), 6), (.seconds(2), 2000), (.seconds(Int64.max), Int32.max),
        ]
    )
    func rounding(duration: Duration, milliseconds: Int32) {
        #expect(Epoll.milliseconds(rounding: duration) == milliseconds)
    }
}
