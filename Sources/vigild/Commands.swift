// The offline commands: `vigild user add` (manage users without a running server, for a first admin of your own
// choosing or a recovery) and `vigild backup` (a consistent copy of a live database, while the server writes).
// Both open the same database through the same code as `serve`.
import Foundation
import VigilAPI
import VigilService

enum Commands {
    static let userAddUsage = """
        usage: vigild user add --username NAME --role admin|analyst|agent [OPTIONS]
        The password is read from standard input (one line). OPTIONS are those of `vigild --help` (--data-dir, --db, ...).
        """

    static let backupUsage = """
        usage: vigild backup --to FILE [OPTIONS]
        Copies the live database to FILE (which must not exist) with SQLite's online backup; the server may keep running.
        """

    /// Pulls `--name VALUE` (or `--name=VALUE`) out of `arguments`, leaving the rest for Configuration.
    static func take(_ name: String, from arguments: inout [String]) throws -> String? {
        for (index, argument) in arguments.enumerated() {
            if argument == "--" + name {
                guard index + 1 < arguments.count else { throw ConfigurationError("--\(name) needs a value") }
                let value = arguments[index + 1]
                arguments.removeSubrange(index...(index + 1))
                return value
            }
            if argument.hasPrefix("--\(name)=") {
                arguments.remove(at: index)
                return String(argument.dropFirst(name.count + 3))
            }
        }
        return nil
    }

    static func userAdd(_ arguments: [String], environment: [String: String]) async throws {
        var arguments = arguments
        guard let username = try take("username", from: &arguments), let roleName = try take("role", from: &arguments) else {
            throw ConfigurationError("--username and --role are required\n\n\(userAddUsage)")
        }
        guard let role = Role(claimName: roleName.lowercased()) else {
            throw ConfigurationError("--role must be admin, analyst or agent")
        }
        let configuration = try Configuration.parse(flags: arguments, environment: environment)
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ConfigurationError("no password on standard input")
        }
        let service = try Service.open(configuration, try DataDirectory.prepare(configuration))
        defer { service.close() }
        let user = try await service.server.createUser(username: username, password: line, role: role)
        print("created user \(user.user.username) (id \(user.user.id), role \(roleName.lowercased()))")
    }

    static func backup(_ arguments: [String], environment: [String: String]) async throws {
        var arguments = arguments
        guard let target = try take("to", from: &arguments) else {
            throw ConfigurationError("--to is required\n\n\(backupUsage)")
        }
        guard !FileManager.default.fileExists(atPath: target) else {
            throw ConfigurationError("\(target) exists; a backup never overwrites a file")
        }
        let configuration = try Configuration.parse(flags: arguments, environment: environment)
        guard FileManager.default.fileExists(atPath: configuration.resolvedDatabasePath) else {
            throw ConfigurationError("no database at \(configuration.resolvedDatabasePath)")
        }
        let service = try Service.open(configuration, try DataDirectory.prepare(configuration))
        defer { service.close() }
        try await service.store.backup(to: target)
        print("backed up \(configuration.resolvedDatabasePath) to \(target)")
    }
}
