// Token expiry and login lock-outs depend on "now". Reading the system clock directly would make expiry and
// lock-out tests sleep for real; every time-dependent auth type takes this clock instead, and tests pass a fake.
import Foundation

/// Whole seconds since the Unix epoch (UTC), as JWT `iat`/`exp` count them.
public struct AuthClock: Sendable {
    private let read: @Sendable () -> Int64

    /// A clock that answers `read()` each time it is asked.
    public init(_ read: @escaping @Sendable () -> Int64) {
        self.read = read
    }

    /// The current time in whole seconds since 1970-01-01T00:00:00Z.
    public func now() -> Int64 { self.read() }

    /// The system's wall clock, rounded down to the second.
    public static let system = AuthClock { Int64(Date().timeIntervalSince1970.rounded(.down)) }

    /// A clock stopped at `seconds`, for tests that need one fixed instant.
    public static func fixed(_ seconds: Int64) -> AuthClock { AuthClock { seconds } }
}
