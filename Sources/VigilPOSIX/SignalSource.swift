// How vigild learns about SIGINT/SIGTERM: a sigaction handler records the signal in an atomic bit set and pokes an
// eventfd, which an event loop (or `wait`) reads like any other descriptor.
//
// Why not signalfd: it only works if the signals are blocked in *every* thread, and a Swift process may already
// have runtime, Dispatch or cooperative-pool threads by the time `main` gets to install it; one thread without the
// mask and SIGTERM takes its default action and kills the server mid-drain. A handler works whatever threads
// exist, and the only things it does (an atomic OR, a `write`) are async-signal-safe.
import Glibc
import Synchronization

/// A signal number with names for the ones a server handles.
public struct Signal: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    public static let interrupt = Signal(rawValue: SIGINT)
    public static let terminate = Signal(rawValue: SIGTERM)
    public static let hangup = Signal(rawValue: SIGHUP)
    public static let quit = Signal(rawValue: SIGQUIT)
    public static let user1 = Signal(rawValue: SIGUSR1)
    public static let user2 = Signal(rawValue: SIGUSR2)
    public static let brokenPipe = Signal(rawValue: SIGPIPE)

    public var description: String {
        switch self.rawValue {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        case SIGQUIT: "SIGQUIT"
        case SIGUSR1: "SIGUSR1"
        case SIGUSR2: "SIGUSR2"
        case SIGPIPE: "SIGPIPE"
        default: "signal \(self.rawValue)"
        }
    }

    /// Sets the disposition to "ignore". `Signal.brokenPipe.ignore()` at startup is a second line of defence
    /// behind MSG_NOSIGNAL, for writes made by code outside this module (e.g. a library writing to a pipe).
    public func ignore() throws(Errno) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = SIG_IGN
        sigemptyset(&action.sa_mask)
        _ = try Syscall.run { sigaction(self.rawValue, &action, nil) }
    }

    /// Restores the default disposition (for most signals: terminate the process).
    public func restoreDefault() throws(Errno) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = SIG_DFL
        sigemptyset(&action.sa_mask)
        _ = try Syscall.run { sigaction(self.rawValue, &action, nil) }
    }
}

/// The state the signal handler touches. Globals because a C signal handler cannot capture anything; all three are
/// atomics, which are lock-free and so safe to use inside a handler (a lock taken by the interrupted thread would
/// deadlock it).
private let pendingSignals = Atomic<UInt64>(0)
private let wakeDescriptor = Atomic<Int32>(-1)
private let sourceInstalled = Atomic<Bool>(false)

private func recordSignal(_ number: Int32) {
    let savedErrno = errno
    if number > 0 && number < 64 {
        pendingSignals.bitwiseOr(UInt64(1) << UInt64(number), ordering: .sequentiallyConsistent)
    }
    let descriptor = wakeDescriptor.load(ordering: .sequentiallyConsistent)
    if descriptor >= 0 {
        var one: UInt64 = 1
        _ = write(descriptor, &one, MemoryLayout<UInt64>.size)
    }
    errno = savedErrno
}

/// Delivers chosen signals as readiness on a descriptor instead of as asynchronous interruptions.
///
/// One per process (the handler state is global): a second live instance throws `.busy`. Signals of one kind that
/// arrive before they are read are coalesced, which is all "start draining" / "stop now" needs.
public final class SignalSource: Sendable {
    public let signals: Set<Signal>
    private let wakeup: EventFD

    /// Installs handlers for `signals` (with SA_RESTART, so other threads' slow calls are not interrupted).
    public init(_ signals: Set<Signal>) throws(Errno) {
        precondition(signals.allSatisfy { $0.rawValue > 0 && $0.rawValue < 64 }, "signal number out of range")
        guard
            sourceInstalled.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent)
                .exchanged
        else {
            throw Errno.busy
        }
        let wakeup: EventFD
        do {
            wakeup = try EventFD()
        } catch {
            sourceInstalled.store(false, ordering: .sequentiallyConsistent)
            throw error
        }
        self.signals = signals
        self.wakeup = wakeup
        // All three globals are touched before any handler exists, so a handler never runs a lazy global
        // initializer (which takes a lock).
        pendingSignals.store(0, ordering: .sequentiallyConsistent)
        wakeDescriptor.store(wakeup.fileDescriptor.rawValue, ordering: .sequentiallyConsistent)
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in recordSignal(number) }
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            // On failure deinit runs (every property is set by now) and uninstalls what was installed.
            _ = try Syscall.run { sigaction(signal.rawValue, &action, nil) }
        }
    }

    deinit {
        self.uninstall()
    }

    /// Restores the default dispositions first, so no handler can write to the eventfd after it is gone.
    private func uninstall() {
        for signal in self.signals {
            try? signal.restoreDefault()
        }
        wakeDescriptor.store(-1, ordering: .sequentiallyConsistent)
        sourceInstalled.store(false, ordering: .sequentiallyConsistent)
    }

    /// Readable once a signal has arrived; register with `Epoll` for `.readable`, then call `received()`.
    public var fileDescriptor: FileDescriptor { self.wakeup.fileDescriptor }

    /// The signals that arrived since the last call, in numeric order; empty if none.
    public func received() -> [Signal] {
        // Drain first: a signal landing between the two steps then leaves the descriptor readable for next time
        // rather than a bit set with no wake-up.
        self.wakeup.drain()
        let bits = pendingSignals.exchange(0, ordering: .sequentiallyConsistent)
        return (1..<64).filter { bits & (UInt64(1) << UInt64($0)) != 0 }.map { Signal(rawValue: Int32($0)) }
    }

    /// Blocks the calling thread until a signal arrives or `timeout` passes (nil: forever); for a main thread with
    /// nothing else to do. Returns what arrived (empty on timeout). Never call it on the cooperative pool.
    public func wait(timeout: Duration?) throws(Errno) -> [Signal] {
        var poller = pollfd(fd: self.wakeup.fileDescriptor.rawValue, events: Int16(POLLIN), revents: 0)
        let milliseconds = timeout.map(Epoll.milliseconds(rounding:)) ?? -1
        _ = try Syscall.run { poll(&poller, 1, milliseconds) }
        return self.received()
    }
}
