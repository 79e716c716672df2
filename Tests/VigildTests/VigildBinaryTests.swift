// The real vigild binary, as an operator runs it: help, a usage error, and a first start that prepares the data
// directory and then says plainly that it cannot serve yet.
import Foundation
import Testing
import VigilTesting

@Suite struct VigildBinaryTests {
    /// vigild sits next to the test bundle in the build directory.
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigild").path
    }

    static func run(_ arguments: [String], in directory: String? = nil) throws -> ProcessResult {
        try Subprocess.run(Self.binary, arguments, currentDirectory: directory)
    }

    @Test("--help exits 0 and lists the options")
    func help() throws {
        let result = try Self.run(["--help"])
        #expect(result.status == 0)
        #expect(result.stdoutText.contains("--max-message-bytes BYTES"))
    }

    @Test("an unknown option is a usage error (64) that names it")
    func usageError() throws {
        let result = try Self.run(["--no-such-flag"])
        #expect(result.status == 64)
        #expect(result.stderrText.contains("unknown option --no-such-flag"))
    }

    @Test("a first start in an empty directory prepares ./vigil-data, then exits 69 without serving")
    func firstStart() throws {
        let directory = try TemporaryDirectory(prefix: "vigild-run")
        let result = try Self.run([], in: directory.path)
        #expect(result.status == 69)
        #expect(result.stderrText.contains("created ./vigil-data/tls/cert.pem"))
        #expect(result.stderrText.contains("not built yet"))
        #expect(FileManager.default.fileExists(atPath: directory.file("vigil-data/token-secret")))
    }
}
