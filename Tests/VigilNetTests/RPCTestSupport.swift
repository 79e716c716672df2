// Shared pieces of the RPC-over-sockets tests: a small test message, the router every test serves, and a fixture
// that runs the same test body over the in-process transport or over real loopback TLS (habit 11: key tests run
// twice, so a behaviour that differs between the fake and the network shows up as one failing row).
import Synchronization
import Testing
import VigilNet
import VigilPOSIX
import VigilRPC
import VigilTesting
import VigilWire

/// The shared test message, under the name these tests grew up with.
typealias RPCTestMessage = TestMessage

enum NetMethods {
    static let service = "vigil.test.Net"
    static let echo = MethodDescriptor(service: service, method: "Echo", kind: .unary)
    static let count = MethodDescriptor(service: service, method: "Count", kind: .serverStreaming)
    static let sum = MethodDescriptor(service: service, method: "Sum", kind: .clientStreaming)
    static let pingPong = MethodDescriptor(service: service, method: "PingPong", kind: .bidirectionalStreaming)
    static let sleep = MethodDescriptor(service: service, method: "Sleep", kind: .unary)
    static let forever = MethodDescriptor(service: service, method: "Forever", kind: .serverStreaming)
    static let slowSink = MethodDescriptor(service: service, method: "SlowSink", kind: .clientStreaming)
    static let missing = MethodDescriptor(service: service, method: "Missing", kind: .unary)
}

/// A value shared between handlers and the test body.
final class NetShared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func get() -> Value { self.value.withLock { $0 } }
    func update<Result: Sendable>(_ body: (inout Value) -> Result) -> Result { self.value.withLock { body(&$0) } }
}

/// What the handlers report: why each stopped (by method name) and how many bytes the slow sink has read.
struct NetRecord: Sendable {
    var stopped: [String: Status.Code] = [:]
    var sunkBytes = 0
}

func netRouter(_ record: NetShared<NetRecord>) -> Router {
    var router = Router()
    router.registerUnary(NetMethods.echo) { (request: RPCTestMessage, _: ServerContext) in request }
    router.registerServerStreaming(NetMethods.count) {
        (request: RPCTestMessage, writer: RPCMessageWriter<RPCTestMessage>, _: ServerContext) in
        for number in 1...max(request.number, 1) { try await writer.write(RPCTestMessage(number)) }
    }
    router.registerClientStreaming(NetMethods.sum) {
        (requests: RPCMessageStream<RPCTestMessage>, _: ServerContext) -> RPCTestMessage in
        var total: UInt64 = 0
        var expected: UInt64 = 1
        for try await request in requests {
            guard request.number == expected else { throw RPCError(code: .dataLoss, message: "out of order") }
            total += request.number
            expected += 1
        }
        return RPCTestMessage(total)
    }
    router.registerBidirectional(NetMethods.pingPong) {
        (requests: RPCMessageStream<RPCTestMessage>, writer: RPCMessageWriter<RPCTestMessage>, _: ServerContext) in
        for try await request in requests { try await writer.write(RPCTestMessage(request.number + 1)) }
    }
    router.registerUnary(NetMethods.sleep) { (request: RPCTestMessage, context: ServerContext) in
        do {
            try await Task.sleep(for: .seconds(600))
        } catch {
            record.update { $0.stopped["sleep"] = context.cancellationCode }
            throw error
        }
        return request
    }
    router.registerServerStreaming(NetMethods.forever) {
        (_: RPCTestMessage, writer: RPCMessageWriter<RPCTestMessage>, context: ServerContext) in
        var number: UInt64 = 1
        do {
            while true {
                try await writer.write(RPCTestMessage(number))
                number += 1
            }
        } catch {
            record.update { $0.stopped["forever"] = context.cancellationCode ?? .unknown }
            throw error
        }
    }
    // Raw, so 64 MiB cost no decoding: reads a message, then naps every 16 messages (a slow consumer).
    router.register(NetMethods.slowSink) { io, _ in
        var messages = 0
        while let message = try await io.receive() {
            messages += 1
            record.update { $0.sunkBytes += message.count }
            if messages % 16 == 0 { try await Task.sleep(for: .milliseconds(1)) }
        }
        try await io.send(RPCTestMessage(UInt64(messages)).serializedBytes())
    }
    return router
}

/// The status a call body ended with (OK when it returned).
func statusCode(_ body: () async throws -> Void) async -> Status.Code? {
    do {
        try await body()
        return .ok
    } catch let error as RPCError {
        return error.code
    } catch {
        return nil
    }
}

/// A group, an RPC server on 127.0.0.1 and a way to connect clients to it.
struct RPCTestServer {
    let group: EventLoopGroup
    let server: RPCServer
    let tls: TestTLS

    init(router: Router, configure: (inout RPCServer.Configuration) -> Void = { _ in }) async throws {
        self.tls = try TestTLS()
        self.group = try EventLoopGroup(loopCount: 2, namePrefix: "rpc-test-loop")
        var configuration = RPCServer.Configuration(address: .ipv4Loopback(port: 0), tls: self.tls.server)
        configure(&configuration)
        self.server = try await RPCServer(configuration: configuration, router: router, group: self.group)
    }

    func connect() async throws -> RPCClientConnection {
        try await RPCClientConnection.connect(
            to: self.server.localAddress, tls: self.tls.client, serverName: "127.0.0.1", on: self.group.next())
    }

    func shutdown() async {
        await self.server.shutdown()
        await self.group.shutdown()
    }
}

/// Where a test body's calls go.
enum RPCTransportKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case inProcess
    case loopbackTLS
    var description: String { self.rawValue }
}

/// One client on either transport, with the record its server's handlers write.
struct RPCFixture {
    let client: any RPCClient
    let record: NetShared<NetRecord>
    let network: RPCTestServer?
    let connection: RPCClientConnection?
    /// Request bytes the server holds unread by handlers (flow control must bound it).
    let serverBufferedBytes: @Sendable () -> Int

    init(_ kind: RPCTransportKind, configure: (inout RPCServer.Configuration) -> Void = { _ in }) async throws {
        let record = NetShared(NetRecord())
        self.record = record
        switch kind {
        case .inProcess:
            var configuration = RPCServer.Configuration(address: .ipv4Loopback(port: 0), tls: try TestTLS().server)
            configure(&configuration)
            let transport = InProcessTransport(router: netRouter(record), serverSettings: configuration.settings)
            self.client = transport
            self.serverBufferedBytes = { transport.serverBufferedRequestBytes }
            self.network = nil
            self.connection = nil
        case .loopbackTLS:
            let network = try await RPCTestServer(router: netRouter(record), configure: configure)
            let connection = try await network.connect()
            self.client = connection
            let server = network.server
            self.serverBufferedBytes = { server.bufferedRequestBytes }
            self.network = network
            self.connection = connection
        }
    }

    func shutdown() async {
        await self.network?.shutdown()
    }
}
