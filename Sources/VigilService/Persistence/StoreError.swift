// The one error type of the Store: what went wrong in domain terms, never in SQL terms, so that handlers (and a
// later PostgreSQL store) map failures to RPC statuses in one place, `statusCode`, without knowing the engine.
// Messages never contain bound values (usernames are fine, passwords and tokens never reach the store's errors).
public import VigilRPC

/// A failure of a `Store` operation.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure: the thing callers branch on.
    public var code: Code
    /// Human-readable detail, safe to log and to return to the caller.
    public var message: String
    /// The engine's own error when there was one (an `SQLiteError`), kept for logs, never shown to clients.
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The RPC status this failure answers with: the single mapping from storage failures to the API.
    public var statusCode: Status.Code { self.code.statusCode }

    public var description: String {
        var text = "StoreError \(self.code): \(self.message)"
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }
}

extension StoreError {
    /// Failure kinds as a struct of statics (not an enum), so a kind added later never breaks an exhaustive switch.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        /// The gRPC status code this kind maps to.
        public let statusCode: Status.Code

        private init(_ name: String, _ statusCode: Status.Code) {
            self.name = name
            self.statusCode = statusCode
        }

        /// The user, event, alert or token does not exist: NOT_FOUND.
        public static let notFound = Code("notFound", .notFound)
        /// Optimistic concurrency lost: the row changed since the caller read it (stale `expected_version`): ABORTED.
        public static let conflict = Code("conflict", .aborted)
        /// A unique value is taken (a username): ALREADY_EXISTS.
        public static let alreadyExists = Code("alreadyExists", .alreadyExists)
        /// The change would break an invariant the service keeps (it would leave no enabled admin):
        /// FAILED_PRECONDITION.
        public static let failedPrecondition = Code("failedPrecondition", .failedPrecondition)
        /// A page token that was tampered with, minted by another server, or belongs to another filter or order:
        /// INVALID_ARGUMENT.
        public static let invalidPageToken = Code("invalidPageToken", .invalidArgument)
        /// An argument the store cannot honour (an unspecified status, a page size out of range): INVALID_ARGUMENT.
        public static let invalidArgument = Code("invalidArgument", .invalidArgument)
        /// The database cannot take writes or answer now (disk full, read-only file, locked past the busy timeout,
        /// store shut down): UNAVAILABLE, so clients retry later.
        public static let unavailable = Code("unavailable", .unavailable)
        /// The caller may not use what it names (an ingest producer id that another user owns): PERMISSION_DENIED.
        public static let permissionDenied = Code("permissionDenied", .permissionDenied)
        /// The store's bounded work queue is full: RESOURCE_EXHAUSTED, the caller should slow down.
        public static let overloaded = Code("overloaded", .resourceExhausted)
        /// The caller was cancelled before the store started its work: CANCELLED.
        public static let cancelled = Code("cancelled", .cancelled)
        /// Anything else (corruption, a bug, a row the code cannot read): INTERNAL.
        public static let `internal` = Code("internal", .internal)

        public var description: String { self.name }
    }
}
