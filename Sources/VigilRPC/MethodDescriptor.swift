// The name and shape of one RPC, shared by the router (server) and the stubs (client) so neither spells a method
// path by hand.

/// How many messages each side of a call sends.
public enum MethodKind: Sendable, Hashable {
    case unary
    case clientStreaming
    case serverStreaming
    case bidirectionalStreaming
}

/// One method of a service: `/<package>.<Service>/<Method>` on the wire.
public struct MethodDescriptor: Sendable, Hashable, CustomStringConvertible {
    /// Fully qualified service name, for example `vigil.v1.Vigil`.
    public let service: String
    /// Method name as written in the .proto file, for example `ListAlerts`.
    public let method: String
    public let kind: MethodKind
    /// The path that travels in call headers. Stored: the access policy and the router look it up on every call.
    public let path: String

    public init(service: String, method: String, kind: MethodKind) {
        self.service = service
        self.method = method
        self.kind = kind
        self.path = "/\(service)/\(method)"
    }
    public var description: String { self.path }
}
