// ChildProcess, the tests' way to keep a program running (Foundation's Process.run() crashes on this toolchain):
// the child gets the three standard streams and nothing else of this process, starts with no signal blocked, and
// exit codes and signals read as Process reported them. (Before the signal mask was reset, `terminate` did not stop
// `sleep 30` here: the test process blocks SIGTERM.)
import Foundation
import Testing
import VigilTesting

@Suite struct ChildProcessTests {
    static func output(_ arguments: [String]) throws -> (String, ChildProcess) {
        let stray = Pipe()  // open in this process without close-on-exec, as another test's pipe would be
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        _ = stray
        return (String(decoding: data, as: UTF8.self), process)
    }

    @Test("the child inherits only standard input, output and error")
    func onlyStandardStreams() throws {
        let (listing, process) = try Self.output(["-c", "exec ls /proc/self/fd"])
        #expect(process.terminationStatus == 0)
        let descriptors = listing.split(separator: "\n").compactMap { Int($0) }
        // ls's own directory handle takes the lowest free number: 3.
        #expect(descriptors.allSatisfy { $0 <= 3 }, "the child held \(descriptors)")
        #expect(descriptors.contains(1))
    }

    @Test("an exit code and a terminating signal read as Process reported them")
    func terminationStatus() throws {
        let (_, exited) = try Self.output(["-c", "exit 7"])
        #expect(!exited.isRunning)
        #expect(exited.terminationStatus == 7 && exited.terminationReason == .exit)

        let sleeper = ChildProcess()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        #expect(sleeper.isRunning && sleeper.processIdentifier > 0)
        sleeper.terminate()
        sleeper.waitUntilExit()
        #expect(!sleeper.isRunning)
        #expect(sleeper.terminationStatus == SIGTERM && sleeper.terminationReason == .uncaughtSignal)
    }
}
