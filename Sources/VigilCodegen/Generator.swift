// The generator's entry point, shared by the vigil-protogen command and the test that checks the committed
// output is current: descriptor set and request in, file names and contents out. No I/O here.
import VigilWire

/// What to generate from a descriptor set.
public struct GenerationRequest: Sendable, Hashable {
    /// The .proto files (as named in the descriptor set, `vigil/v1/event.proto`) to emit Swift types for.
    public var files: [String]
    /// Modules every generated Swift file imports publicly, besides VigilWire (and VigilRPC for services).
    public var imports: [String] = []
    /// When set, also emit `<registry>.pb.swift`: an enum listing every generated message type.
    public var registry: String?
    /// Emit `RandomMessage` conformances (`<stem>+Random.pb.swift`) for the types of `files`.
    public var random = false
    /// Modules the random-value files import (the module declaring the types, when it is another one).
    public var randomImports: [String] = []
    /// Files documented in the Markdown reference; none means no Markdown.
    public var markdownFiles: [String] = []
    /// The reference's title.
    public var markdownTitle = "Vigil API reference"

    public init(files: [String]) { self.files = files }
}

/// What a request produced: file names (no directories) to contents.
public struct GeneratedFiles: Sendable, Hashable {
    public var swift: [String: String] = [:]
    public var random: [String: String] = [:]
    public var markdown: String?

    public init() {}
}

public enum Generator {
    /// Decodes protoc's `--descriptor_set_out` bytes.
    public static func decodeDescriptorSet(_ bytes: [UInt8]) throws(CodegenError) -> FileDescriptorSet {
        do {
            return try FileDescriptorSet(serializedBytes: bytes)
        } catch {
            throw CodegenError(.malformedDescriptorSet, "the descriptor set does not decode", cause: error.message)
        }
    }

    public static func generate(
        descriptorSet bytes: [UInt8],
        request: GenerationRequest
    ) throws(CodegenError) -> GeneratedFiles {
        try self.generate(descriptorSet: try self.decodeDescriptorSet(bytes), request: request)
    }

    public static func generate(
        descriptorSet: FileDescriptorSet,
        request: GenerationRequest
    ) throws(CodegenError) -> GeneratedFiles {
        let schema = try Schema(descriptorSet)
        let builder = ModelBuilder(schema: schema)
        // Sorted, so the output does not depend on the order a shell glob or a caller lists the files in.
        let names = Array(Set(request.files)).sorted()
        var files: [FileModel] = []
        for name in names { files.append(try builder.file(name)) }
        try schema.checkNoInlineRecursion(files.flatMap(\.allMessages).map(\.ref.fullName))
        try self.checkTopLevelNames(files, registry: request.registry)

        var output = GeneratedFiles()
        for file in files {
            let stem = Naming.fileStem(file.name)
            output.swift[stem + ".pb.swift"] = SwiftFileEmitter(file: file, imports: request.imports).emit()
            if request.random && !file.allMessages.isEmpty {
                output.random[stem + "+Random.pb.swift"] = RandomEmitter(file: file, imports: request.randomImports).emit()
            }
        }
        if let registry = request.registry {
            output.swift[registry + ".pb.swift"] = SwiftFileEmitter.registry(name: registry, files: files)
        }
        if !request.markdownFiles.isEmpty {
            var documented: [FileModel] = []
            for name in Array(Set(request.markdownFiles)).sorted() { documented.append(try builder.file(name)) }
            output.markdown = MarkdownEmitter(title: request.markdownTitle, files: documented).emit()
        }
        return output
    }

    /// Top-level types of every generated file share one Swift module, so their names must be unique.
    private static func checkTopLevelNames(_ files: [FileModel], registry: String?) throws(CodegenError) {
        var owners: [String: String] = [:]
        if let registry { owners[registry] = "the registry" }
        for file in files {
            let names = file.messages.map(\.ref.swiftName) + file.enums.map(\.ref.swiftName) + file.services.map(\.swiftName)
            for name in names {
                if let owner = owners[name] {
                    throw CodegenError(.nameClash, "Swift type \(name) of \(file.name) clashes with one of \(owner)")
                }
                owners[name] = file.name
            }
        }
    }
}
