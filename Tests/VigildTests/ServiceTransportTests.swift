// Guards the second run of the business-rule suites (BusinessRules/, symlinked from VigilServiceTests): if this
// target's fixture ever fell back to the in-process transport, those suites would pass without proving anything
// about the network path, so this checks the fixture's calls really cross loopback TLS.
import Testing
import VigilAPI
import VigilNet
import VigilRPC

@testable import VigilService

@Suite struct ServiceTransportTests {
    @Test("the shared service fixture here talks to its server over a TLS connection on 127.0.0.1")
    func fixtureUsesLoopbackTLS() async throws {
        try await ServiceFixture.with { fixture in
            #expect(ServiceTransport.name == "loopback TLS")
            let connection = try #require(fixture.client as? RPCClientConnection)
            #expect(connection.isAvailable)
            let peers = Locked<[String]>([])
            var spy = Router()
            spy.registerUnary(DiagnosticsMethods.check) { (_: HealthCheckRequest, context: ServerContext) in
                peers.update { $0.append(context.peer) }
                return HealthCheckResponse()
            }
            let other = try await fixture.connect(spy)
            #expect(other is RPCClientConnection)
            _ = try await other.unary(
                DiagnosticsMethods.check, request: HealthCheckRequest(), responseType: HealthCheckResponse.self)
            #expect(peers.value.count == 1)
            #expect(peers.value.first?.hasPrefix("127.0.0.1:") == true, "\(peers.value)")
        }
    }
}
