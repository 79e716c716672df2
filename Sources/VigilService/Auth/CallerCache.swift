// Every authenticated call used to verify its token (base64, HMAC, a JSONDecoder pass) and then read its user on
// the store's reader thread and back: most of a unary call's server time. The cache remembers, per token (keyed by
// the call's whole `authorization` value, which holds it), the caller it resolved to, so repeated calls with the
// same token skip both.
//
// Never stale where it matters: an entry is used only while (1) the store's user-change counter is what it was
// when the user was read (every UpdateUser, so every disable, role change and password reset, bumps it after its
// commit, and the entry records the counter read before the user was), (2) the token has not expired, and (3) it
// is younger than `lifetime`, which bounds how long a change made outside this process (an operator's sqlite3)
// goes unseen. Memory is bounded: at `capacity` entries the cache starts over.
import Synchronization

final class CallerCache: Sendable {
    private struct Entry {
        let caller: Caller
        let usersChanged: UInt64
        let cachedAt: Int64
    }

    let capacity: Int
    /// Seconds an entry is trusted at most.
    let lifetime: Int64
    private let entries = Mutex<[String: Entry]>([:])

    init(capacity: Int = 10_000, lifetime: Int64 = 5) {
        self.capacity = capacity
        self.lifetime = lifetime
    }

    /// The caller the token in `key` (an `authorization` value) resolved to, if that is still known to be right at
    /// `now` with the store's counter at `usersChanged`.
    func caller(for key: String, usersChanged: UInt64, now: Int64) -> Caller? {
        self.entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.usersChanged == usersChanged, entry.caller.claims.expiresAt > now,
                now - entry.cachedAt < self.lifetime
            else {
                entries[key] = nil
                return nil
            }
            return entry.caller
        }
    }

    /// Remembers `caller` for `key`; `usersChanged` must have been read before the caller's user was.
    func remember(_ caller: Caller, for key: String, usersChanged: UInt64, now: Int64) {
        self.entries.withLock { entries in
            if entries.count >= self.capacity && entries[key] == nil { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(caller: caller, usersChanged: usersChanged, cachedAt: now)
        }
    }

    var count: Int { self.entries.withLock { $0.count } }
}
