// vigil-protogen: reads a descriptor set made by protoc and writes the Swift types, the random-value test
// conformances and the Markdown reference. Proto/generate is the usual way to run it; this file only parses
// flags, reads and writes files, and reports errors (the work is VigilCodegen's `Generator`).
import Foundation
import VigilCodegen

let usage = """
    usage: vigil-protogen --descriptor-set FILE --files A.proto[,B.proto...] --swift-out DIR [options]

    Reads FILE, made by `protoc --descriptor_set_out=FILE --include_imports --include_source_info`, and writes one
    <stem>.pb.swift per file given to --files (names as protoc reports them, e.g. vigil/v1/event.proto).

    options:
      --import MODULE            extra module every Swift file imports publicly (repeatable)
      --registry NAME            also write NAME.pb.swift: `enum NAME { static let all: [any WireMessage.Type] }`
      --random-out DIR           write RandomMessage conformances (<stem>+Random.pb.swift) into DIR
      --random-import MODULE     module the random-value files import (repeatable; the types' module)
      --markdown FILE            write the API reference to FILE
      --markdown-files A,B       the .proto files the reference documents (required with --markdown)
      --markdown-title TEXT      the reference's title
      -h, --help                 show this help
    """

struct Options {
    var descriptorSet: String?
    var request = GenerationRequest(files: [])
    var swiftOut: String?
    var randomOut: String?
    var markdown: String?
}

func fail(_ message: String, status: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("vigil-protogen: \(message)\n".utf8))
    exit(status)
}

func parse(_ arguments: [String]) -> Options {
    var options = Options()
    var index = 0
    func value(_ flag: String) -> String {
        index += 1
        guard index < arguments.count else { fail("\(flag) needs a value\n\n\(usage)", status: 2) }
        return arguments[index]
    }
    func list(_ text: String) -> [String] { text.split(separator: ",").map(String.init).filter { !$0.isEmpty } }
    while index < arguments.count {
        let flag = arguments[index]
        switch flag {
        case "-h", "--help":
            print(usage)
            exit(0)
        case "--descriptor-set": options.descriptorSet = value(flag)
        case "--files": options.request.files += list(value(flag))
        case "--swift-out": options.swiftOut = value(flag)
        case "--import": options.request.imports.append(value(flag))
        case "--registry": options.request.registry = value(flag)
        case "--random-out": options.randomOut = value(flag)
        case "--random-import": options.request.randomImports.append(value(flag))
        case "--markdown": options.markdown = value(flag)
        case "--markdown-files": options.request.markdownFiles += list(value(flag))
        case "--markdown-title": options.request.markdownTitle = value(flag)
        default: fail("unknown argument \(flag)\n\n\(usage)", status: 2)
        }
        index += 1
    }
    guard options.descriptorSet != nil, options.swiftOut != nil, !options.request.files.isEmpty else {
        fail("--descriptor-set, --files and --swift-out are required\n\n\(usage)", status: 2)
    }
    if (options.markdown == nil) != options.request.markdownFiles.isEmpty {
        fail("--markdown and --markdown-files go together", status: 2)
    }
    options.request.random = options.randomOut != nil
    return options
}

func write(_ files: [String: String], to directory: String) {
    do {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, contents) in files.sorted(by: { $0.key < $1.key }) {
            try Data(contents.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name))
        }
    } catch {
        fail("cannot write to \(directory): \(error)")
    }
}

let options = parse(Array(CommandLine.arguments.dropFirst()))
guard let descriptorSet = options.descriptorSet, let bytes = FileManager.default.contents(atPath: descriptorSet) else {
    fail("cannot read \(options.descriptorSet ?? "")")
}
do {
    let output = try Generator.generate(descriptorSet: [UInt8](bytes), request: options.request)
    if let swiftOut = options.swiftOut { write(output.swift, to: swiftOut) }
    if let randomOut = options.randomOut { write(output.random, to: randomOut) }
    if let markdown = options.markdown, let text = output.markdown {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: markdown))
        } catch {
            fail("cannot write \(markdown): \(error)")
        }
    }
} catch {
    fail("\(error)")
}
