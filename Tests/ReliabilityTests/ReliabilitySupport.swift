// Shared by the reliability tests: where the built tools are.
import Foundation

enum ReliabilityTools {
    /// A program built next to the test bundle (vigild, vigil-crashtest, vigil-hostile).
    static func path(_ name: String) -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }
}
