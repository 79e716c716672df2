// What the service needs from storage, in domain terms: no SQL, no connections, no engine types. SQLiteStore is the
// implementation today; a PostgreSQL one can follow by implementing these methods and its own StoreError mapping.
// Every method is async because every implementation blocks on I/O somewhere else (a thread, a socket); every
// failure is a StoreError whose code names the RPC status it answers with.
public import VigilAPI

public protocol Store: Sendable {
    // MARK: Users

    /// Creates a user; a username taken case-insensitively is `alreadyExists`.
    func createUser(_ user: NewUser) async throws(StoreError) -> StoredUser
    /// The user with this id, or nil.
    func user(id: Int64) async throws(StoreError) -> StoredUser?
    /// The user with this username (compared case-insensitively), or nil.
    func user(username: String) async throws(StoreError) -> StoredUser?
    /// Users ordered by id, optionally of one role.
    func listUsers(role: Role?, pageSize: Int32, pageToken: String) async throws(StoreError) -> Page<User>
    /// Applies `changes`; disabling or a password change revokes every earlier token. Unknown id: `notFound`; with
    /// `changes.keepsAnEnabledAdmin`, a change that would leave no enabled admin: `failedPrecondition`.
    func updateUser(id: Int64, _ changes: UserChanges) async throws(StoreError) -> StoredUser
    /// Replaces a user's password hash with a stronger hash of the same password, only if it is still `oldHash`
    /// (a concurrent reset wins); revokes nothing, since the password did not change. True when it replaced it.
    func upgradePasswordHash(userID: Int64, from oldHash: String, to newHash: String) async throws(StoreError) -> Bool
    /// A counter that changes after every committed change to an existing user (role, disabled, password, token
    /// epoch): whoever caches what it read about users compares it to know the cache is still right.
    var usersChanged: UInt64 { get }
    /// True when no user exists yet (vigild then creates the first admin).
    func hasUsers() async throws(StoreError) -> Bool

    // MARK: Refresh tokens

    func storeRefreshToken(_ record: RefreshTokenRecord) async throws(StoreError)
    func refreshToken(id: String) async throws(StoreError) -> RefreshTokenRecord?
    /// Atomically revokes `presentedID` and stores `successor` when it was active; when it was already revoked,
    /// revokes its whole family instead (reuse detection) and stores nothing.
    func rotateRefreshToken(presentedID: String, successor: RefreshTokenRecord) async throws(StoreError)
        -> RotationOutcome
    /// Revokes one token; true when it was active until now.
    func revokeRefreshToken(id: String) async throws(StoreError) -> Bool
    /// Revokes every still-active token of a family; returns how many.
    func revokeRefreshFamily(_ familyID: String) async throws(StoreError) -> Int
    /// Revokes every still-active token of a user; returns how many.
    func revokeAllRefreshTokens(userID: Int64) async throws(StoreError) -> Int

    // MARK: Events and alerts

    /// Stores a batch in one transaction: each event gets an id and `received_at`, each HIGH/CRITICAL one exactly
    /// one OPEN alert, and an event whose idempotency key this user already stored is a duplicate. All or nothing.
    func insertEvents(_ events: [NewEvent], submittedBy: ActingUser) async throws(StoreError) -> [InsertOutcome]
    /// The producer's owner and highest committed sequence, or nil for a producer never seen. Answered after every
    /// batch submitted before the call is committed, so a stream that takes a producer over sees its predecessor's
    /// last batches.
    func producer(id: [UInt8]) async throws(StoreError) -> ProducerState?
    /// Queues one batch of a producer for the next group commit and calls `completion` once, after that commit
    /// (or with the failure that prevented it), on the store's writer thread. Batches submitted one after another
    /// complete in that order. Inside the transaction: a sequence at or below the producer's mark is a duplicate
    /// batch (nothing stored), one past it is stored (events, alerts, new mark), one further is
    /// `failedPrecondition`, and a producer owned by another user is `permissionDenied`.
    func submitIngest(
        _ batch: IngestBatch,
        completion: @escaping @Sendable (Result<IngestOutcome, StoreError>) -> Void
    )
    func event(id: Int64) async throws(StoreError) -> EventDetail?
    func listEvents(_ query: EventQuery) async throws(StoreError) -> Page<Event>
    func alert(id: Int64) async throws(StoreError) -> AlertDetail?
    func listAlerts(_ query: AlertQuery) async throws(StoreError) -> Page<Alert>
    /// Sets the status if the alert is still at `expectedVersion` (else `conflict`), appending to its history.
    func updateAlert(id: Int64, status: AlertStatus, expectedVersion: Int64, by actor: ActingUser)
        async throws(StoreError) -> Alert
    func stats() async throws(StoreError) -> StoreStats

    // MARK: Maintenance

    /// Deletes events that occurred before `cutoff` (ns since the epoch) whose alert is absent or RESOLVED,
    /// together with that alert and its history.
    func deleteEvents(occurredBefore cutoff: Int64) async throws(StoreError) -> RetentionResult
}
