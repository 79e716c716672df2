// Where SQLite's result codes become domain failures: the only place the store's callers' view of errors meets the
// engine's, so a PostgreSQL store writes its own version of this file and nothing else changes.
import VigilSQLite

extension StoreError {
    /// Maps any error thrown inside a store job: StoreErrors pass through, SQLite errors are classified by their
    /// primary code, anything else is internal. Constraint violations the store expects (a taken username) are
    /// translated where they happen, with a precise message; one reaching here is a bug, so it is internal.
    static func from(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        guard let error = error as? SQLiteError else {
            return StoreError(
                .internal, "unexpected storage failure", cause: DescribedError(description: String(describing: error)))
        }
        switch error.code {
        case .full:
            return StoreError(.unavailable, "the database disk is full", cause: error)
        case .readOnly:
            return StoreError(.unavailable, "the database is read-only", cause: error)
        case .busy, .locked:
            return StoreError(.unavailable, "the database is busy; retry later", cause: error)
        case .ioError, .cantOpen, .noMemory, .interrupt:
            return StoreError(.unavailable, "the database cannot be reached: \(error.code)", cause: error)
        default:
            return StoreError(.internal, "storage failure: \(error.code)", cause: error)
        }
    }
}

/// A non-Sendable or unknown error kept as text, so StoreError stays Sendable.
struct DescribedError: Error, Sendable, CustomStringConvertible {
    let description: String
}
