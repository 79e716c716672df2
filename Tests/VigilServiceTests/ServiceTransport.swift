// How this target's service tests reach a router: the in-process transport, which runs the real connection and
// stream machines over frame bytes without sockets. VigildTests compiles the same business-rule suites (symlinked)
// with its own `ServiceTransport` over real loopback TLS; both types offer exactly this surface, so the shared
// bodies cannot tell which one they run on (habit 11: key tests run twice).
import VigilRPC

/// Makes clients for routers; nothing to shut down in-process.
struct ServiceTransport: Sendable {
    /// Names the transport in failure messages.
    static let name = "in-process"

    init() throws {}

    func connect(_ router: Router) async throws -> any RPCClient {
        InProcessTransport(router: router)
    }

    func shutdown() async {}
}
