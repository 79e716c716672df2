// Syscalls a connection spends per read turn, counted on the loop thread (`/proc/thread-self/io`): a read that
// comes back short has drained the socket, and level-triggered epoll reports later bytes anew, so asking again
// would only cost an EAGAIN.
import Synchronization
import Testing
import VigilNet
import VigilPOSIX
import VigilTesting

/// What the client counted, read by the test from its own thread.
private final class PingPongCounts: Sendable {
    /// Read syscalls per round, the counters' own reading included.
    let readsPerRound = Mutex<[Int]>([])
    /// Reads that reading the counters costs by itself.
    let readingCost = Mutex<Int?>(nil)
}

/// Sends a small message, waits for its echo, records the read syscalls its loop thread spent since it sent, and
/// sends the next one.
private final class PingPongClient: ConnectionHandler {
    let message: [UInt8]
    let rounds: Int
    let counts: PingPongCounts
    private var pending = 0
    private var last: ThreadSyscalls?

    init(message: [UInt8], rounds: Int, counts: PingPongCounts) {
        self.message = message
        self.rounds = rounds
        self.counts = counts
    }

    func connectionActive(_ connection: TLSConnection) {
        if let first = try? ThreadSyscalls.current(), let second = try? ThreadSyscalls.current() {
            self.counts.readingCost.withLock { $0 = (second - first).reads }
        }
        self.ping(connection)
    }

    private func ping(_ connection: TLSConnection) {
        self.pending = self.message.count
        self.last = try? ThreadSyscalls.current()
        connection.write(self.message)
    }

    func received(_ plaintext: [UInt8], on connection: TLSConnection) {
        self.pending -= plaintext.count
        guard self.pending <= 0 else { return }
        if let now = try? ThreadSyscalls.current(), let last = self.last {
            self.counts.readsPerRound.withLock { $0.append((now - last).reads) }
        }
        if self.counts.readsPerRound.withLock({ $0.count }) < self.rounds {
            self.ping(connection)
        }
    }

    func writabilityChanged(_ connection: TLSConnection) {}
    func inputClosed(_ connection: TLSConnection) { connection.close() }
    func connectionClosed(_ connection: TLSConnection, error: ConnectionError?) {}
}

extension LoopbackTests {
    @Suite("Read syscalls")
    struct ReadSyscallTests {
        @Test("a message that arrives in one read costs one read syscall, not a second one that finds EAGAIN")
        func shortReadEndsTheTurn() async throws {
            let server = try await EchoServer(loops: 1)
            // Its own loop, so the server's reads are not counted with the client's.
            let clientLoop = try EventLoop(name: "test-client")
            let counts = PingPongCounts()
            let connection = try await TCPClient.connect(
                to: server.address, tls: server.tls.client, serverName: "127.0.0.1", on: clientLoop
            ) { _ in PingPongClient(message: Array(repeating: 7, count: 200), rounds: 50, counts: counts) }
            try await eventually("50 round trips", timeout: testTimeout) {
                counts.readsPerRound.withLock { $0.count } == 50
            }
            let cost = try #require(counts.readingCost.withLock { $0 })
            let socketReads = counts.readsPerRound.withLock { $0 }.map { $0 - cost }.sorted()
            // The median round: one read of the echo. (Now and then an echo arrives split and needs two.)
            #expect(socketReads[socketReads.count / 2] == 1, "socket reads per round: \(socketReads)")
            _ = try await clientLoop.submit { connection.close() }
            await clientLoop.shutdown()
            await server.shutdown()
        }
    }
}
