// A directory under the system temp dir that removes itself when the value is released, so every test gets
// real files (databases, certificates) without leaking them between runs.
public import Foundation

public final class TemporaryDirectory: Sendable {
    public let url: URL
    public var path: String { self.url.path }

    public init(prefix: String = "vigil-test") throws {
        let name = "\(prefix)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)"
        self.url = FileManager.default.temporaryDirectory.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { self.url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: self.url) }
}
