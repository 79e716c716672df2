// The only Glibc-level code of vigil-crashtest: starting programs with posix_spawn (Foundation's `Process.run()`
// crashes now and then on this toolchain, see Tests/VigilTesting/Spawn.swift), signalling and reaping them, free
// space of a filesystem, and a filler file that takes that space. Everything else of the tool is plain Swift.
import Foundation
import Glibc

enum System {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts `executable` with `arguments` and the parent's environment plus `environment`; its stdout and stderr
    /// are appended to `outputPath` (a pipe nobody reads could fill up and stall a server). Returns the pid.
    static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], outputPath: String
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else {
            throw Failure(description: "posix_spawn \(executable): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// Runs a program to completion; returns its exit status (128 + signal when a signal ended it) and output.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let path = NSTemporaryDirectory() + "vigil-crashtest-run-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        defer { unlink(path) }
        let pid = try Self.spawn(executable, arguments, outputPath: path)
        let status = Self.wait(pid)
        let output = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return (status, output)
    }

    /// Sends `signal` to `pid`.
    static func signal(_ pid: pid_t, _ signal: Int32) {
        _ = kill(pid, signal)
    }

    static let killSignal = SIGKILL
    static let terminateSignal = SIGTERM

    /// Waits for `pid` to exit; its exit status, or 128 + the signal number.
    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return Self.decode(status)
    }

    /// The exit status of `pid` if it has exited (it is then reaped), nil while it runs.
    static func exitStatus(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == 0 { return nil }
        if result < 0 { return -1 }
        return Self.decode(status)
    }

    private static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Bytes available to unprivileged writers... and to root, on tmpfs the same: what a filler may take.
    static func freeBytes(_ path: String) throws -> Int64 {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else {
            throw Failure(description: "statvfs \(path): \(String(cString: strerror(errno)))")
        }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }

    /// Creates a file of `bytes` bytes whose blocks are really allocated (so the space is gone, not sparse).
    static func fill(_ path: String, bytes: Int64) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw Failure(description: "open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let result = posix_fallocate(fd, 0, off_t(bytes))
        guard result == 0 else { throw Failure(description: "fallocate \(path): \(String(cString: strerror(result)))") }
    }

    /// CPU time (user + system) `pid` has used, in seconds, from /proc/PID/stat; nil when it cannot be read.
    static func cpuSeconds(_ pid: pid_t) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)": state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The effective user id: mounting needs root.
    static var isRoot: Bool { geteuid() == 0 }

    /// A new empty directory under the temporary directory.
    static func makeTemporaryDirectory(_ prefix: String) throws -> String {
        var template = Array((NSTemporaryDirectory() + "\(prefix)-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }
        }
        guard let made else {
            throw Failure(description: "mkdtemp: \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }

    /// Writes out whatever `print` buffered (every C stream: `fflush(NULL)`), so a line is out before a kill.
    static func flushOutput() {
        fflush(nil)
    }

    /// Exits the process with `status`, output flushed.
    static func exit(_ status: Int32) -> Never {
        fflush(nil)
        Glibc.exit(status)
    }
}
