// Who may call what, as one table keyed by method path, read before any handler runs. A method missing from the
// table is refused (deny by default), and a test holds the table to every method of VigilMethods and
// DiagnosticsMethods, so adding an RPC without deciding its roles fails the build's tests instead of leaving the
// RPC open.
public import VigilAPI
public import VigilRPC

/// What calling a method requires.
public enum Permission: Sendable, Hashable {
    /// No token: the call that obtains tokens, and health checks.
    case anyone
    /// A valid access token of one of these roles.
    case roles(Set<Role>)

    /// Any role a user can hold.
    public static let anyAuthenticated = Permission.roles(Set(Role.assignable))
    /// Administrators only.
    public static let adminOnly = Permission.roles([.admin])

    /// Whether a caller must present a token at all.
    public var requiresToken: Bool {
        if case .anyone = self { return false }
        return true
    }
}

/// The outcome of an access check.
public enum AccessDecision: Sendable, Hashable {
    case allowed
    /// A token is required and none was presented (UNAUTHENTICATED).
    case unauthenticated
    /// The caller's role may not call this method, or the method is unknown (PERMISSION_DENIED).
    case permissionDenied
}

/// The role × method table.
public struct AccessPolicy: Sendable {
    private let permissions: [String: Permission]
    /// Every method the table decides, in table order.
    public let methods: [MethodDescriptor]

    /// A policy from `table` (method path → permission). Each path must appear once.
    public init(_ table: [(MethodDescriptor, Permission)]) {
        var permissions: [String: Permission] = [:]
        for (method, permission) in table {
            precondition(permissions[method.path] == nil, "\(method.path) appears twice in the access policy")
            permissions[method.path] = permission
        }
        self.permissions = permissions
        self.methods = table.map(\.0)
    }

    /// The paths the table decides, sorted: a test compares them with the generated method lists.
    public var coveredPaths: [String] { self.permissions.keys.sorted() }

    /// What `method` requires, or nil when the table does not name it (then every call is refused).
    public func permission(for method: MethodDescriptor) -> Permission? { self.permissions[method.path] }

    /// What `path` requires, or nil when the table does not name it.
    public func permission(forPath path: String) -> Permission? { self.permissions[path] }

    /// Whether a caller with `role` (nil: no token presented) may call `method`.
    public func check(role: Role?, method: MethodDescriptor) -> AccessDecision {
        self.check(role: role, path: method.path)
    }

    /// Whether a caller with `role` (nil: no token presented) may call the method at `path`.
    public func check(role: Role?, path: String) -> AccessDecision {
        guard let permission = self.permissions[path] else { return .permissionDenied }
        switch permission {
        case .anyone:
            return .allowed
        case .roles(let allowed):
            guard let role else { return .unauthenticated }
            return allowed.contains(role) ? .allowed : .permissionDenied
        }
    }

    /// Vigil's table, as the business rules state it: admin everything, analyst read-only, agent ingest only;
    /// Authenticate, RefreshToken (which carries its own token in the request) and Check need no token.
    public static let vigil = AccessPolicy([
        (VigilMethods.authenticate, .anyone),
        (VigilMethods.refreshToken, .anyone),
        (VigilMethods.whoAmI, .anyAuthenticated),
        (VigilMethods.ingestEvents, .roles([.admin, .agent])),
        (VigilMethods.listEvents, .roles([.admin, .analyst])),
        (VigilMethods.getEvent, .roles([.admin, .analyst])),
        (VigilMethods.listAlerts, .roles([.admin, .analyst])),
        (VigilMethods.getAlert, .roles([.admin, .analyst])),
        (VigilMethods.updateAlert, .adminOnly),
        (VigilMethods.getStats, .roles([.admin, .analyst])),
        (VigilMethods.createUser, .adminOnly),
        (VigilMethods.updateUser, .adminOnly),
        (VigilMethods.listUsers, .adminOnly),
        (VigilMethods.getUser, .adminOnly),
        (DiagnosticsMethods.echo, .anyAuthenticated),
        (DiagnosticsMethods.echoStream, .anyAuthenticated),
        (DiagnosticsMethods.sink, .anyAuthenticated),
        (DiagnosticsMethods.check, .anyone),
    ])
}
