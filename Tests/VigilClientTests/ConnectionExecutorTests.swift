// `VigilClient.connectionExecutor` over real loopback TLS: a task that prefers it makes its calls on the event loop
// of its connection (the thread the response bytes arrive on), for clients from `VigilClient.connect` and from a
// `VigilConnector`; a client on another transport has none.
import Testing
import VigilAPI
import VigilClient
import VigilNet
import VigilRPC
import VigilTesting

@Suite struct ConnectionExecutorTests {
    /// Makes `calls` calls in a task preferring the client's executor and reports, after each, whether the task
    /// runs on the connection's loop thread.
    static func callsRunOnLoop(_ client: VigilClient, calls: Int) async throws -> [Bool] {
        let executor = try #require(client.connectionExecutor)
        let loop = try #require(executor as? EventLoop)
        #expect(!loop.inEventLoop, "the test itself starts off the loop")
        return try await Task(executorPreference: executor) {
            var onLoop: [Bool] = []
            for _ in 0..<calls {
                _ = try await client.getStats()
                onLoop.append(loop.inEventLoop)
            }
            return onLoop
        }.value
    }

    @Test("a task preferring a connected client's executor runs its calls on the connection's loop")
    func connectedClient() async throws {
        let server = try await LoopbackIngestServer()
        try await server.withClient { client in
            let onLoop = try await Self.callsRunOnLoop(client, calls: 20)
            #expect(onLoop == Array(repeating: true, count: 20))
        }
    }

    @Test("clients of one connector report the loop their own connection was given")
    func connectorClients() async throws {
        let server = try await LoopbackIngestServer()
        let connector = try VigilConnector(host: "127.0.0.1", port: server.port, caFile: server.caFile, loopCount: 2)
        var clients: [VigilClient] = []
        do {
            for _ in 0..<2 {
                let client = try await connector.connect()
                try await client.authenticate(username: "admin", password: ingestPassword)
                clients.append(client)
            }
            let loops = try clients.map { client in try #require(client.connectionExecutor as? EventLoop) }
            #expect(loops[0] !== loops[1], "round robin puts the two connections on different loops")
            for client in clients {
                let onLoop = try await Self.callsRunOnLoop(client, calls: 10)
                #expect(onLoop == Array(repeating: true, count: 10))
            }
        } catch {
            Issue.record(error)
        }
        for client in clients { await client.disconnect() }
        await connector.shutdown()
        await server.shutdown()
    }

    @Test("an in-process client has no connection executor")
    func inProcessClient() async throws {
        try await withIngestClient { client in
            #expect(client.connectionExecutor == nil)
        }
    }
}
