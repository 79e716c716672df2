// Tokens name the caller's role as a string ("admin"), as the Django original's claims did, rather than the
// protobuf number: a token read in a log or by jwt.io should say who it is for.
public import VigilAPI

extension Role {
    /// The roles a user can actually hold; `.unspecified` and unknown numbers grant nothing.
    public static let assignable: [Role] = [.admin, .analyst, .agent]

    /// The role's name in a token's `role` claim, or nil for a role no token may carry.
    public var claimName: String? {
        switch self {
        case .admin: "admin"
        case .analyst: "analyst"
        case .agent: "agent"
        case .unspecified, .unrecognized: nil
        }
    }

    /// The role named `claimName` in a token, or nil for any other string (matching is exact, case included).
    public init?(claimName: String) {
        switch claimName {
        case "admin": self = .admin
        case "analyst": self = .analyst
        case "agent": self = .agent
        default: return nil
        }
    }
}
