// A started program the test can signal and wait for, without Foundation's `Process`: `Process.run()` reads
// `/proc/self/fd` through a 256-byte copy of each directory entry and crashes when an entry ends a page
// (swift-corelibs-foundation PR #5472). That took a whole local test run down in a test that started vigild, so
// every test that keeps a child running uses this instead. It mirrors the part of `Process` the tests use, so a
// test reads the same either way: set `executableURL`, `arguments`, `environment` and the standard streams, `run()`,
// then `isRunning`, `processIdentifier`, `terminate()`, `waitUntilExit()` and `terminationStatus`.
//
// Reaping: a thread per child waits for it (a blocking `waitpid`) and records its status the moment it exits, as
// Foundation's SIGCHLD handler does. A child left a zombie until a test happened to ask made Swift Testing's own
// child monitor (exit tests) spin at 100 % CPU on it, and the suite never finished. Everything else reads the
// recorded status, so no two threads race to reap the child.
public import Foundation
import Glibc
import Synchronization

public final class ChildProcess: Sendable {
    public enum TerminationReason: Sendable { case exit, uncaughtSignal }

    private struct Setup {
        var executableURL: URL?
        var arguments: [String] = []
        var environment: [String: String]?
        var standardInput: Int32?
        var standardOutput: Int32?
        var standardError: Int32?
        /// The pipes and handles given, kept open until `run()` has handed them to the child.
        var pipes: [Pipe] = []
        var handles: [FileHandle] = []
    }

    private struct Status {
        var pid: pid_t = 0
        var started = false
        /// The raw `waitpid` status once the child was reaped.
        var waitStatus: Int32?
    }

    // Setup is written before `run()` by the creating thread only; `Mutex` keeps the class Sendable.
    private let setup = Mutex(Setup())
    private let status = Mutex(Status())

    public init() {}

    public var executableURL: URL? {
        get { self.setup.withLock { $0.executableURL } }
        set { self.setup.withLock { $0.executableURL = newValue } }
    }

    public var arguments: [String]? {
        get { self.setup.withLock { $0.arguments } }
        set { self.setup.withLock { $0.arguments = newValue ?? [] } }
    }

    /// nil (the default) passes this process's environment on.
    public var environment: [String: String]? {
        get { self.setup.withLock { $0.environment } }
        set { self.setup.withLock { $0.environment = newValue } }
    }

    /// A `Pipe` (the child gets its reading end) or a `FileHandle`; nil inherits this process's.
    public var standardInput: Any? {
        get { nil }
        set { self.attach(newValue, reading: true, as: \.standardInput) }
    }

    /// A `Pipe` (the child gets its writing end) or a `FileHandle`; nil inherits this process's.
    public var standardOutput: Any? {
        get { nil }
        set { self.attach(newValue, reading: false, as: \.standardOutput) }
    }

    /// As `standardOutput`.
    public var standardError: Any? {
        get { nil }
        set { self.attach(newValue, reading: false, as: \.standardError) }
    }

    private func attach(_ value: Any?, reading: Bool, as stream: any WritableKeyPath<Setup, Int32?> & Sendable) {
        let (descriptor, pipe, handle) = Self.descriptor(value, reading: reading)
        self.setup.withLock { setup in
            setup[keyPath: stream] = descriptor
            setup.pipes += pipe.map { [$0] } ?? []
            setup.handles += handle.map { [$0] } ?? []
        }
    }

    private static func descriptor(_ value: Any?, reading: Bool) -> (Int32?, Pipe?, FileHandle?) {
        switch value {
        case let pipe as Pipe:
            let end = reading ? pipe.fileHandleForReading : pipe.fileHandleForWriting
            return (end.fileDescriptor, pipe, nil)
        case let handle as FileHandle where handle.fileDescriptor >= 0:
            return (handle.fileDescriptor, nil, handle)
        case let handle as FileHandle:
            // `FileHandle.nullDevice` has no descriptor (-1; Process special-cases it): the child gets /dev/null.
            let null = FileHandle(forUpdatingAtPath: "/dev/null")
            return (null?.fileDescriptor, nil, null ?? handle)
        default:
            return (nil, nil, nil)
        }
    }

    /// Starts the program. The ends of pipes handed to the child are closed here afterwards, so a reader of the
    /// other end sees end-of-file when the child exits.
    public func run() throws {
        let setup = self.setup.withLock { $0 }
        guard let executable = setup.executableURL?.path else {
            throw Spawn.Failure(description: "ChildProcess: no executableURL")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (descriptor, target) in [(setup.standardInput, 0), (setup.standardOutput, 1), (setup.standardError, 2)] {
            if let descriptor { posix_spawn_file_actions_adddup2(&actions, descriptor, Int32(target)) }
        }
        // The child gets 0, 1 and 2 only, as with Process: descriptors this process opened without close-on-exec
        // (another test's pipe, say) would otherwise stay open in a long-running vigild, holding that pipe's
        // reader short of end-of-file and counting against the child's own descriptor limit. (glibc ignores a
        // close action on a descriptor another thread closed meanwhile.)
        let inherited = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for name in inherited {
            guard let descriptor = Int32(name), descriptor > 2 else { continue }
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + setup.arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let environment: [UnsafeMutablePointer<CChar>?]? = setup.environment.map { variables in
            variables.map { (key, value) in strdup("\(key)=\(value)") } + [nil]
        }
        defer { for pointer in environment ?? [] { free(pointer) } }
        // Signals as a fresh process has them, as Process does: this process may block some (a test of signal
        // handling, say), and a blocked SIGTERM would be blocked in the child too, so `terminate` would do nothing.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned: Int32 =
            if let environment {
                posix_spawn(&pid, executable, &actions, &attributes, argv, environment)
            } else {
                posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
            }
        guard spawned == 0 else { throw Spawn.Failure(description: "posix_spawn \(executable): errno \(spawned)") }
        self.status.withLock {
            $0.pid = pid
            $0.started = true
        }
        let child = pid
        let reaper = Thread { [self] in
            var raw: Int32 = 0
            var reaped = waitpid(child, &raw, 0)
            while reaped < 0 && errno == EINTR { reaped = waitpid(child, &raw, 0) }
            // ECHILD (someone else reaped it) still means it is gone; its status is then unknown, reported as 0.
            self.status.withLock { $0.waitStatus = reaped == child ? raw : 0 }
        }
        reaper.name = "child-reaper"
        reaper.start()
        for pipe in setup.pipes {
            // The child has its own copy now: this process keeps only the end it reads or writes.
            if setup.standardInput == pipe.fileHandleForReading.fileDescriptor {
                try? pipe.fileHandleForReading.close()
            } else {
                try? pipe.fileHandleForWriting.close()
            }
        }
    }

    public var processIdentifier: Int32 { self.status.withLock { $0.pid } }

    public var isRunning: Bool {
        self.status.withLock { $0.started && $0.waitStatus == nil }
    }

    /// Sends SIGTERM.
    public func terminate() { self.signal(SIGTERM) }

    /// Sends SIGINT.
    public func interrupt() { self.signal(SIGINT) }

    private func signal(_ number: Int32) {
        let pid = self.status.withLock { $0.started && $0.waitStatus == nil ? $0.pid : 0 }
        if pid > 0 { _ = kill(pid, number) }
    }

    /// Blocks until the child has exited (polling every 5 ms).
    public func waitUntilExit() {
        while self.isRunning { usleep(5_000) }
    }

    /// The exit code, or the number of the signal that ended the child (as `Process`); 0 before it ended.
    public var terminationStatus: Int32 {
        guard let raw = self.status.withLock({ $0.waitStatus }) else { return 0 }
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : signal
    }

    public var terminationReason: TerminationReason {
        guard let raw = self.status.withLock({ $0.waitStatus }) else { return .exit }
        return raw & 0x7f == 0 ? .exit : .uncaughtSignal
    }
}
