// The readiness multiplexer under every event loop: one epoll instance per loop thread, sockets and wake-up
// descriptors registered with a 64-bit tag the loop chooses (a connection slot, a generation counter), so an
// event leads straight to its owner without a lookup by descriptor number, which the kernel may reuse.
import Glibc

/// An epoll instance.
///
/// `Sendable`: the kernel allows `add`/`modify`/`remove` from any thread while another thread sits in `wait`, and
/// the descriptor never changes. It is closed in deinit only, so no thread holding a reference can see it closed.
public final class Epoll: Sendable {
    private let descriptor: Int32

    public init() throws(Errno) {
        self.descriptor = try Syscall.run { LinuxCalls.epollCreate1(LinuxCalls.epollCloseOnExec) }
    }

    deinit {
        try? Syscall.close(self.descriptor)
    }

    public var fileDescriptor: FileDescriptor { FileDescriptor(rawValue: self.descriptor) }

    /// Starts watching `descriptor` for `interest`; events for it carry `data`.
    public func add(_ descriptor: FileDescriptor, interest: Interest, data: UInt64) throws(Errno) {
        try self.control(LinuxCalls.epollControlAdd, descriptor, interest: interest, data: data)
    }

    /// Replaces the interest and data of a registered descriptor; also re-arms a `.oneShot` registration.
    public func modify(_ descriptor: FileDescriptor, interest: Interest, data: UInt64) throws(Errno) {
        try self.control(LinuxCalls.epollControlModify, descriptor, interest: interest, data: data)
    }

    /// Stops watching `descriptor`. Remove before closing: epoll tracks the open file, not the number, so a
    /// descriptor that was `dup`ed (or inherited by a child) would otherwise keep reporting events after close.
    public func remove(_ descriptor: FileDescriptor) throws(Errno) {
        // Kernels before 2.6.9 wanted a non-null event even for DEL; passing one costs nothing.
        try self.control(LinuxCalls.epollControlDelete, descriptor, interest: [], data: 0)
    }

    /// Waits until at least one registered descriptor is ready or `timeout` passes (nil waits forever, `.zero`
    /// only polls), and stores the ready ones in `events` (at most its capacity). Returns how many.
    ///
    /// The timeout is rounded *up* to whole milliseconds: rounding down would turn a 0.4 ms timer into a busy
    /// poll. A signal interrupting the wait restarts it with the full timeout (see `Syscall`); vigild receives its
    /// signals through `SignalSource`, whose handler rarely interrupts a loop thread.
    @discardableResult
    public func wait(into events: EventBuffer, timeout: Duration?) throws(Errno) -> Int {
        let milliseconds = timeout.map(Self.milliseconds(rounding:)) ?? -1
        let count = try Syscall.run {
            LinuxCalls.epollWait(self.descriptor, events.storage, Int32(clamping: events.capacity), milliseconds)
        }
        events.count = Int(count)
        return Int(count)
    }

    private func control(_ operation: Int32, _ target: FileDescriptor, interest: Interest, data: UInt64) throws(Errno) {
        try withUnsafeTemporaryAllocation(byteCount: 16, alignment: 8) { (event) throws(Errno) in
            event.storeBytes(of: interest.rawValue, toByteOffset: 0, as: UInt32.self)
            event.storeBytes(of: data, toByteOffset: LinuxCalls.epollEventDataOffset, as: UInt64.self)
            _ = try Syscall.run {
                LinuxCalls.epollControl(self.descriptor, operation, target.rawValue, event.baseAddress)
            }
        }
    }

    static func milliseconds(rounding duration: Duration) -> Int32 {
        if duration <= .zero {
            return 0
        }
        let (seconds, attoseconds) = duration.components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let (wholeMilliseconds, remainder) = attoseconds.quotientAndRemainder(dividingBy: perMillisecond)
        let total = seconds.multipliedReportingOverflow(by: 1000)
        guard !total.overflow else {
            return Int32.max
        }
        return Int32(clamping: total.partialValue + wholeMilliseconds + (remainder > 0 ? 1 : 0))
    }
}

extension Epoll {
    /// What to be told about a descriptor.
    public struct Interest: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32

        public init(rawValue: UInt32) {
            self.rawValue = rawValue
        }

        /// Data (or a pending connection, or end of stream) can be read.
        public static let readable = Interest(rawValue: LinuxCalls.epollIn)
        /// The send buffer has room (or a nonblocking connect finished). Register only while output is queued,
        /// or a level-triggered loop wakes on every turn.
        public static let writable = Interest(rawValue: LinuxCalls.epollOut)
        /// Report the peer's FIN as `.readHangup`, so a loop can tell "peer closed" without reading to EOF.
        public static let readHangup = Interest(rawValue: LinuxCalls.epollReadHangup)
        /// Report only transitions: the loop must then read or write until `.wouldBlock` each time.
        public static let edgeTriggered = Interest(rawValue: LinuxCalls.epollEdgeTriggered)
        /// Report once, then stay silent until `modify` re-arms the descriptor.
        public static let oneShot = Interest(rawValue: LinuxCalls.epollOneShot)
    }

    /// What happened to a descriptor.
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32

        public init(rawValue: UInt32) {
            self.rawValue = rawValue
        }

        public static let readable = Flags(rawValue: LinuxCalls.epollIn)
        public static let writable = Flags(rawValue: LinuxCalls.epollOut)
        /// The peer shut down its sending side (only reported with the `.readHangup` interest).
        public static let readHangup = Flags(rawValue: LinuxCalls.epollReadHangup)
        /// Both directions are closed (always reported, whatever the interest).
        public static let hangup = Flags(rawValue: LinuxCalls.epollHangup)
        /// An error is pending; read it with `Socket.pendingError()` (always reported).
        public static let error = Flags(rawValue: LinuxCalls.epollError)
    }

    /// One readiness report: the data given at registration and what is ready.
    public struct Event: Sendable, Hashable {
        public var data: UInt64
        public var flags: Flags

        public init(data: UInt64, flags: Flags) {
            self.data = data
            self.flags = flags
        }
    }

    /// Reusable storage for the events of one `wait`, allocated once per loop rather than per wake-up.
    ///
    /// Not `Sendable`: `wait` writes into it, so it belongs to the one thread that waits.
    public final class EventBuffer: RandomAccessCollection {
        /// `capacity` kernel `epoll_event`s, laid out as `LinuxCalls` describes.
        fileprivate let storage: UnsafeMutableRawPointer
        public let capacity: Int
        /// How many events the last `wait` stored.
        public fileprivate(set) var count: Int = 0

        public init(capacity: Int = 256) {
            precondition(capacity > 0, "an event buffer needs room for at least one event")
            self.capacity = capacity
            let byteCount = capacity * LinuxCalls.epollEventStride
            self.storage = .allocate(byteCount: byteCount, alignment: 8)
            self.storage.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        }

        deinit {
            self.storage.deallocate()
        }

        public var startIndex: Int { 0 }
        public var endIndex: Int { self.count }

        public subscript(position: Int) -> Event {
            precondition(position >= 0 && position < self.count, "event index out of range")
            let event = self.storage + position * LinuxCalls.epollEventStride
            return Event(
                data: event.loadUnaligned(fromByteOffset: LinuxCalls.epollEventDataOffset, as: UInt64.self),
                flags: Flags(rawValue: event.loadUnaligned(as: UInt32.self))
            )
        }
    }
}
