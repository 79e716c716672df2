// `vigild serve`: the RPC server on the configured address, with every handler of the service, until SIGINT or
// SIGTERM; then a graceful drain (health checks answer DRAINING, GOAWAY tells clients to move on, in-flight calls
// finish) and a clean close of the database.
import Foundation
import VigilNet
import VigilPOSIX
import VigilService
import VigilTLS

enum Serve {
    static func run(_ configuration: Configuration, _ directory: DataDirectory, _ service: Service) async throws {
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
        note("serving on \(server.localAddress) with \(configuration.eventLoops) event loop(s); SIGINT or SIGTERM drains")
        // The main thread has nothing else to do: handlers run on the event loops and the store's threads.
        var arrived: [Signal] = []
        while arrived.isEmpty { arrived = try signals.wait(timeout: nil) }
        note("\(arrived.map(\.description).joined(separator: ", ")): draining")
        service.server.setDraining(true)
        await server.shutdown()
        await group.shutdown()
        service.close()
        note("stopped")
    }
}
