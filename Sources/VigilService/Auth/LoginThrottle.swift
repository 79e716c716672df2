// Password guessing is throttled per (username, client address), not per username: counting per username alone
// would let anyone lock the admin out from anywhere by failing on purpose, while the pair only slows the address
// that is guessing. Failures are counted in a fixed window; reaching the limit locks the pair, and each further
// lock-out of the same pair doubles (up to a cap), so a patient guesser gets slower, not a fresh allowance.
// Memory is bounded: entries expire, and past `maximumEntries` the least useful one is evicted.
import Synchronization

/// Counts failed logins and says when a (username, address) pair must wait.
public final class LoginThrottle: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Failures within `window` that lock the pair.
        public var maximumFailures = 5
        /// Seconds over which failures are counted, from the first one.
        public var window: Int64 = 15 * 60
        /// Seconds of the first lock-out; each later one of the same pair is twice the previous.
        public var lockout: Int64 = 15 * 60
        /// The longest lock-out, however many came before.
        public var maximumLockout: Int64 = 24 * 60 * 60
        /// Pairs remembered at once: at most about 1 KiB each (keys are cut to 128 + 64 characters), so the
        /// default holds under 10 MiB.
        public var maximumEntries = 10_000

        public init() {}
    }

    /// Whether a login attempt may proceed.
    public enum Decision: Sendable, Hashable {
        case allowed
        /// Too many failures: answer RESOURCE_EXHAUSTED with `retry-after` = `retryAfter` seconds (at least 1).
        case locked(retryAfter: Int64)
    }

    struct Key: Hashable {
        let username: String
        let address: String
    }

    struct Entry {
        var failures = 0
        var windowStart: Int64
        var lockedUntil: Int64 = 0
        var lockouts = 0
        var lastSeen: Int64
    }

    public let configuration: Configuration
    private let clock: AuthClock
    private let entries = Mutex<[Key: Entry]>([:])

    public init(configuration: Configuration = Configuration(), clock: AuthClock = .system) {
        precondition(configuration.maximumFailures >= 1 && configuration.maximumEntries >= 1, "empty throttle")
        precondition(configuration.window > 0 && configuration.lockout > 0, "throttle periods must be positive")
        self.configuration = configuration
        self.clock = clock
    }

    /// Pairs currently remembered (for tests and metrics).
    public var entryCount: Int { self.entries.withLock { $0.count } }

    /// Whether `username` may try a password from `address` now. Ask before verifying, so a locked pair costs no
    /// hashing. Usernames compare without case, so "Admin" and "admin" share one count.
    public func check(username: String, address: String) -> Decision {
        let now = self.clock.now()
        let key = Self.key(username, address)
        return self.entries.withLock { entries in
            guard let entry = entries[key], entry.lockedUntil > now else { return .allowed }
            return .locked(retryAfter: entry.lockedUntil - now)
        }
    }

    /// Records a failed attempt; returns `locked` when this failure (or an earlier one) locks the pair.
    @discardableResult
    public func recordFailure(username: String, address: String) -> Decision {
        let now = self.clock.now()
        let key = Self.key(username, address)
        let configuration = self.configuration
        return self.entries.withLock { entries in
            if entries[key] == nil, entries.count >= configuration.maximumEntries {
                Self.evict(from: &entries, now: now, configuration: configuration)
            }
            var entry = entries[key] ?? Entry(windowStart: now, lastSeen: now)
            defer { entries[key] = entry }
            entry.lastSeen = now
            if entry.lockedUntil > now { return .locked(retryAfter: entry.lockedUntil - now) }
            if now - entry.windowStart >= configuration.window || entry.failures == 0 {
                entry.windowStart = now
                entry.failures = 0
            }
            entry.failures += 1
            guard entry.failures >= configuration.maximumFailures else { return .allowed }
            let duration = Self.lockoutDuration(after: entry.lockouts, configuration: configuration)
            entry.lockouts += 1
            entry.failures = 0
            entry.lockedUntil = now + duration
            return .locked(retryAfter: duration)
        }
    }

    /// Forgets the pair after a successful login: the person who knows the password starts from zero.
    public func recordSuccess(username: String, address: String) {
        let key = Self.key(username, address)
        _ = self.entries.withLock { $0.removeValue(forKey: key) }
    }

    // MARK: Parts

    /// Usernames and addresses are cut to a bounded length so that an entry's size is bounded too, whatever a
    /// client sends; names sharing a 128-character prefix share a count, which only makes throttling stricter.
    private static func key(_ username: String, _ address: String) -> Key {
        Key(username: String(username.lowercased().prefix(128)), address: String(address.prefix(64)))
    }

    /// `lockout` × 2^previous, capped at `maximumLockout`, without overflowing.
    static func lockoutDuration(after previous: Int, configuration: Configuration) -> Int64 {
        var duration = configuration.lockout
        for _ in 0..<min(previous, 62) {
            guard duration < configuration.maximumLockout else { break }
            duration *= 2
        }
        return max(1, min(duration, max(configuration.maximumLockout, configuration.lockout)))
    }

    /// Makes room for one entry: first drops every entry that no longer matters (unlocked and idle past its
    /// window and past the longest lock-out, so doubling is not forgotten early); if that is not enough, drops
    /// the unlocked entries seen longest ago, then the locks that end soonest. Evicting an eighth of the table at
    /// a time keeps a spray of new usernames from paying a full scan per failure.
    private static func evict(from entries: inout [Key: Entry], now: Int64, configuration: Configuration) {
        let memory = max(configuration.window, configuration.maximumLockout)
        entries = entries.filter { _, entry in entry.lockedUntil > now || now - entry.lastSeen < memory }
        let excess = entries.count - configuration.maximumEntries + 1
        guard excess > 0 else { return }
        let batch = max(excess, configuration.maximumEntries / 8)
        var victims = entries.filter { $0.value.lockedUntil <= now }
            .sorted { $0.value.lastSeen < $1.value.lastSeen }
            .prefix(batch)
            .map(\.key)
        if victims.count < excess {
            victims += entries.filter { $0.value.lockedUntil > now }
                .sorted { $0.value.lockedUntil < $1.value.lockedUntil }
                .prefix(excess - victims.count)
                .map(\.key)
        }
        for key in victims { entries.removeValue(forKey: key) }
    }
}
