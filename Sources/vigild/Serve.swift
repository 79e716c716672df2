// `vigild serve`: the RPC server on the configured address, with every handler of the service, until SIGINT or
// SIGTERM; then a graceful drain (health checks answer DRAINING, GOAWAY tells clients to move on, in-flight calls
// finish) and a clean close of the database.
import Foundation
import VigilNet
import VigilPOSIX
import VigilService
import VigilTLS

enum Serve {
    /// On the main actor, which `main.swift`'s top-level code runs on: the signal wait below blocks its thread for
    /// the server's lifetime, and that must be the main thread, never one of the cooperative pool's (two here).
    @MainActor
    static func run(_ configuration: Configuration, _ directory: DataDirectory, _ service: Service) async throws {
        // SQLite opens a file it may not write read-only without an error, and that connection never writes again,
        // even once the filesystem is writable: serving would answer every batch (and every login) UNAVAILABLE until
        // a restart. Refusing to start says what is wrong at once, and a supervisor's restart is what recovers.
        guard service.store.isWritable else {
            throw ConfigurationError(
                "the database \(configuration.resolvedDatabasePath) can only be opened read-only (a read-only "
                    + "filesystem or file): refusing to serve, no event could be stored; "
                    + "make it writable and start again")
        }
        // Signals become readiness on a descriptor before anything else starts, so none is lost to the default
        // action; a peer closing while we write must never kill the process.
        let signals = try SignalSource([.interrupt, .terminate])
        try Signal.brokenPipe.ignore()
        let tls = try TLSContext(configuration: .server(
            certificateChain: .bytes(directory.certificatePEM), privateKey: .bytes(directory.privateKeyPEM)
        ))
        let group = try EventLoopGroup(loopCount: configuration.eventLoops, namePrefix: "vigil-loop")
        let rpcConfiguration = RPCServer.Configuration(
            address: configuration.listen,
            tls: tls,
            maxConnections: configuration.maxConnections,
            maxConcurrentStreams: configuration.maxStreams,
            maxMessageBytes: configuration.maxMessageBytes,
            handshakeTimeout: configuration.handshakeTimeout,
            idleTimeout: configuration.idleTimeout
        )
        let server: RPCServer
        do {
            server = try await RPCServer(configuration: rpcConfiguration, router: service.server.makeRouter(), group: group)
        } catch {
            await group.shutdown()
            throw ConfigurationError("cannot listen on \(configuration.listen): \(error)")
        }
        Log.info("serving", [
            "address": .string("\(server.localAddress)"), "event_loops": .integer(Int64(configuration.eventLoops)),
        ])
        let retention = Retention.start(days: configuration.retentionDays, store: service.store)
        // The main thread has nothing else to do: handlers run on the event loops and the store's threads.
        var arrived: [Signal] = []
        while arrived.isEmpty { arrived = try signals.wait(timeout: nil) }
        Log.info("draining", ["signals": .string(arrived.map(\.description).joined(separator: ", "))])
        service.server.setDraining(true)
        retention?.cancel()
        await server.shutdown()
        await group.shutdown()
        // A retention pass in progress ends after its current chunk; the store must outlive it.
        await retention?.value
        service.close()
        Log.info("stopped")
    }
}
