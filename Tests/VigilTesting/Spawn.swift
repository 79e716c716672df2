// Starting a program without Foundation's `Process`: on this toolchain `Process.run()` crashes now and then (a
// 256-byte over-read of /proc/self/fd entries, swift-corelibs-foundation PR #5472), which took down whole test runs
// in CI. `Spawn.run` uses posix_spawn directly: pipes for the three standard streams, the parent's environment,
// an optional working directory, and waitpid. The only C calls of the test support code live here.
import Dispatch
import Glibc

enum Spawn {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `executable` with `arguments` to completion; `status` is the exit code, or 128 + the signal number when
    /// a signal ended it.
    static func run(
        _ executable: String,
        _ arguments: [String],
        stdin: [UInt8],
        currentDirectory: String?
    ) throws -> (status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        var input: [Int32] = [-1, -1]
        var output: [Int32] = [-1, -1]
        var errors: [Int32] = [-1, -1]
        // (pipe2 is not in Swift's Glibc module: close-on-exec is set right after.)
        guard pipe(&input) == 0, pipe(&output) == 0, pipe(&errors) == 0 else {
            for fd in input + output + errors where fd >= 0 { close(fd) }
            throw Failure(description: "pipe: errno \(errno)")
        }
        for fd in input + output + errors { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 onto 0, 1 and 2 clears close-on-exec there; every other pipe end closes at exec.
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        // A working directory through coreutils' `env -C` (posix_spawn_file_actions_addchdir_np is not in the
        // Glibc module either).
        let (program, words) =
            currentDirectory.map { ("/usr/bin/env", ["/usr/bin/env", "-C", $0, executable] + arguments) }
            ?? (executable, [executable] + arguments)
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, program, &actions, nil, argv, environ)
        close(input[0])
        close(output[1])
        close(errors[1])
        guard spawned == 0 else {
            close(input[1])
            close(output[0])
            close(errors[0])
            throw Failure(description: "posix_spawn \(executable): errno \(spawned)")
        }

        // Feed stdin and drain both outputs on their own threads, so no pipe ever fills up against a wait.
        let group = DispatchGroup()
        let outBox = BytesBox()
        let errBox = BytesBox()
        let inputEnd = input[1]
        let outputEnd = output[0]
        let errorsEnd = errors[0]
        DispatchQueue.global().async(group: group) {
            stdin.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count, let base = raw.baseAddress {
                    let written = write(inputEnd, base + offset, raw.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    if written <= 0 { break }
                    offset += written
                }
            }
            close(inputEnd)
        }
        DispatchQueue.global().async(group: group) { outBox.bytes = Self.readAll(outputEnd) }
        DispatchQueue.global().async(group: group) { errBox.bytes = Self.readAll(errorsEnd) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        group.wait()
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return (code, outBox.bytes, errBox.bytes)
    }

    private static func readAll(_ fd: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress, raw.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        close(fd)
        return bytes
    }
}

/// Written by one thread and read after `group.wait()`, which orders the two accesses.
private final class BytesBox: @unchecked Sendable {
    var bytes: [UInt8] = []
}
