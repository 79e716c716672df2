// The generated code against its source of truth: the committed output of Proto/generate is what the generator
// makes from Proto/ today (CI fails when someone edits a .proto and forgets to regenerate), and every Swift message
// declares exactly the fields protoc reads from Proto/, by number, type and label.
import Foundation
import Testing
import VigilAPI
import VigilRPC
import VigilCodegen
import VigilTesting
import VigilWire

@Suite(.enabled(if: Protoc.isInstalled, "needs protoc and libprotobuf-dev (.ci/run installs them)"))
struct GeneratedCodeTests {
    /// One invocation of vigil-protogen in Proto/generate, with the folders its output is committed to.
    struct Run: Sendable, CustomStringConvertible {
        var protoDirectory: String
        var extraFiles: [String] = []
        var registry: String
        var swiftOut: String
        var randomOut: String?
        var randomImports: [String] = []
        var markdown: String?

        var description: String { self.protoDirectory }

        var protoFiles: [String] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: Repository.path("Proto/\(self.protoDirectory)"))) ?? []
            return names.filter { $0.hasSuffix(".proto") }.sorted().map { "\(self.protoDirectory)/\($0)" }
        }

        var request: GenerationRequest {
            var request = GenerationRequest(files: self.protoFiles + self.extraFiles)
            request.registry = self.registry
            request.random = self.randomOut != nil
            request.randomImports = self.randomImports
            if self.markdown != nil {
                request.markdownFiles = self.protoFiles
                request.markdownTitle = "Vigil API reference"
            }
            return request
        }
    }

    static let runs = [
        Run(
            protoDirectory: "vigil/v1",
            extraFiles: ["google/protobuf/timestamp.proto"],
            registry: "VigilAPIMessages",
            swiftOut: "Sources/VigilAPI/Generated",
            randomOut: "Tests/VigilAPITests/Generated",
            randomImports: ["VigilAPI"],
            markdown: "docs/API.md"
        ),
        Run(
            protoDirectory: "vigil/testing/v1",
            registry: "CodecTestMessages",
            swiftOut: "Tests/VigilWireTests/Generated",
            randomOut: "Tests/VigilWireTests/Generated"
        ),
        Run(protoDirectory: "vigil/rpc/v1", registry: "VigilRPCMessages", swiftOut: "Sources/VigilRPC/Generated"),
    ]

    @Test("the committed generated files are what Proto/generate makes now", arguments: runs)
    func upToDate(run: Run) throws {
        let descriptorSet = try Protoc.descriptorSet(run.protoFiles)
        let output = try Generator.generate(descriptorSet: descriptorSet, request: run.request)
        var expected: [String: String] = [:]
        for (name, text) in output.swift { expected["\(run.swiftOut)/\(name)"] = text }
        for (name, text) in output.random { expected["\(run.randomOut ?? "")/\(name)"] = text }
        if let markdown = run.markdown { expected[markdown] = output.markdown ?? "" }

        for (path, text) in expected.sorted(by: { $0.key < $1.key }) {
            guard let committed = try? String(contentsOfFile: Repository.path(path), encoding: .utf8) else {
                Issue.record("\(path) is missing: run Proto/generate")
                continue
            }
            if committed != text {
                let (old, new) = (committed.split(separator: "\n", omittingEmptySubsequences: false),
                                  text.split(separator: "\n", omittingEmptySubsequences: false))
                let line = old.indices.first { $0 >= new.count || old[$0] != new[$0] } ?? old.count
                Issue.record("\(path) is stale from line \(line + 1): run Proto/generate")
            }
        }
        for directory in Set([run.swiftOut] + (run.randomOut.map { [$0] } ?? [])) {
            let names = try FileManager.default.contentsOfDirectory(atPath: Repository.path(directory))
            let extra = names.map { "\(directory)/\($0)" }.filter { expected[$0] == nil }
            #expect(extra.isEmpty, "files Proto/generate no longer makes: \(extra)")
        }
    }

    @Test("every VigilAPI message declares exactly the fields protoc reads from Proto/")
    func fieldsMatchProto() throws {
        let run = Self.runs[0]
        let set = try Generator.decodeDescriptorSet(try Protoc.descriptorSet(run.protoFiles))
        var fromProto: [String: [WireFieldDescriptor]] = [:]
        for file in set.file where file.package == "vigil.v1" || file.name == "google/protobuf/timestamp.proto" {
            for message in file.messageType { Self.collect(message, prefix: file.package, into: &fromProto) }
        }
        let swiftTypes = Dictionary(uniqueKeysWithValues: VigilAPIMessages.all.map { ($0.protoMessageName, $0) })
        #expect(Set(fromProto.keys) == Set(swiftTypes.keys))
        #expect(fromProto.count > 30, "the descriptor set should describe the whole API")
        for (name, fields) in fromProto.sorted(by: { $0.key < $1.key }) {
            guard let type = swiftTypes[name] else { continue }
            #expect(type.wireFields == fields, "\(name) differs from Proto/")
        }
    }

    @Test("the service's method descriptors match the RPCs of Proto/ with their streaming kinds")
    func methodsMatchProto() throws {
        let set = try Generator.decodeDescriptorSet(try Protoc.descriptorSet(Self.runs[0].protoFiles))
        var fromProto: [String: MethodKind] = [:]
        for file in set.file where file.package == "vigil.v1" {
            for service in file.service {
                for method in service.method {
                    let kind: MethodKind = switch (method.clientStreaming, method.serverStreaming) {
                    case (false, false): .unary
                    case (true, false): .clientStreaming
                    case (false, true): .serverStreaming
                    case (true, true): .bidirectionalStreaming
                    }
                    fromProto["/vigil.v1.\(service.name)/\(method.name)"] = kind
                }
            }
        }
        let declared = Dictionary(uniqueKeysWithValues: (VigilMethods.methods + DiagnosticsMethods.methods).map { ($0.path, $0.kind) })
        #expect(declared == fromProto)
        #expect(fromProto["/vigil.v1.Vigil/IngestEvents"] == .bidirectionalStreaming)
    }

    /// Flattens a message and its nested types (map entries aside: they are not Swift types) into field lists,
    /// the way the generator's `wireFields` spells them.
    static func collect(_ message: DescriptorProto, prefix: String, into result: inout [String: [WireFieldDescriptor]]) {
        guard !message.isMapEntry else { return }
        let name = "\(prefix).\(message.name)"
        result[name] = message.field.compactMap { field in
            guard let type = field.fieldType else { return nil }
            let label: WireFieldDescriptor.Label =
                field.isRepeated ? .repeated : field.proto3Optional ? .optional : .singular
            let oneof = field.proto3Optional ? nil : field.oneofIndex.flatMap { index in
                message.oneofDecl.indices.contains(Int(index)) ? message.oneofDecl[Int(index)].name : nil
            }
            let typeName = field.typeName.hasPrefix(".") ? String(field.typeName.dropFirst()) : field.typeName
            return WireFieldDescriptor(
                name: field.name, number: Int(field.number), type: type, label: label, typeName: typeName, oneof: oneof
            )
        }
        for nested in message.nestedType { Self.collect(nested, prefix: name, into: &result) }
    }
}
