// The role × method matrix, checked three ways: against an expected table written out from the business rules,
// against the "Roles:" line of each method's generated doc comment (so the .proto and the policy cannot drift), and
// for coverage: every generated method is in the table, so none is silently open or silently closed.
import Foundation
import Testing
import VigilAPI
import VigilRPC
import VigilService
import VigilTesting

@Suite struct AuthAccessPolicyTests {
    static let policy = AccessPolicy.vigil
    static let allMethods = VigilMethods.methods + DiagnosticsMethods.methods

    /// The business rules, written independently of `AccessPolicy.vigil`: method name → roles allowed, or nil for
    /// methods that need no token.
    static let expected: [String: Set<Role>?] = [
        "Authenticate": nil, "RefreshToken": nil,
        "WhoAmI": [.admin, .analyst, .agent],
        "IngestEvents": [.admin, .agent],
        "ListEvents": [.admin, .analyst], "GetEvent": [.admin, .analyst],
        "ListAlerts": [.admin, .analyst], "GetAlert": [.admin, .analyst],
        "GetStats": [.admin, .analyst],
        "UpdateAlert": [.admin], "CreateUser": [.admin], "UpdateUser": [.admin], "ListUsers": [.admin],
        "GetUser": [.admin],
        "Echo": [.admin, .analyst, .agent], "EchoStream": [.admin, .analyst, .agent],
        "Sink": [.admin, .analyst, .agent],
        "Check": nil,
    ]

    @Test("every generated method is in the table, and the table names nothing else")
    func coverage() {
        #expect(Self.policy.coveredPaths == Self.allMethods.map(\.path).sorted())
        #expect(Self.policy.methods.map(\.path) == Self.allMethods.map(\.path))
        #expect(Set(Self.expected.keys) == Set(Self.allMethods.map(\.method)))
        for method in Self.allMethods {
            #expect(Self.policy.permission(for: method) != nil, "\(method.path) has no permission")
        }
    }

    @Test("every method × every caller gets the decision the business rules give", arguments: Self.allMethods)
    func matrix(method: MethodDescriptor) throws {
        let allowed = try #require(Self.expected[method.method])
        let callers: [Role?] = [nil] + Role.knownCases.map(Optional.some) + [.unrecognized(42)]
        for caller in callers {
            let decision = Self.policy.check(role: caller, method: method)
            let want: AccessDecision
            switch (allowed, caller) {
            case (nil, _): want = .allowed
            case (_?, nil): want = .unauthenticated
            case (let roles?, let role?): want = roles.contains(role) ? .allowed : .permissionDenied
            }
            #expect(decision == want, "\(method.path) as \(caller.map(\.protoName) ?? "anonymous")")
            #expect(Self.policy.check(role: caller, path: method.path) == want)
        }
    }

    @Test("admin may call everything; the unspecified role nothing that needs a token")
    func extremes() {
        for method in Self.allMethods {
            #expect(Self.policy.check(role: .admin, method: method) == .allowed)
            let needsToken = Self.policy.permission(for: method)?.requiresToken ?? true
            #expect(
                Self.policy.check(role: .unspecified, method: method) == (needsToken ? .permissionDenied : .allowed))
        }
    }

    @Test("an unknown method is refused to everyone, admin included")
    func unknownMethod() {
        let stray = MethodDescriptor(service: VigilMethods.name, method: "DropDatabase", kind: .unary)
        #expect(Self.policy.permission(for: stray) == nil)
        for caller in [nil, Role.admin, .analyst, .agent] {
            #expect(Self.policy.check(role: caller, method: stray) == .permissionDenied)
        }
        #expect(Self.policy.check(role: .admin, path: "/vigil.v1.vigil/listevents") == .permissionDenied)
    }

    @Test("the table agrees with the 'Roles:' line of every generated doc comment")
    func docComments() throws {
        let files = [
            "Sources/VigilAPI/Generated/vigil_v1_vigil_service.pb.swift",
            "Sources/VigilAPI/Generated/vigil_v1_diagnostics.pb.swift",
        ]
        var documented: [String: String] = [:]
        for file in files {
            let text = try String(contentsOfFile: Repository.path(file), encoding: .utf8)
            var roles: String?
            for line in text.split(separator: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("/// Roles:") { roles = String(trimmed.dropFirst("/// Roles:".count)) }
                // `method: "Name"` sits on the MethodDescriptor line, or on its own line when the call wraps.
                if let pending = roles, let start = trimmed.range(of: "method: \"") {
                    let name = trimmed[start.upperBound...].prefix { $0 != "\"" }
                    documented[String(name)] = pending.trimmingCharacters(in: .whitespaces)
                    roles = nil
                }
            }
        }
        for method in Self.allMethods {
            let line = try #require(documented[method.method], "no Roles: line for \(method.method)")
            switch Self.policy.permission(for: method) {
            case .anyone:
                #expect(line.hasPrefix("anyone"), "\(method.method): \(line)")
            case .roles(let roles):
                let named = Set(
                    line.trimmingCharacters(in: CharacterSet(charactersIn: ".")).components(separatedBy: ", "))
                if named.count == 1, named.first?.hasPrefix("anyone") == true {
                    // "anyone holding a valid refresh token" would mean no access token: not this case.
                    Issue.record("\(method.method) is documented as open but needs a role")
                } else {
                    #expect(named == Set(roles.compactMap(\.claimName)), "\(method.method): \(line)")
                }
            case nil:
                Issue.record("\(method.method) is not in the policy")
            }
        }
    }
}
