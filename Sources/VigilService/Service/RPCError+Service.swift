// Every failure a handler can meet, mapped to the status the client sees in one place: storage failures by
// `StoreError.statusCode`, hashing-pool refusals by what the caller should do next, refused tokens and passwords by
// one fixed message each. Messages here travel to the client, so none of them ever quotes a token, a password or a
// hash; the local cause stays in `cause` for logs.
import VigilRPC

extension RPCError {
    /// The one answer to wrong credentials, whether the username exists or not: the caller must not learn which.
    static let badCredentials = RPCError(code: .unauthenticated, message: "invalid username or password")

    /// The one answer to a token that is missing, malformed, forged, expired, revoked or of a disabled user.
    static let badToken = RPCError(code: .unauthenticated, message: "missing, invalid, expired or revoked token")

    /// A storage failure, with the status its code maps to. The store's messages are safe to show (they never hold
    /// bound values other than ids and usernames).
    init(store error: StoreError) {
        self.init(code: error.statusCode, message: error.message, cause: error)
    }

    /// A hashing-pool refusal: full queue → RESOURCE_EXHAUSTED (retry later), shut down → UNAVAILABLE, cancelled
    /// → CANCELLED.
    init(pool error: HashingPoolError) {
        switch error.code {
        case .busy:
            self.init(
                code: .resourceExhausted, message: "the server is busy checking passwords; retry later", cause: error)
        case .cancelled:
            self.init(code: .cancelled, message: "the call was cancelled", cause: error)
        default:
            self.init(code: .unavailable, message: "the server is shutting down", cause: error)
        }
    }

    /// A password the policy refuses: INVALID_ARGUMENT with the policy's sentence (which never quotes it).
    init(policy error: PasswordPolicyError) {
        self.init(code: .invalidArgument, message: error.message, cause: error)
    }

    /// Runs a store call and maps its failure.
    static func mappingStore<T>(_ body: () async throws(StoreError) -> T) async throws(RPCError) -> T {
        do {
            return try await body()
        } catch {
            throw RPCError(store: error)
        }
    }
}
