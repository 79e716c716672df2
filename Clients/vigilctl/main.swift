// vigilctl: the command-line client for people. Parses the command line, opens a client with the stored session
// for the server, runs one command, and keeps the session file current (logins and refreshes write it; logout
// clears it). Exit status: 0 done, 1 the server said no (its status and message are printed), 2 usage.
import Foundation
import VigilClient
import VigilRPC

let environment = ProcessInfo.processInfo.environment
let arguments: Arguments
do {
    arguments = try Arguments(Array(CommandLine.arguments.dropFirst()), environment: environment)
} catch {
    FileHandle.standardError.write(Data("vigilctl: \(error)\n".utf8))
    exit(2)
}
if arguments.words.isEmpty || arguments.words.first == "help" || arguments.has("help") {
    print(Commands.usage)
    exit(arguments.words.isEmpty ? 2 : 0)
}

let sessions = SessionFile(environment: environment)
do {
    let (host, port) = try arguments.endpoint()
    let server = arguments.server
    let client = try await VigilClient.connect(
        host: host, port: port, caFile: arguments.ca, tokens: sessions.tokens(for: server),
        onTokensChanged: { tokens in try? sessions.store(tokens, for: server) })
    defer { Task { await client.close() } }
    try await Commands(arguments: arguments, client: client, sessions: sessions, environment: environment).run()
    await client.close()
} catch let error as UsageError {
    FileHandle.standardError.write(Data("vigilctl: \(error)\n".utf8))
    exit(2)
} catch let error as RPCError {
    FileHandle.standardError.write(Data("vigilctl: \(error.code): \(error.message)\n".utf8))
    exit(1)
} catch {
    FileHandle.standardError.write(Data("vigilctl: \(error)\n".utf8))
    exit(1)
}
