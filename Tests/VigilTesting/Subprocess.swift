// Runs a real program (protoc, openssl, the built CLI) and captures what it printed, for tests that use an
// external tool as an oracle.
public import Foundation

public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var stdoutText: String { String(decoding: self.stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: self.stderr, as: UTF8.self) }
}

public enum Subprocess {
    /// Foundation's `Process.run()` on Linux is not safe to call from two threads at once (the test run crashed in
    /// its argument copying while several suites started programs together), so every launch in the tests takes
    /// this lock. Only the launch: waiting for the program is not serialised.
    private static let launchLock = NSLock()

    /// Starts `process`, one launch at a time across the test process.
    public static func launch(_ process: Process) throws {
        launchLock.lock()
        defer { launchLock.unlock() }
        try process.run()
    }

    /// Finds an executable on PATH, or nil when it is not installed.
    public static func which(_ name: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for dir in paths {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `executable` with `arguments`, writing `stdin` to it, and waits for it to exit.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        stdin: [UInt8] = [],
        currentDirectory: String? = nil
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try Self.launch(process)
        // Drain both pipes on their own threads so a large output never deadlocks against a full pipe.
        let outBox = DataBox()
        let errBox = DataBox()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { outBox.data = output.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { errBox.data = errors.fileHandleForReading.readDataToEndOfFile() }
        if !stdin.isEmpty { try input.fileHandleForWriting.write(contentsOf: stdin) }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        group.wait()
        return ProcessResult(
            status: process.terminationStatus,
            stdout: [UInt8](outBox.data),
            stderr: [UInt8](errBox.data)
        )
    }

    /// `run` for async tests: waits on a thread of its own, not on one of Swift's cooperative threads (two on this
    /// machine), so a program that runs for seconds does not stall every other test of the process meanwhile.
    public static func runOnThread(
        _ executable: String,
        _ arguments: [String],
        stdin: [UInt8] = [],
        currentDirectory: String? = nil
    ) async throws -> ProcessResult {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(
                    with: Result {
                        try Self.run(executable, arguments, stdin: stdin, currentDirectory: currentDirectory) as ProcessResult
                    })
            }
            thread.start()
        }
    }
}

/// Written by one drain thread and read after `group.wait()`, which orders the two accesses.
private final class DataBox: @unchecked Sendable {
    var data = Data()
}
