// The CI-sized run of the libFuzzer harnesses (Tests/Fuzz, docs/RELIABILITY.md): every harness builds with the
// fuzzer and AddressSanitizer and runs for a few seconds, so a decoder change that crashes on its seeds or on
// what the fuzzer finds quickly fails `swift test`, and so do harnesses that stop compiling. Longer runs are
// `Tests/Fuzz/fuzz.sh --seconds 300`. The script builds with swiftc into .build-fuzz/, never through SwiftPM, so it
// does not wait on the .build lock this test process holds.
import Foundation
import Testing
import VigilTesting

@Suite(.serialized) struct FuzzSmokeTests {
    static let harnesses = ["frame-decoder", "rpc-payloads", "api-requests", "token-parser", "event-lines"]

    #if os(Linux)
        /// libFuzzer (`-sanitize=fuzzer`) ships with the Linux toolchain only.
        static let supported = true
    #else
        static let supported = false
    #endif

    @Test(
        "every fuzz harness builds and runs 8 seconds on its seeds without a crash",
        .enabled(if: Self.supported, "libFuzzer ships with the Linux toolchain only"),
        .timeLimit(.minutes(10))
    )
    func harnessesRunWithoutCrashing() async throws {
        let result = try await Subprocess.runOnThread(
            "/bin/bash",
            [Repository.path("Tests/Fuzz/fuzz.sh"), "--seconds", "8", "--jobs", "2"],
            currentDirectory: Repository.path(".")
        )
        let output = result.stdoutText + result.stderrText
        #expect(result.status == 0, "Tests/Fuzz/fuzz.sh exited \(result.status):\n\(output)")
        for harness in Self.harnesses {
            // `name: N runs, 0 crashes` with N > 0: a harness that never ran an input proves nothing.
            let line = result.stdoutText.split(separator: "\n").first { $0.hasPrefix("\(harness): ") }
            let ran = line.map { $0.hasSuffix(" runs, 0 crashes") && !$0.hasPrefix("\(harness): 0 runs") } ?? false
            #expect(ran, "no clean run of \(harness) in:\n\(output)")
        }
    }
}
