// vigild: the Vigil server. Wiring only: read the configuration, prepare the data directory, then serve. The
// network transport is not built yet, so after preparing everything a first start needs it says so and exits
// with EX_UNAVAILABLE (69) rather than pretend to serve.
import Foundation

/// Exit statuses from sysexits.h, so scripts can tell a usage error from a server that cannot run.
enum ExitStatus {
    static let usage: Int32 = 64
    static let unavailable: Int32 = 69
    static let configuration: Int32 = 78
}

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("vigild: \(message)\n".utf8))
    exit(status)
}

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "serve" { arguments.removeFirst() }
if arguments.contains("-h") || arguments.contains("--help") {
    print(Configuration.help)
    exit(0)
}

let configuration: Configuration
do {
    configuration = try Configuration.parse(flags: arguments, environment: ProcessInfo.processInfo.environment)
} catch {
    fail("\(error)", status: ExitStatus.usage)
}

let directory: DataDirectory
do {
    directory = try DataDirectory.prepare(configuration)
} catch {
    fail("\(error)", status: ExitStatus.configuration)
}
for path in directory.created { FileHandle.standardError.write(Data("vigild: created \(path)\n".utf8)) }
fail(
    "data directory \(configuration.dataDirectory) is ready, but the network transport is not built yet, so nothing "
        + "can be served on \(configuration.listen) (see README.md, \"Status\")",
    status: ExitStatus.unavailable
)
