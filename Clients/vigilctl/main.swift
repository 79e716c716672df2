// vigilctl: the command-line client for people. Parses the command line, opens a client with the stored session
// for the server, runs one command, and keeps the session file current (logins and refreshes write it; logout
// clears it). Exit status: 0 done, 2 usage, and one code per class of server status (see `Help.exitStatus`).
import Foundation
import VigilClient
import VigilRPC

func fail(_ text: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("vigilctl: \(text)\n".utf8))
    exit(status)
}

let environment = ProcessInfo.processInfo.environment
let arguments: Arguments
do {
    arguments = try Arguments(Array(CommandLine.arguments.dropFirst()), environment: environment)
} catch {
    fail("\(error)\n\n\(Help.header)\nvigilctl --help lists every command.", status: 2)
}
if arguments.words.isEmpty {
    if arguments.has("help") {
        print(Help.full)
        exit(0)
    }
    FileHandle.standardError.write(Data((Help.full + "\n").utf8))
    exit(2)
}
if arguments.words.first == "help" || arguments.has("help") {
    let word = arguments.words.first == "help" ? arguments.words.dropFirst().first : arguments.words.first
    print(word.flatMap(Help.group) ?? Help.full)
    exit(0)
}

let sessions = SessionFile(environment: environment)
if arguments.words == ["logout"], arguments.options.isEmpty {
    // Forgetting the tokens needs no server: it works while the server is down.
    do { try sessions.store(nil, for: arguments.server) } catch { fail("\(error)", status: 1) }
    print("logged out of \(arguments.server)")
    exit(0)
}
do {
    let (host, port) = try arguments.endpoint()
    try Commands.checkUsage(arguments)
    guard FileManager.default.isReadableFile(atPath: arguments.ca) else {
        throw UsageError("--ca: cannot read \(arguments.ca) (the server's certificate or its CA; or set VIGIL_CA)")
    }
    let server = arguments.server
    let client: VigilClient
    do {
        client = try await VigilClient.connect(
            host: host, port: port, caFile: arguments.ca, tokens: sessions.tokens(for: server),
            onTokensChanged: { tokens in try? sessions.store(tokens, for: server) })
    } catch let error as RPCError {
        throw error
    } catch {
        // Refused, unreachable, or a TLS handshake that failed: the server is not there for us, as UNAVAILABLE.
        throw RPCError(code: .unavailable, message: "cannot connect to \(server): \(error)")
    }
    do {
        try await Commands(arguments: arguments, client: client, sessions: sessions, environment: environment).run()
    } catch {
        await client.close()
        throw error
    }
    await client.close()
} catch let error as UsageError {
    fail(error.description, status: 2)
} catch let error as ConflictError {
    fail("\(error.error.code): \(error.error.message)\n\(error.current)", status: Help.exitStatus(error.error.code))
} catch let error as RPCError {
    fail("\(error.code): \(error.message)", status: Help.exitStatus(error.code))
} catch {
    fail("\(error)", status: 1)
}
