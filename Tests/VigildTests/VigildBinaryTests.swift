// The real vigild binary, as an operator runs it: help, a usage error, a first start that prepares the data
// directory, the offline commands.
import Foundation
import Testing
import VigilTesting

@testable import vigild

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
        #expect(LogRecords(result.stderrText).first("unknown option --no-such-flag", prefix: true) != nil)
    }

    @Test("a first start prepares ./vigil-data and the database and creates the admin once, even when it cannot listen")
    func firstStart() throws {
        let directory = try TemporaryDirectory(prefix: "vigild-run")
        // 192.0.2.1 (TEST-NET-1) is no local address: binding fails after everything else is prepared.
        let unbindable = ["--listen", "192.0.2.1:7443"]
        let result = try Self.run(unbindable, in: directory.path)
        #expect(result.status == 69)
        let log = LogRecords(result.stderrText)
        #expect(log.all("created file").compactMap { $0["path"] }.contains("./vigil-data/tls/cert.pem"))
        // The generated password: logged once, in its dedicated message's "password" field, and nowhere else.
        let admin = try #require(log.first(Log.generatedAdminPasswordMessage), "\(result.stderrText)")
        #expect(admin["username"] == "admin")
        let password = try #require(admin["password"])
        #expect(password.count >= 12)
        #expect(log.records.filter { $0.values.contains { $0.contains(password) } }.count == 1)
        let refused = try #require(log.first("cannot listen on 192.0.2.1:7443", prefix: true), "\(result.stderrText)")
        #expect(refused["level"] == "error")
        #expect(refused["exit_status"] == "69")
        #expect(FileManager.default.fileExists(atPath: directory.file("vigil-data/vigil.db")))
        let again = try Self.run(unbindable, in: directory.path)
        #expect(again.status == 69)
        #expect(LogRecords(again.stderrText).records.allSatisfy { !($0["msg"] ?? "").hasPrefix("created") },
                "a second start creates nothing: \(again.stderrText)")
    }

    @Test("user add creates a user from a password on stdin; backup copies the live database")
    func userAddAndBackup() throws {
        let directory = try TemporaryDirectory(prefix: "vigild-run")
        let data = ["--data-dir", directory.file("data")]
        let added = try Subprocess.run(
            Self.binary, ["user", "add", "--username", "alice", "--role", "analyst"] + data,
            stdin: Array("a long enough password\n".utf8))
        #expect(added.status == 0, "\(added.stderrText)")
        #expect(added.stdoutText.contains("created user alice"))
        let duplicate = try Subprocess.run(
            Self.binary, ["user", "add", "--username", "ALICE", "--role", "agent"] + data,
            stdin: Array("another long password\n".utf8))
        #expect(duplicate.status != 0)
        let weak = try Subprocess.run(
            Self.binary, ["user", "add", "--username", "bob", "--role", "agent"] + data, stdin: Array("short\n".utf8))
        #expect(weak.status != 0)
        #expect(weak.stderrText.contains("12"), "the policy says why: \(weak.stderrText)")

        let backup = try Self.run(["backup", "--to", directory.file("copy.db")] + data)
        #expect(backup.status == 0, "\(backup.stderrText)")
        let refused = try Self.run(["backup", "--to", directory.file("copy.db")] + data)
        #expect(refused.status == 64, "an existing file is never overwritten")
        if let sqlite3 = Subprocess.which("sqlite3") {
            let rows = try Subprocess.run(sqlite3, [directory.file("copy.db"), "SELECT username FROM users ORDER BY id"])
            #expect(rows.stdoutText == "alice\n")
        }
    }
}
