// The holes of the Django system Vigil replaces (a public default signing key, reusable refresh tokens, analysts able
// to create alerts), tried against a real vigild over loopback TLS: forged tokens, refresh-token reuse, privilege
// escalation, injection-shaped filters and page tokens, and user enumeration by timing. Each forgery is first shown
// to be well-formed: the same claims signed with the server's real secret are accepted, so a refusal below is the
// server's judgement and not a malformed test token.
import Foundation
import Testing
import VigilAPI
import VigilClient
import VigilRPC
import VigilTLS
import VigilWire

@Suite(.serialized) struct OriginalHolesTests {
    static let password = "a long enough password 1"

    // MARK: Forged tokens

    @Test("forged tokens (alg none, algorithm confusion, empty or guessed keys, tampered claims) are UNAUTHENTICATED")
    func forgedTokens() async throws {
        let server = try await RunningVigild(prefix: "holes-forged")
        defer { server.stop() }
        let admin = try await server.adminClient()
        let analyst = try await Self.createUser(admin, "ana", .analyst)
        let adminID = try #require(try await admin.whoAmI().user).id
        let anaTokens = try await Self.login(server, "ana")
        var secret = try Array(Data(contentsOf: URL(fileURLWithPath: server.dataDirectory + "/token-secret")))
        while secret.last == 0x0A { secret.removeLast() }
        let certificate = try Array(Data(contentsOf: URL(fileURLWithPath: server.caFile)))

        let now = Int64(Date().timeIntervalSince1970)
        func claims(userID: Int64, role: String, type: String = "access", jti: String) -> String {
            #"{"user_id":\#(userID),"role":"\#(role)","token_type":"\#(type)","iat":\#(now),"exp":\#(now + 600),"jti":"\#(jti)"}"#
        }
        let hs256 = #"{"alg":"HS256","typ":"JWT"}"#

        // The control: our forging is right, so what follows tests the server.
        let control = try Self.forge(header: hs256, payload: claims(userID: analyst, role: "analyst", jti: "c1"), key: secret)
        #expect(await Self.code(server, VigilMethods.whoAmI, WhoAmIRequest(), token: control) == .ok)

        let anaClaims = claims(userID: analyst, role: "analyst", jti: "f1")
        var forgeries: [(String, String)] = [
            ("alg none, no signature", Self.segment(#"{"alg":"none","typ":"JWT"}"#) + "." + Self.segment(anaClaims) + "."),
            ("alg none, real signature", try Self.forge(header: #"{"alg":"none"}"#, payload: anaClaims, key: secret)),
            ("alg HS512 signed with the real key", try Self.forge(header: #"{"alg":"HS512"}"#, payload: anaClaims, key: secret)),
            ("alg RS256 signed with the real key", try Self.forge(header: #"{"alg":"RS256"}"#, payload: anaClaims, key: secret)),
            ("HS256 keyed with the public certificate (RS256/HS256 confusion)",
             try Self.forge(header: hs256, payload: anaClaims, key: certificate)),
            ("HS256 keyed with an empty key", try Self.forge(header: hs256, payload: anaClaims, key: [])),
            ("a signature from another token", Self.replacingSignature(of: control, with: anaTokens.refreshToken)),
            ("a truncated signature", String(control.dropLast(4))),
        ]
        for guess in ["secret", "changeme", "vigil", "django-insecure-0123456789abcdefghijklmnopqrstuvwxyz", String(repeating: "0", count: 64)] {
            forgeries.append(("HS256 keyed with the guess \(guess.prefix(16))", try Self.forge(header: hs256, payload: anaClaims, key: Array(guess.utf8))))
        }
        // Ana's own real token with one claim changed and the signature kept.
        let (realHeader, realPayload, realSignature) = try Self.split(anaTokens.accessToken)
        let payloadText = String(decoding: try Self.unsegment(realPayload), as: UTF8.self)
        let tampered: [(String, String)] = [
            ("role", payloadText.replacingOccurrences(of: #""role":"analyst""#, with: #""role":"admin""#)),
            ("user_id", payloadText.replacingOccurrences(of: #""user_id":\#(analyst)"#, with: #""user_id":\#(adminID)"#)),
            ("exp", payloadText.replacingOccurrences(of: #""exp":"#, with: #""exp":9"#)),
        ]
        for (claim, text) in tampered {
            #expect(text != payloadText, "the \(claim) claim was not found in \(payloadText)")
            forgeries.append(("a tampered \(claim) claim", realHeader + "." + Self.segment(text) + "." + realSignature))
        }

        for (name, token) in forgeries {
            #expect(await Self.code(server, VigilMethods.whoAmI, WhoAmIRequest(), token: token) == .unauthenticated, "\(name)")
            #expect(await Self.code(server, VigilMethods.listUsers, ListUsersRequest(), token: token) == .unauthenticated, "\(name)")
        }

        // Even a token signed with the real key that claims admin gives no admin rights: the stored role decides.
        let promoted = try Self.forge(header: hs256, payload: claims(userID: analyst, role: "admin", jti: "p1"), key: secret)
        #expect(await Self.code(server, VigilMethods.listUsers, ListUsersRequest(), token: promoted) == .permissionDenied)
        // And a refresh token never works as a bearer, however it is signed.
        let refreshAsAccess = try Self.forge(
            header: hs256, payload: claims(userID: adminID, role: "admin", type: "refresh", jti: "r1"), key: Array("secret".utf8))
        #expect(await Self.code(server, VigilMethods.whoAmI, WhoAmIRequest(), token: refreshAsAccess) == .unauthenticated)
    }

    // MARK: Refresh-token reuse

    @Test("a refresh token works once; presenting it again revokes every token descended from it")
    func refreshTokenReuse() async throws {
        let server = try await RunningVigild(prefix: "holes-refresh")
        defer { server.stop() }
        let admin = try await server.adminClient()
        _ = try await Self.createUser(admin, "ana", .analyst)
        let first = try await Self.login(server, "ana")
        let second = try await Self.refresh(server, first.refreshToken)
        #expect(await Self.code(server, VigilMethods.whoAmI, WhoAmIRequest(), token: second.accessToken) == .ok)
        // The stolen first refresh token, replayed: refused, and the legitimate holder's newer one dies with it.
        #expect(await Self.refreshCode(server, first.refreshToken) == .unauthenticated)
        #expect(await Self.refreshCode(server, second.refreshToken) == .unauthenticated)
        // A new login starts a new family.
        let third = try await Self.login(server, "ana")
        #expect(await Self.refreshCode(server, third.refreshToken) == .ok)
    }

    // MARK: Privilege escalation

    @Test("analysts and agents get PERMISSION_DENIED from every admin RPC and cannot raise their own role")
    func privilegeEscalation() async throws {
        let server = try await RunningVigild(prefix: "holes-escalation")
        defer { server.stop() }
        let admin = try await server.adminClient()
        let adminID = try #require(try await admin.whoAmI().user).id
        var event = Event()
        event.sourceName = "host-1"
        event.eventType = "login"
        event.severity = .critical
        event.description = "seed"
        _ = try await admin.ingest([event])
        let alert = try #require(try await admin.listAlerts(ListAlertsRequest()).alerts.first)

        for role in [Role.analyst, .agent] {
            let name = role == .analyst ? "ana" : "probe"
            let selfID = try await Self.createUser(admin, name, role)
            let token = try await Self.login(server, name).accessToken
            var create = CreateUserRequest()
            create.username = "mallory-\(name)"
            create.password = Self.password
            create.role = .admin
            var promoteSelf = UpdateUserRequest()
            promoteSelf.id = selfID
            promoteSelf.role = .admin
            var disableAdmin = UpdateUserRequest()
            disableAdmin.id = adminID
            disableAdmin.disabled = true
            var resetAdmin = UpdateUserRequest()
            resetAdmin.id = adminID
            resetAdmin.newPassword = "attacker chosen password"
            var getAdmin = GetUserRequest()
            getAdmin.lookup = .id(adminID)
            var resolve = UpdateAlertRequest()
            resolve.id = alert.id
            resolve.status = .resolved
            resolve.expectedVersion = alert.version
            let denied: [(String, Status.Code)] = [
                ("CreateUser", await Self.code(server, VigilMethods.createUser, create, token: token)),
                ("UpdateUser self to admin", await Self.code(server, VigilMethods.updateUser, promoteSelf, token: token)),
                ("UpdateUser disable admin", await Self.code(server, VigilMethods.updateUser, disableAdmin, token: token)),
                ("UpdateUser reset admin password", await Self.code(server, VigilMethods.updateUser, resetAdmin, token: token)),
                ("ListUsers", await Self.code(server, VigilMethods.listUsers, ListUsersRequest(), token: token)),
                ("GetUser", await Self.code(server, VigilMethods.getUser, getAdmin, token: token)),
                ("UpdateAlert", await Self.code(server, VigilMethods.updateAlert, resolve, token: token)),
            ]
            for (call, code) in denied { #expect(code == .permissionDenied, "\(role) \(call)") }
            if role == .agent {
                #expect(await Self.code(server, VigilMethods.listAlerts, ListAlertsRequest(), token: token) == .permissionDenied)
                #expect(await Self.code(server, VigilMethods.getStats, GetStatsRequest(), token: token) == .permissionDenied)
            } else {
                // An analyst cannot create events, so cannot create alerts either (the Django hole).
                let client = try await server.client()
                try await client.authenticate(username: name, password: Self.password)
                let code = await Self.statusCode { _ = try await client.ingest([event]) }
                #expect(code == .permissionDenied)
            }
        }
        // Nothing changed: no new admin, the admin still works with its password, the alert is still open.
        let users = try await admin.listUsers(ListUsersRequest()).users
        #expect(users.filter { $0.role == .admin }.map(\.username) == ["admin"])
        let again = try await server.client()
        try await again.authenticate(username: "admin", password: RunningVigild.adminPassword)
        #expect(try await again.getAlert(id: alert.id).alert?.status == .open)
    }

    // MARK: Injection-shaped input

    static let hostile = [
        "' OR '1'='1", "'; DROP TABLE events; --", "\" OR \"\"=\"", "%", "_", "%host%", "*", "\\", "host-1' --",
        "1) UNION SELECT password_hash FROM users --", "\u{0}", "ホスト", String(repeating: "A", count: 4096),
    ]

    @Test("injection-shaped filters match only themselves; such page tokens are INVALID_ARGUMENT; nothing is harmed")
    func injectionShapedInput() async throws {
        let server = try await RunningVigild(prefix: "holes-injection")
        defer { server.stop() }
        let admin = try await server.adminClient()
        var events: [Event] = []
        for source in ["host-1", "host-2", "' OR '1'='1"] {
            var event = Event()
            event.sourceName = source
            event.eventType = source == "host-2" ? "%" : "login"
            event.severity = .high
            event.description = "from \(source)"
            events.append(event)
        }
        let summary = try await admin.ingest(events)
        #expect(summary.accepted == 3)
        let before = try await admin.getStats()

        for text in Self.hostile {
            let expectedSources = events.filter { $0.sourceName == text }.count
            let expectedTypes = events.filter { $0.eventType == text }.count
            var bySource = ListEventsRequest()
            bySource.filter = EventFilter()
            bySource.filter?.sourceName = text
            var byType = ListEventsRequest()
            byType.filter = EventFilter()
            byType.filter?.eventType = text
            let shown = text.prefix(20)
            do {
                #expect(try await admin.listEvents(bySource).events.count == expectedSources, "source \(shown)")
                #expect(try await admin.listEvents(byType).events.count == expectedTypes, "type \(shown)")
                var alerts = ListAlertsRequest()
                alerts.filter = AlertFilter()
                alerts.filter?.sourceName = text
                #expect(try await admin.listAlerts(alerts).alerts.count == expectedSources, "alert source \(shown)")
            } catch {
                // A filter the server refuses outright (NUL, oversized) must say INVALID_ARGUMENT, nothing else.
                #expect(VigilClient.statusName(of: error) == "INVALID_ARGUMENT", "\(shown): \(error)")
            }
            let lookup = await Self.statusCode { _ = try await admin.getUser(username: text) }
            #expect(lookup == .notFound || lookup == .invalidArgument, "GetUser \(shown)")

            for token in [text, Data(text.utf8).base64EncodedString()] {
                var events = ListEventsRequest()
                events.pageToken = token
                var alerts = ListAlertsRequest()
                alerts.pageToken = token
                var users = ListUsersRequest()
                users.pageToken = token
                #expect(await Self.statusCode { _ = try await admin.listEvents(events) } == .invalidArgument, "\(shown)")
                #expect(await Self.statusCode { _ = try await admin.listAlerts(alerts) } == .invalidArgument, "\(shown)")
                #expect(await Self.statusCode { _ = try await admin.listUsers(users) } == .invalidArgument, "\(shown)")
            }
        }
        let after = try await admin.getStats()
        #expect(after == before)
        #expect(try await admin.listEvents(ListEventsRequest()).events.count == 3)
        #expect(try await admin.listUsers(ListUsersRequest()).users.count == 1)
    }

    // MARK: User enumeration by timing

    @Test("a wrong password and an unknown user answer alike and take the same time")
    func enumerationByTiming() async throws {
        let server = try await RunningVigild(prefix: "holes-timing")
        defer { server.stop() }
        let admin = try await server.adminClient()
        let known = (0..<10).map { "known\($0)" }
        for name in known { _ = try await Self.createUser(admin, name, .analyst) }
        let client = try await server.client()
        var knownTimes: [Double] = []
        var unknownTimes: [Double] = []
        var answers = Set<String>()
        // Interleaved, two tries per name: under the throttle's five, and the machine's noise hits both sides alike.
        for round in 0..<2 {
            for (index, name) in known.enumerated() {
                for (user, isKnown) in [(name, true), ("nobody\(round)-\(index)", false)] {
                    let start = ContinuousClock.now
                    do {
                        try await client.authenticate(username: user, password: "wrong password, long enough")
                        Issue.record("\(user) logged in with a wrong password")
                    } catch let error as RPCError {
                        answers.insert("\(error.code) \(error.message)")
                    }
                    let elapsed = (ContinuousClock.now - start) / .milliseconds(1)
                    if isKnown { knownTimes.append(elapsed) } else { unknownTimes.append(elapsed) }
                }
            }
        }
        #expect(answers.count == 1, "answers differ: \(answers)")
        #expect(answers.first?.hasPrefix("UNAUTHENTICATED") == true)
        let knownMedian = Self.median(knownTimes)
        let unknownMedian = Self.median(unknownTimes)
        let ratio = knownMedian / unknownMedian
        #expect(ratio > 0.67 && ratio < 1.5, "median known \(knownMedian) ms vs unknown \(unknownMedian) ms")
    }

    // MARK: Helpers

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    static func createUser(_ admin: VigilClient, _ name: String, _ role: Role) async throws -> Int64 {
        var request = CreateUserRequest()
        request.username = name
        request.password = Self.password
        request.role = role
        return try #require(try await admin.createUser(request).user).id
    }

    static func login(_ server: RunningVigild, _ name: String) async throws -> TokenPair {
        let client = try await server.client()
        let response = try await client.authenticate(username: name, password: Self.password)
        return try #require(response.tokens)
    }

    static func refresh(_ server: RunningVigild, _ refreshToken: String) async throws -> TokenPair {
        var request = RefreshTokenRequest()
        request.refreshToken = refreshToken
        let client = try await server.client()
        let response = try await client.transport.unary(
            VigilMethods.refreshToken, request: request, responseType: RefreshTokenResponse.self)
        return try #require(response.tokens)
    }

    static func refreshCode(_ server: RunningVigild, _ refreshToken: String) async -> Status.Code {
        await Self.statusCode { _ = try await Self.refresh(server, refreshToken) }
    }

    /// The status a call with `token` as its bearer gets, straight from the server (no client refresh or retry).
    static func code<Request: WireMessage & Sendable>(
        _ server: RunningVigild, _ method: MethodDescriptor, _ request: Request, token: String
    ) async -> Status.Code {
        await Self.statusCode {
            var metadata = Metadata()
            metadata.append("authorization", "Bearer " + token)
            let client = try await server.client()
            _ = try await client.transport.unary(
                method, request: request, responseType: RawMessage.self, metadata: metadata)
        }
    }

    static func statusCode(_ body: () async throws -> Void) async -> Status.Code {
        do {
            try await body()
            return .ok
        } catch let error as RPCError {
            return error.code
        } catch {
            return .unknown
        }
    }

    // JWT pieces, written here so the test does not trust the server's own codec.
    static func segment(_ text: String) -> String { Self.segment(Array(text.utf8)) }

    static func segment(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func unsegment(_ text: Substring) throws -> [UInt8] {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return try Array(#require(Data(base64Encoded: base64)))
    }

    static func forge(header: String, payload: String, key: [UInt8]) throws -> String {
        let input = Self.segment(header) + "." + Self.segment(payload)
        return input + "." + Self.segment(try HMACSHA256.authenticationCode(key: key, message: Array(input.utf8)))
    }

    static func split(_ token: String) throws -> (Substring, Substring, Substring) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        try #require(parts.count == 3)
        return (parts[0], parts[1], parts[2])
    }

    static func replacingSignature(of token: String, with other: String) -> String {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        let signature = other.split(separator: ".", omittingEmptySubsequences: false).last ?? ""
        return parts.dropLast().joined(separator: ".") + "." + signature
    }
}

/// Any response, undecoded: these calls are judged by their status alone.
struct RawMessage: WireMessage {
    static let protoMessageName = "vigil.test.RawMessage"
    static let wireFields: [WireFieldDescriptor] = []
    var unknownFields = UnknownFields()

    init() {}
    func serializedSize() -> Int { 0 }
    func write(to writer: inout WireWriter) {}
    mutating func decodeField(_ tag: FieldTag, from reader: inout WireReader) throws(WireDecodingError) {
        try reader.skip(tag)
    }
}
