// Guessing credentials: passwords (the login throttle locks the (username, address) pair after 5 failures and
// answers RESOURCE_EXHAUSTED with retry-after) and access tokens (signed, so every guess is UNAUTHENTICATED).
import VigilAPI
import VigilClient
import VigilRPC
import VigilTLS

enum AuthAttacks {
    static func code(of error: any Error) -> Status.Code? { (error as? RPCError)?.code }

    static func bruteForce(_ context: AttackContext, username: String) async -> Verdict {
        do {
            let options = context.options
            let guesser = try await VigilClient.connect(host: options.host, port: options.port, caFile: options.caFile)
            defer { Task { await guesser.close() } }
            var unauthenticated = 0
            var exhausted = 0
            var firstLock: Int?
            var other: [String] = []
            for attempt in 1...30 {
                do {
                    try await guesser.authenticate(
                        username: username, password: "guess-\(attempt)-\(UInt64.random(in: 0...UInt64.max))")
                    other.append("attempt \(attempt) logged in")
                } catch {
                    switch Self.code(of: error) {
                    case .unauthenticated: unauthenticated += 1
                    case .resourceExhausted:
                        exhausted += 1
                        if firstLock == nil { firstLock = attempt }
                    default: other.append("\(error)")
                    }
                }
            }
            // Token guessing: random bearer tokens on WhoAmI.
            var tokenRejected = 0
            for _ in 0..<200 {
                let random = (0..<32).map { _ in "0123456789abcdef".randomElement() ?? "0" }
                let tokens = SessionTokens(
                    accessToken: String(random), accessExpiresAt: Int64.max / 2,
                    refreshToken: String(random.reversed()),
                    refreshExpiresAt: Int64.max / 2)
                let forger = VigilClient(transport: guesser.transport, tokens: tokens)
                do {
                    _ = try await forger.whoAmI(timeout: .seconds(5))
                    other.append("a random token was accepted")
                } catch {
                    if Self.code(of: error) == .unauthenticated { tokenRejected += 1 } else { other.append("\(error)") }
                }
            }
            let passed =
                firstLock.map { $0 <= 6 } == true && exhausted == 30 - unauthenticated && other.isEmpty
                && tokenRejected == 200
            return Verdict(
                passed: passed,
                detail: "offender UNAUTHENTICATED \(unauthenticated)x then RESOURCE_EXHAUSTED \(exhausted)x "
                    + "(locked at attempt \(firstLock.map(String.init) ?? "never")), \(tokenRejected)/200 forged "
                    + "tokens UNAUTHENTICATED\(other.isEmpty ? "" : "; unexpected: \(other.prefix(2))")")
        } catch {
            return Verdict(passed: false, detail: "attack failed: \(error)")
        }
    }
}
