// Runs a real program (protoc, openssl, the built CLI) and captures what it printed, for tests that use an
// external tool as an oracle.
import Foundation

public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var stdoutText: String { String(decoding: self.stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: self.stderr, as: UTF8.self) }
}

public enum Subprocess {
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
        let result = try Spawn.run(executable, arguments, stdin: stdin, currentDirectory: currentDirectory)
        return ProcessResult(status: result.status, stdout: result.stdout, stderr: result.stderr)
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

