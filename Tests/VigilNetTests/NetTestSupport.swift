// Shared plumbing for VigilNet tests over real loopback sockets: certificates minted per test, handlers that
// record what happened into Mutex-guarded logs the test can read from any thread, and waits that poll with a
// deadline so a bug fails a test in seconds instead of hanging the run.
import Synchronization
import Testing
import VigilNet
import VigilPOSIX
import VigilTLS

// The suites that open real sockets and servers run one at a time: each already runs hundreds of connections
// across both cores, and loaded in parallel their timing tests (handshake and idle timeouts) would measure the
// machine instead of the code.
@Suite("Loopback", .serialized)
enum LoopbackTests {}

/// Far above loopback latency, far below a hung CI job.
let testTimeout = Duration.seconds(20)

/// A server certificate for "localhost"/127.0.0.1 and contexts for both sides, minted for one test.
struct TestTLS {
    let server: TLSContext
    let client: TLSContext

    init() throws {
        let certificate = try SelfSignedCertificate()
        self.server = try TLSContext(
            configuration: .server(
                certificateChain: .bytes(certificate.certificatePEM), privateKey: .bytes(certificate.privateKeyPEM)))
        self.client = try TLSContext(
            configuration: .client(trustRoots: .certificates(.bytes(certificate.certificatePEM))))
    }
}

/// What happened to one connection, written on its loop and read by the test.
final class ConnectionLog: Sendable {
    struct State {
        var active = false
        var received: [UInt8] = []
        var receiveCalls = 0
        var closedCount = 0
        var error: ConnectionError?
        var inputClosed = false
        /// Every `writabilityChanged`, as the new `isWritable`.
        var writability: [Bool] = []
    }

    let state = Mutex(State())

    var active: Bool { self.state.withLock { $0.active } }
    var received: [UInt8] { self.state.withLock { $0.received } }
    var receivedCount: Int { self.state.withLock { $0.received.count } }
    var closedCount: Int { self.state.withLock { $0.closedCount } }
    var isClosed: Bool { self.closedCount > 0 }
    var errorCode: ConnectionError.Code? { self.state.withLock { $0.error?.code } }
    var writability: [Bool] { self.state.withLock { $0.writability } }
}

/// Logs everything and, when `echo` is set, writes every byte back, pausing its reads while the connection is
/// not writable (the backpressure a real protocol handler applies).
final class RecordingHandler: ConnectionHandler {
    let log: ConnectionLog
    let echo: Bool
    let onActive: ((TLSConnection) -> Void)?

    init(log: ConnectionLog, echo: Bool = false, onActive: ((TLSConnection) -> Void)? = nil) {
        self.log = log
        self.echo = echo
        self.onActive = onActive
    }

    func connectionActive(_ connection: TLSConnection) {
        self.log.state.withLock { $0.active = true }
        self.onActive?(connection)
    }

    func received(_ plaintext: [UInt8], on connection: TLSConnection) {
        #expect(!plaintext.isEmpty)
        self.log.state.withLock {
            $0.received.append(contentsOf: plaintext)
            $0.receiveCalls += 1
        }
        if self.echo {
            connection.write(plaintext)
            if !connection.isWritable {
                connection.isReadingEnabled = false
            }
        }
    }

    func writabilityChanged(_ connection: TLSConnection) {
        self.log.state.withLock { $0.writability.append(connection.isWritable) }
        if self.echo && connection.isWritable {
            connection.isReadingEnabled = true
        }
    }

    func inputClosed(_ connection: TLSConnection) {
        self.log.state.withLock { $0.inputClosed = true }
        connection.close()
    }

    func connectionClosed(_ connection: TLSConnection, error: ConnectionError?) {
        self.log.state.withLock {
            $0.closedCount += 1
            $0.error = error
        }
    }
}

/// Collects the logs of every connection a server accepted.
final class ServerLogs: Sendable {
    private let logs = Mutex<[ConnectionLog]>([])

    func make(echo: Bool) -> @Sendable (TLSConnection) -> any ConnectionHandler {
        { _ in
            let log = ConnectionLog()
            self.logs.withLock { $0.append(log) }
            return RecordingHandler(log: log, echo: echo)
        }
    }

    var all: [ConnectionLog] { self.logs.withLock { $0 } }
}

/// A group, a TLS echo server on 127.0.0.1 and a client context, torn down with `shutdown()`.
struct EchoServer {
    let group: EventLoopGroup
    let server: TCPServer
    let tls: TestTLS
    let logs: ServerLogs

    init(
        loops: Int = 2,
        maximumConnections: Int = 10_000,
        options: TLSConnection.Options = TLSConnection.Options(),
        descriptorReserve: Int = 64
    ) async throws {
        self.tls = try TestTLS()
        self.group = try EventLoopGroup(loopCount: loops, namePrefix: "test-loop")
        self.logs = ServerLogs()
        let configuration = TCPServer.Configuration(
            address: .ipv4Loopback(port: 0), tls: self.tls.server, maximumConnections: maximumConnections,
            connection: options, descriptorReserve: descriptorReserve)
        self.server = try await TCPServer(
            configuration: configuration, group: self.group, makeHandler: self.logs.make(echo: true))
    }

    var address: SocketAddress { self.server.localAddress }

    /// A TLS client on a loop of the server's group, waiting until its handshake finished.
    func connectClient(
        log: ConnectionLog,
        onActive: (@Sendable (TLSConnection) -> Void)? = nil
    ) async throws -> TLSConnection {
        try await TCPClient.connect(
            to: self.address, tls: self.tls.client, serverName: "127.0.0.1", on: self.group.next()
        ) { _ in RecordingHandler(log: log, onActive: onActive) }
    }

    func shutdown() async {
        await self.server.close()
        await self.group.shutdown()
    }
}

/// Random bytes from a seeded generator, so a failure can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(state: seed)
    var bytes = [UInt8](repeating: 0, count: count)
    var index = 0
    while index < count {
        var word = generator.next()
        for _ in 0..<8 where index < count {
            bytes[index] = UInt8(truncatingIfNeeded: word)
            word >>= 8
            index += 1
        }
    }
    return bytes
}
