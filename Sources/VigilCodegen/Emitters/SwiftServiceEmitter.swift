// Emits a service's method descriptors, so the router and the client stubs name each RPC through one constant
// instead of spelling `/vigil.v1.Vigil/ListAlerts` by hand.

struct SwiftServiceEmitter {
    let service: ServiceModel

    func emit(into w: inout CodeWriter) {
        let service = self.service
        w.doc(service.comment)
        w.open("public enum \(service.swiftName)")
        w.line("/// The fully qualified service name, the first part of every method path.")
        w.line("public static let name = \(Naming.stringLiteral(service.fullName))")
        for method in service.methods {
            w.line()
            w.doc(method.comment)
            if method.comment != nil { w.line("///") }
            let request = method.clientStreaming ? "a stream of ``\(method.input.swiftName)``" : "``\(method.input.swiftName)``"
            let response =
                method.serverStreaming ? "a stream of ``\(method.output.swiftName)``" : "``\(method.output.swiftName)``"
            w.line("/// Request: \(request). Response: \(response).")
            w.call(
                "public static let \(method.swiftName) = MethodDescriptor",
                ["service: Self.name", "method: \(Naming.stringLiteral(method.name))", "kind: .\(method.kind)"]
            )
        }
        w.line()
        w.line("/// Every method, in declaration order.")
        w.list("public static let methods: [MethodDescriptor] = ", service.methods.map { "Self.\($0.swiftName)" })
        w.close()
    }
}
