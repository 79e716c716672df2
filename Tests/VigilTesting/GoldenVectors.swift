// The golden vectors of Proto/golden: text fixtures that protoc encoded (NAME[@variant].txtpb -> .binpb, NAME the
// full message name). Tests hold our codec to protoc's bytes and protoc's reading of ours.
import Foundation

public struct GoldenVector: Sendable, CustomStringConvertible {
    /// Full protobuf message name, for example `vigil.v1.Event`.
    public let messageName: String
    /// File name without extension, for example `vigil.v1.Event@ingest`.
    public let name: String
    /// protoc's encoding of the fixture.
    public let bytes: [UInt8]
    /// protoc's canonical text of the same value (`protoc --decode` output).
    public let text: String

    public var description: String { self.name }

    /// Every vector, sorted by name; `prefix` keeps those whose message name starts with it.
    public static func all(prefix: String = "") -> [GoldenVector] {
        let directory = Repository.path("Proto/golden")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".binpb") && $0.hasPrefix(prefix) }.sorted().compactMap { file in
            let name = String(file.dropLast(".binpb".count))
            guard let bytes = FileManager.default.contents(atPath: "\(directory)/\(file)"),
                let text = try? String(contentsOfFile: "\(directory)/\(name).txtpb", encoding: .utf8)
            else { return nil }
            let messageName = String(name.split(separator: "@", maxSplits: 1)[0])
            return GoldenVector(messageName: messageName, name: name, bytes: [UInt8](bytes), text: text)
        }
    }
}

/// protoc as an oracle: it decodes our bytes with the schema in Proto/.
public enum Protoc {
    public static var isInstalled: Bool { Subprocess.which("protoc") != nil }

    public static var protoFiles: [String] {
        let root = Repository.path("Proto")
        var files: [String] = []
        for directory in ["vigil/v1", "vigil/testing/v1"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(directory)")) ?? []
            files += names.filter { $0.hasSuffix(".proto") }.sorted().map { "\(directory)/\($0)" }
        }
        return files
    }

    /// `protoc --decode=messageName` of `bytes`: the canonical text form, or the error protoc printed.
    public static func decode(_ bytes: [UInt8], as messageName: String) throws -> ProcessResult {
        guard let protoc = Subprocess.which("protoc") else { throw ProtocMissing() }
        return try Subprocess.run(
            protoc,
            ["-I.", "-I/usr/include", "--decode=\(messageName)"] + self.protoFiles,
            stdin: bytes,
            currentDirectory: Repository.path("Proto")
        )
    }

    /// A FileDescriptorSet of `files` (with imports and comments), as protoc writes it.
    public static func descriptorSet(_ files: [String]) throws -> [UInt8] {
        guard let protoc = Subprocess.which("protoc") else { throw ProtocMissing() }
        let directory = try TemporaryDirectory(prefix: "vigil-descriptors")
        let output = directory.file("set.pb")
        let result = try Subprocess.run(
            protoc,
            ["-I.", "-I/usr/include", "--include_imports", "--include_source_info", "--descriptor_set_out=\(output)"]
                + files,
            currentDirectory: Repository.path("Proto")
        )
        guard result.status == 0, let data = FileManager.default.contents(atPath: output) else {
            throw ProtocFailed(message: result.stderrText)
        }
        return [UInt8](data)
    }
}

public struct ProtocMissing: Error {}
public struct ProtocFailed: Error { public let message: String }
