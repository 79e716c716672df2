// `vigil.v1.Diagnostics`: calls that exercise the transport (Echo, EchoStream, Sink) for tests and vigilbench, and
// a health check (Check) for orchestrators. The transport calls need a valid token of any role, so an open port is
// not a free echo service; Check needs none, because a load balancer probing health holds no credentials.
import VigilAPI
import VigilRPC

extension VigilServer {
    func registerDiagnostics(into router: inout Router) {
        self.authenticatedUnary(&router, DiagnosticsMethods.echo) { (request: EchoRequest, _, _) in
            var response = EchoResponse()
            response.payload = request.payload
            return response
        }
        router.registerBidirectional(DiagnosticsMethods.echoStream) {
            (requests: RPCMessageStream<EchoRequest>, responses: RPCMessageWriter<EchoResponse>, context) in
            _ = try Caller.required(try await self.authorize(context, DiagnosticsMethods.echoStream))
            for try await request in requests {
                var response = EchoResponse()
                response.payload = request.payload
                try await responses.write(response)
            }
        }
        router.registerClientStreaming(DiagnosticsMethods.sink) {
            (requests: RPCMessageStream<SinkRequest>, context) in
            _ = try Caller.required(try await self.authorize(context, DiagnosticsMethods.sink))
            var response = SinkResponse()
            for try await request in requests {
                response.messages += 1
                response.bytes += UInt64(request.payload.count)
            }
            return response
        }
        self.unary(&router, DiagnosticsMethods.check) { (_: HealthCheckRequest, _, _) in
            var response = HealthCheckResponse()
            response.status = self.servingStatus
            return response
        }
    }
}
