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
        // The streaming calls read with `iterator.next()` rather than `for try await`: the loop form goes through
        // the standard library's `next(isolation:)`, which switches executors twice per message (gdb on
        // `swift_task_switch`), 8 % of the server's CPU in a 128-byte sink.
        router.registerBidirectional(DiagnosticsMethods.echoStream) {
            (requests: RPCMessageStream<EchoRequest>, responses: RPCMessageWriter<EchoResponse>, context) in
            _ = try Caller.required(try await self.authorize(context, DiagnosticsMethods.echoStream))
            var iterator = requests.makeAsyncIterator()
            while let request = try await iterator.next() {
                var response = EchoResponse()
                response.payload = request.payload
                try await responses.write(response)
            }
        }
        router.registerClientStreaming(DiagnosticsMethods.sink) {
            (requests: RPCMessageStream<SinkRequest>, context) in
            _ = try Caller.required(try await self.authorize(context, DiagnosticsMethods.sink))
            var response = SinkResponse()
            var iterator = requests.makeAsyncIterator()
            while let request = try await iterator.next() {
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
