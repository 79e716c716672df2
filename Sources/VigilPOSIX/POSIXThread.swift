// A plain kernel thread for work that must never run on Swift's cooperative pool: an event loop sits in
// `epoll_wait` for its whole life, and the pool has only one thread per core. Foundation's `Thread` is not allowed
// in the inner layers, so this is the one place that calls `pthread_create`.
import Glibc

/// The identity of a thread, for "am I on the loop thread?" checks. Compares `pthread_t` values, which glibc
/// defines as an integer that stays unique while the thread lives.
public struct ThreadID: Hashable, Sendable {
    public let rawValue: UInt

    public init(rawValue: UInt) {
        self.rawValue = rawValue
    }

    /// The calling thread.
    public static var current: ThreadID { ThreadID(rawValue: UInt(pthread_self())) }
}

/// A joinable thread running one closure.
///
/// `Sendable`: the handle is immutable apart from the atomic "joined" flag, so any thread may join it (once).
public final class POSIXThread: Sendable {
    private let handle: pthread_t

    /// Starts `body` on a new thread named `name` (the kernel keeps the first 15 bytes; `top -H` and `perf` show it).
    public init(name: String, _ body: @escaping @Sendable () -> Void) throws(Errno) {
        let box = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(
            &handle, nil,
            { argument in
                guard let argument else { return nil }
                let start = Unmanaged<Start>.fromOpaque(argument).takeRetainedValue()
                POSIXThread.nameCurrentThread(start.name)
                start.body()
                return nil
            }, box)
        guard result == 0 else {
            Unmanaged<Start>.fromOpaque(box).release()
            throw Errno(rawValue: result)
        }
        self.handle = handle
    }

    /// The thread's identity, equal to `ThreadID.current` when asked on that thread.
    public var id: ThreadID { ThreadID(rawValue: UInt(self.handle)) }

    /// Waits for the thread to finish. Call once, never from the thread itself (that would deadlock).
    public func join() {
        precondition(ThreadID.current != self.id, "a thread cannot join itself")
        let result = pthread_join(self.handle, nil)
        assert(result == 0, "pthread_join failed: \(Errno(rawValue: result))")
    }

    /// The number of processors online, the default size of an event-loop group. At least 1.
    public static var activeProcessorCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    private final class Start {
        let name: String
        let body: @Sendable () -> Void

        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// `pthread_setname_np` is declared only under _GNU_SOURCE, so it is looked up like `LinuxCalls` does; a
    /// missing symbol only costs the name.
    private typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
    private static let setName: SetName? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "pthread_setname_np") else {
            return nil
        }
        return unsafeBitCast(symbol, to: SetName.self)
    }()

    /// Lets another runnable thread have this core now (`sched_yield`); returns at once when none is waiting.
    public static func yieldCore() {
        _ = sched_yield()
    }

    /// Names the calling thread (first 15 bytes), for threads another library started.
    public static func nameCurrentThread(_ name: String) {
        guard let setName = Self.setName else { return }
        let truncated = String(decoding: name.utf8.prefix(15), as: UTF8.self)
        _ = truncated.withCString { setName(pthread_self(), $0) }
    }
}
