// The server's own duties: the connection limit, and what real TLS tooling sees on the port (TLS 1.3 only).
import Foundation
import Testing
import VigilNet
import VigilPOSIX
import VigilTesting

extension LoopbackTests {
    @Suite("TCPServer")
    struct TCPServerTests {
        @Test("accepts and closes at once the connections beyond the limit, and counts them")
        func maximumConnections() async throws {
            let server = try await EchoServer(maximumConnections: 2)
            let first = ConnectionLog()
            let second = ConnectionLog()
            let firstClient = try await server.connectClient(log: first)
            _ = try await server.connectClient(log: second)
            try await eventually("two connections") { server.server.connectionCount == 2 }

            let third = ConnectionLog()
            await #expect(throws: ConnectionError.self) { _ = try await server.connectClient(log: third) }
            #expect(third.closedCount == 1)
            #expect(server.server.rejectedConnectionCount == 1)
            #expect(server.server.connectionCount == 2)

            firstClient.eventLoop.execute { firstClient.close() }
            try await eventually("a free slot") { server.server.connectionCount == 1 }
            let fourth = ConnectionLog()
            _ = try await server.connectClient(log: fourth) { $0.write([9]) }
            try await eventually("the echo") { fourth.receivedCount == 1 }
            #expect(server.server.rejectedConnectionCount == 1)
            await server.shutdown()
        }

        @Test("stops accepting and closes its connections on close()")
        func closeServer() async throws {
            let server = try await EchoServer()
            let log = ConnectionLog()
            _ = try await server.connectClient(log: log)
            try await eventually("the connection") { server.server.connectionCount == 1 }
            await server.server.close()
            try await eventually("the client to be closed") { log.isClosed }
            let tls = server.tls
            await #expect(throws: ConnectionError.self) {
                _ = try await TCPClient.connect(
                    to: server.address, tls: tls.client, serverName: "127.0.0.1", on: server.group.next()
                ) { _ in RecordingHandler(log: ConnectionLog()) }
            }
            await server.group.shutdown()
        }

        @Test(
            "completes an openssl s_client handshake with -tls1_3 and refuses -tls1_2 and -tls1_1",
            .enabled(if: Subprocess.which("openssl") != nil && Subprocess.which("timeout") != nil)
        )
        func opensslClient() async throws {
            let server = try await EchoServer()
            let port = "127.0.0.1:\(server.address.port)"
            let modern = try await runOffPool("timeout", ["10", "openssl", "s_client", "-connect", port, "-tls1_3"])
            #expect(modern.status == 0, "\(modern.stderrText)")
            #expect(modern.stdoutText.contains("TLSv1.3"))
            let legacy = try await runOffPool("timeout", ["10", "openssl", "s_client", "-connect", port, "-tls1_2"])
            #expect(legacy.status != 0 && legacy.status != 124, "\(legacy.stdoutText)")
            #expect(!legacy.stdoutText.contains("Cipher is ECDHE") && !legacy.stdoutText.contains("TLSv1.2, Cipher"))
            // TLS 1.1 with the client's security level lowered, so the refusal is the server's and not OpenSSL's
            // client defaults.
            let older = try await runOffPool(
                "timeout", ["10", "openssl", "s_client", "-connect", port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
            #expect(older.status != 0 && older.status != 124, "\(older.stdoutText)")
            #expect(!older.stdoutText.contains("Cipher is ECDHE") && !older.stdoutText.contains("TLSv1.1, Cipher"))
            try await eventually("the server to log all three") {
                server.logs.all.count == 3 && server.logs.all.allSatisfy(\.isClosed)
            }
            #expect(server.logs.all.contains { $0.errorCode == .tls })
            await server.shutdown()
        }
    }
}

/// Runs a program on a thread of its own: `Subprocess.run` waits for the child, which must not hold a thread of
/// the cooperative pool (the server's loops are separate threads, but other tests share the pool).
private func runOffPool(_ name: String, _ arguments: [String]) async throws -> ProcessResult {
    guard let executable = Subprocess.which(name) else { throw TimedOut(what: "\(name) on PATH") }
    return try await withCheckedThrowingContinuation { continuation in
        do {
            _ = try POSIXThread(name: "subprocess") {
                continuation.resume(with: Result { try Subprocess.run(executable, arguments) })
            }
        } catch {
            continuation.resume(throwing: error)
        }
    }
}
