// Enforces the dependency direction of README.md's architecture table. SwiftPM's explicit import check misses
// imports that arrive through another target's dependencies, and Foundation or Glibc, so this test reads every
// `import` in Sources/ and Clients/ and holds it to the table.
import Foundation
import Testing
import VigilTesting

@Suite struct ImportRulesTests {
    /// Toolchain modules any target may import, besides the stdlib.
    static let everywhere: Set<String> = ["Synchronization", "Dispatch"]

    /// Target -> the modules it may import (beyond `everywhere`). Mirrors README.md, "Architecture".
    static let allowed: [String: Set<String>] = [
        "VigilWire": [],
        "VigilPOSIX": ["Glibc", "CMalloc"],
        "VigilRPC": ["VigilWire"],
        "VigilTLS": ["COpenSSL", "Glibc"],
        "VigilNet": ["VigilRPC", "VigilWire", "VigilPOSIX", "VigilTLS"],
        "VigilSQLite": ["CSQLite", "Glibc"],
        "VigilAPI": ["VigilWire", "VigilRPC"],
        "VigilService": ["VigilAPI", "VigilWire", "VigilRPC", "VigilSQLite", "VigilTLS", "Foundation"],
        "vigild": ["VigilService", "VigilNet", "VigilRPC", "VigilTLS", "VigilAPI", "VigilPOSIX", "Foundation", "Glibc"],
        "VigilCodegen": ["VigilWire", "Foundation"],
        "vigil-protogen": ["VigilCodegen", "Foundation"],
        "VigilClient": ["VigilAPI", "VigilWire", "VigilRPC", "VigilNet", "VigilTLS", "VigilPOSIX", "Foundation"],
        "vigilctl": ["VigilClient", "VigilAPI", "VigilRPC", "VigilWire", "VigilPOSIX", "Foundation", "Glibc"],
        "vigilbench": ["VigilClient", "VigilAPI", "VigilWire", "VigilPOSIX", "Foundation", "Glibc"],
    ]

    /// VigilWire is the innermost layer: not even Dispatch.
    static let stdlibOnly: Set<String> = ["VigilWire"]

    /// C modules: module maps, no Swift.
    static let systemLibraries: Set<String> = ["CSQLite", "COpenSSL", "CMalloc"]

    static var targetDirectories: [(name: String, path: String)] {
        var result: [(String, String)] = []
        for parent in ["Sources", "Clients"] {
            let root = Repository.path(parent)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            for name in names.sorted() where !Self.systemLibraries.contains(name) {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: "\(root)/\(name)", isDirectory: &isDirectory),
                    isDirectory.boolValue
                {
                    result.append((name, "\(root)/\(name)"))
                }
            }
        }
        return result
    }

    /// The module names a Swift file imports, with their line numbers.
    static func imports(in source: String) -> [(module: String, line: Int)] {
        var result: [(String, Int)] = []
        for (index, rawLine) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var words = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            while let first = words.first, first.hasPrefix("@") { words.removeFirst() }
            if let first = words.first, ["public", "package", "internal", "fileprivate", "private"].contains(first) {
                words.removeFirst()
            }
            guard words.first == "import", words.count >= 2 else { continue }
            var module = words[1]
            let kinds: Set<String> = ["struct", "class", "enum", "protocol", "func", "var", "let", "typealias"]
            if kinds.contains(module), words.count >= 3 { module = words[2] }
            result.append((String(module.split(separator: ".")[0]), index + 1))
        }
        return result
    }

    @Test("every target is in the table")
    func everyTargetListed() {
        let names = Self.targetDirectories.map(\.name)
        #expect(names.count >= 14)
        for name in names {
            #expect(Self.allowed[name] != nil, "\(name) is missing from the import table (README and this test)")
        }
    }

    @Test("every import follows the dependency direction")
    func importsFollowTable() throws {
        var violations: [String] = []
        var checked = 0
        for target in Self.targetDirectories {
            let allowed = (Self.allowed[target.name] ?? [])
                .union(Self.stdlibOnly.contains(target.name) ? ["Synchronization"] : Self.everywhere)
            let enumerator = FileManager.default.enumerator(atPath: target.path)
            while let file = enumerator?.nextObject() as? String {
                guard file.hasSuffix(".swift") else { continue }
                let source = try String(contentsOfFile: "\(target.path)/\(file)", encoding: .utf8)
                for found in Self.imports(in: source) {
                    checked += 1
                    if !allowed.contains(found.module) {
                        violations.append("\(target.name)/\(file):\(found.line) imports \(found.module)")
                    }
                }
            }
        }
        #expect(checked > 0)
        #expect(violations.isEmpty, "\(violations.joined(separator: "\n"))")
    }

    @Test("the import parser sees every spelling of import")
    func parser() {
        let source = """
            import Foundation
            public import VigilWire
            @preconcurrency import Dispatch
            @_implementationOnly internal import Glibc
            import struct VigilSQLite.Statement
            // import NotAnImport
            let important = 1
            """
        #expect(Self.imports(in: source).map(\.module) == ["Foundation", "VigilWire", "Dispatch", "Glibc", "VigilSQLite"])
    }
}
