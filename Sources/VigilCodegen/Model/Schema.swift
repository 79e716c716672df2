// A FileDescriptorSet indexed for generation: every message and enum of every file by its fully qualified name,
// with its Swift name, so a `type_name` like `.vigil.v1.Event` resolves no matter which file declared it.
import VigilWire

struct Schema {
    struct Entry {
        enum Kind {
            case message(DescriptorProto)
            case enumeration(EnumDescriptorProto)
        }

        let ref: TypeRef
        let kind: Kind
        /// The .proto file that declares it.
        let file: String
    }

    let files: [String: FileDescriptorProto]
    /// By fully qualified name without the leading dot.
    private(set) var types: [String: Entry] = [:]

    init(_ set: FileDescriptorSet) throws(CodegenError) {
        var files: [String: FileDescriptorProto] = [:]
        for file in set.file { files[file.name] = file }
        self.files = files
        for file in set.file {
            let prefix = file.package.isEmpty ? "" : file.package + "."
            for message in file.messageType {
                try self.register(message, fullPrefix: prefix, swiftPrefix: "", file: file.name)
            }
            for enumeration in file.enumType {
                try self.add(
                    Entry(
                        ref: TypeRef(fullName: prefix + enumeration.name, swiftName: enumeration.name),
                        kind: .enumeration(enumeration),
                        file: file.name
                    )
                )
            }
        }
    }

    private mutating func register(
        _ message: DescriptorProto,
        fullPrefix: String,
        swiftPrefix: String,
        file: String
    ) throws(CodegenError) {
        let ref = TypeRef(fullName: fullPrefix + message.name, swiftName: swiftPrefix + message.name)
        try self.add(Entry(ref: ref, kind: .message(message), file: file))
        for nested in message.nestedType {
            try self.register(nested, fullPrefix: ref.fullName + ".", swiftPrefix: ref.swiftName + ".", file: file)
        }
        for enumeration in message.enumType {
            let enumRef = TypeRef(
                fullName: ref.fullName + "." + enumeration.name,
                swiftName: ref.swiftName + "." + enumeration.name
            )
            try self.add(Entry(ref: enumRef, kind: .enumeration(enumeration), file: file))
        }
    }

    private mutating func add(_ entry: Entry) throws(CodegenError) {
        guard self.types[entry.ref.fullName] == nil else {
            throw CodegenError(.nameClash, "\(entry.ref.fullName) is declared twice (\(entry.file))")
        }
        self.types[entry.ref.fullName] = entry
    }

    /// Resolves a descriptor's `type_name` (`.vigil.v1.Event`).
    func entry(_ typeName: String, usedBy user: String) throws(CodegenError) -> Entry {
        let name = typeName.hasPrefix(".") ? String(typeName.dropFirst()) : typeName
        guard let entry = self.types[name] else {
            throw CodegenError(.unresolvedType, "\(user): type \(typeName) is not in the descriptor set")
        }
        return entry
    }

    func message(_ typeName: String, usedBy user: String) throws(CodegenError) -> (TypeRef, DescriptorProto) {
        let entry = try self.entry(typeName, usedBy: user)
        guard case .message(let message) = entry.kind else {
            throw CodegenError(.unresolvedType, "\(user): \(typeName) is an enum, a message was expected")
        }
        return (entry.ref, message)
    }

    /// Refuses a message that contains itself through singular message fields or oneof members (directly or
    /// through other messages): Swift structs store those inline, so such a type would have infinite size.
    func checkNoInlineRecursion(_ roots: [String]) throws(CodegenError) {
        var done: Set<String> = []
        var stack: [String] = []
        for root in roots.sorted() { try self.visit(root, &done, &stack) }
    }

    private func visit(_ name: String, _ done: inout Set<String>, _ stack: inout [String]) throws(CodegenError) {
        if done.contains(name) { return }
        if let start = stack.firstIndex(of: name) {
            let cycle = (stack[start...] + [name]).joined(separator: " -> ")
            throw CodegenError(
                .unsupported,
                "recursive singular message fields are not supported: \(cycle); make one of them repeated"
            )
        }
        guard let entry = self.types[name], case .message(let message) = entry.kind else { return }
        stack.append(name)
        for field in message.field where field.fieldType == .message && !field.isRepeated {
            let target = field.typeName.hasPrefix(".") ? String(field.typeName.dropFirst()) : field.typeName
            try self.visit(target, &done, &stack)
        }
        stack.removeLast()
        done.insert(name)
    }
}

/// The comments of one file's declarations, by the declaration's path (see `SourceCodeInfo.Location`).
struct Comments {
    private var byPath: [[Int32]: String] = [:]

    init(_ file: FileDescriptorProto) {
        for location in file.sourceCodeInfo?.location ?? [] {
            let text = location.leadingComments.isEmpty ? location.trailingComments : location.leadingComments
            if let normalized = Self.normalize(text) { self.byPath[location.path] = normalized }
        }
    }

    subscript(path: [Int32]) -> String? { self.byPath[path] }

    /// protoc keeps the space after `//` and the final newline: drop both, and trailing blanks of each line.
    static func normalize(_ text: String) -> String? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var line = Substring(line)
            if line.hasPrefix(" ") { line = line.dropFirst() }
            while let last = line.last, last == " " || last == "\t" || last == "\r" { line = line.dropLast() }
            return String(line)
        }
        while let first = lines.first, first.isEmpty { lines.removeFirst() }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }
}
