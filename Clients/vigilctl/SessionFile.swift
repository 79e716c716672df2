// Where `vigilctl login` keeps its tokens: `$VIGIL_CONFIG_DIR/session.json` (default `~/.config/vigil/`), one
// session per server address, readable by the owner only (0600 from the moment the file exists), so a later
// command needs no password and a refreshed token pair replaces the old one at once.
import Foundation
import Glibc
import VigilClient

struct SessionFile {
    let path: String

    init(environment: [String: String]) {
        let directory = environment["VIGIL_CONFIG_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.config/vigil"
        self.path = directory + "/session.json"
    }

    private func readAll() -> [String: SessionTokens] {
        guard let data = FileManager.default.contents(atPath: self.path) else { return [:] }
        return (try? JSONDecoder().decode([String: SessionTokens].self, from: data)) ?? [:]
    }

    func tokens(for server: String) -> SessionTokens? { self.readAll()[server] }

    /// Stores (or with nil, forgets) the session for `server`, replacing the file atomically.
    func store(_ tokens: SessionTokens?, for server: String) throws {
        var all = self.readAll()
        all[server] = tokens
        let directory = (self.path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let data = try JSONEncoder().encode(all)
        let temporary = self.path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw UsageError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == data.count, rename(temporary, self.path) == 0 else {
            unlink(temporary)
            throw UsageError("cannot write \(self.path)")
        }
    }
}
