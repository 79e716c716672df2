// vigild: the Vigil server. Wiring only: read the configuration, prepare the data directory, open the store,
// create the first admin, then serve until SIGINT or SIGTERM, and drain.
import Foundation
import VigilAPI
import VigilPOSIX
import VigilService

/// Exit statuses from sysexits.h, so scripts can tell a usage error from a server that cannot run.
enum ExitStatus {
    static let usage: Int32 = 64
    static let unavailable: Int32 = 69
    static let software: Int32 = 70
    static let configuration: Int32 = 78
}

/// Logs `message` as an error line (see Log.swift) and exits with `status`.
func fail(_ message: String, status: Int32) -> Never {
    Log.error(message, ["exit_status": .integer(Int64(status))])
    exit(status)
}

// A larger per-thread malloc cache, which glibc takes only at startup: vigild restarts itself once with it
// (MemoryAllocator explains; an operator's GLIBC_TUNABLES is kept instead). Read turns and frames use buffers of up
// to a few hundred KiB: keep them in malloc's heap.
MemoryAllocator.restartWithLargerThreadCache()
MemoryAllocator.keepBuffersInHeap()
let environment = ProcessInfo.processInfo.environment
var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("-h") || arguments.contains("--help") {
    switch arguments.first {
    case "user": print(Commands.userAddUsage)
    case "backup": print(Commands.backupUsage)
    default: print(Configuration.help + "\n\ncommands:\n  serve (default)   serve the API\n  user add          add a user offline\n  backup --to FILE  copy the live database")
    }
    exit(0)
}

do {
    switch arguments.first {
    case "user":
        guard arguments.count >= 2, arguments[1] == "add" else { fail(Commands.userAddUsage, status: ExitStatus.usage) }
        try await Commands.userAdd(Array(arguments.dropFirst(2)), environment: environment)
        exit(0)
    case "backup":
        try await Commands.backup(Array(arguments.dropFirst()), environment: environment)
        exit(0)
    case "serve":
        arguments.removeFirst()
    default:
        break
    }
} catch let error as ConfigurationError {
    fail("\(error)", status: ExitStatus.usage)
} catch {
    fail("\(error)", status: ExitStatus.software)
}

let configuration: Configuration
do {
    configuration = try Configuration.parse(flags: arguments, environment: environment)
} catch {
    fail("\(error)", status: ExitStatus.usage)
}

let directory: DataDirectory
do {
    directory = try DataDirectory.prepare(configuration)
} catch {
    fail("\(error)", status: ExitStatus.configuration)
}
for path in directory.created { Log.info("created file", ["path": .string(path)]) }

let service: Service
do {
    service = try Service.open(configuration, directory)
    let username = environment["VIGIL_ADMIN_USERNAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "admin"
    let password = environment["VIGIL_ADMIN_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
    if let admin = try await service.server.bootstrapFirstAdmin(username: username, password: password) {
        if let generated = admin.generatedPassword {
            // The single log line allowed to carry a password (Log.swift): the operator has no other way to learn it.
            Log.warning(Log.generatedAdminPasswordMessage, [
                "username": .string(admin.user.username), "password": .string(generated),
                "hint": "change it with UpdateUser, or set VIGIL_ADMIN_PASSWORD before the first start",
            ])
        } else {
            Log.info("created admin", ["username": .string(admin.user.username), "password_from": "VIGIL_ADMIN_PASSWORD"])
        }
    }
} catch {
    fail("cannot open the service: \(error)", status: ExitStatus.configuration)
}
do {
    try await Serve.run(configuration, directory, service)
} catch {
    service.close()
    fail("\(error)", status: ExitStatus.unavailable)
}
exit(0)
