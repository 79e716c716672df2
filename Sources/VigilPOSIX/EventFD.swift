// The way another thread wakes an event loop blocked in `epoll_wait`: it adds to a kernel counter, the loop sees
// the descriptor readable, and one `drain()` resets it however many signals arrived, so a burst of enqueued work
// costs the loop one wake-up.
import Glibc

/// A nonblocking eventfd used as a counter (not in semaphore mode).
///
/// `Sendable`: `signal()` is a single `write`, safe from any thread. Closed in deinit only, so a thread that can
/// call `signal()` holds a reference and the descriptor cannot be closed (and its number reused) under it.
public final class EventFD: Sendable {
    private let descriptor: Int32

    public init() throws(Errno) {
        self.descriptor = try Syscall.run {
            LinuxCalls.eventFD(0, LinuxCalls.eventFDNonBlocking | LinuxCalls.eventFDCloseOnExec)
        }
    }

    deinit {
        try? Syscall.close(self.descriptor)
    }

    /// Register this with `Epoll` for `.readable`.
    public var fileDescriptor: FileDescriptor { FileDescriptor(rawValue: self.descriptor) }

    /// Makes the descriptor readable (adds 1 to the counter).
    ///
    /// Does not throw: the only possible failure is a counter already at its maximum (EAGAIN), which means the
    /// descriptor is readable anyway, and a waker has nothing useful to do with an error.
    public func signal() {
        var one: UInt64 = 1
        let result = try? Syscall.io { write(self.descriptor, &one, MemoryLayout<UInt64>.size) }
        assert(result != nil, "eventfd write failed on an open descriptor")
    }

    /// Reads and resets the counter: the number of `signal()` calls since the last drain, 0 if there were none.
    @discardableResult
    public func drain() -> UInt64 {
        var value: UInt64 = 0
        let result = try? Syscall.io { read(self.descriptor, &value, MemoryLayout<UInt64>.size) }
        assert(result != nil, "eventfd read failed on an open descriptor")
        return result?.value == nil ? 0 : value
    }
}
