// Locates checked-in material (Proto/, golden vectors, docs) from a test, wherever `swift test` was started.
public import Foundation

public enum Repository {
    /// The directory holding Package.swift, found by walking up from this source file.
    public static let root: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url.deleteLastPathComponent()
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    public static func path(_ relative: String) -> String { self.root.appendingPathComponent(relative).path }
}
