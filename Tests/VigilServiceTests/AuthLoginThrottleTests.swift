// LoginThrottle with a hand-moved clock: lock-out after the limit, retry-after counting down, other addresses and
// other usernames unaffected, success resetting, windows expiring, lock-outs doubling, and the entry cap holding.
import Testing
import VigilService

@Suite struct AuthLoginThrottleTests {
    let clock = ManualClock()

    func throttle(_ configure: (inout LoginThrottle.Configuration) -> Void = { _ in }) -> LoginThrottle {
        var configuration = LoginThrottle.Configuration()
        configure(&configuration)
        return LoginThrottle(configuration: configuration, clock: self.clock.clock)
    }

    @Test("the defaults are 5 failures in 15 minutes, locked 15 minutes")
    func defaults() {
        let configuration = LoginThrottle.Configuration()
        #expect(configuration.maximumFailures == 5)
        #expect(configuration.window == 900)
        #expect(configuration.lockout == 900)
    }

    @Test("the fifth failure locks the pair; retry-after counts down to the end of the lock")
    func locks() {
        let throttle = self.throttle()
        for _ in 0..<4 {
            #expect(throttle.check(username: "admin", address: "10.0.0.1") == .allowed)
            #expect(throttle.recordFailure(username: "admin", address: "10.0.0.1") == .allowed)
        }
        #expect(throttle.recordFailure(username: "admin", address: "10.0.0.1") == .locked(retryAfter: 900))
        #expect(throttle.check(username: "admin", address: "10.0.0.1") == .locked(retryAfter: 900))
        self.clock.advance(by: 600)
        #expect(throttle.check(username: "admin", address: "10.0.0.1") == .locked(retryAfter: 300))
        // A failure while locked does not extend the lock.
        #expect(throttle.recordFailure(username: "admin", address: "10.0.0.1") == .locked(retryAfter: 300))
        self.clock.advance(by: 299)
        #expect(throttle.check(username: "admin", address: "10.0.0.1") == .locked(retryAfter: 1))
        self.clock.advance(by: 1)
        #expect(throttle.check(username: "admin", address: "10.0.0.1") == .allowed)
    }

    @Test("another address, or another username, is not locked out; usernames ignore case")
    func isolation() {
        let throttle = self.throttle()
        for _ in 0..<5 { throttle.recordFailure(username: "admin", address: "203.0.113.9") }
        #expect(throttle.check(username: "admin", address: "203.0.113.9") != .allowed)
        #expect(throttle.check(username: "ADMIN", address: "203.0.113.9") != .allowed)
        #expect(throttle.check(username: "admin", address: "10.0.0.1") == .allowed)
        #expect(throttle.check(username: "alice", address: "203.0.113.9") == .allowed)
    }

    @Test("a success resets the count")
    func successResets() {
        let throttle = self.throttle()
        for _ in 0..<4 { throttle.recordFailure(username: "bob", address: "a") }
        throttle.recordSuccess(username: "bob", address: "a")
        #expect(throttle.entryCount == 0)
        for _ in 0..<4 { #expect(throttle.recordFailure(username: "bob", address: "a") == .allowed) }
        #expect(throttle.recordFailure(username: "bob", address: "a") != .allowed)
    }

    @Test("failures older than the window no longer count")
    func windowExpires() {
        let throttle = self.throttle()
        for _ in 0..<4 { throttle.recordFailure(username: "carol", address: "a") }
        self.clock.advance(by: 900)
        for _ in 0..<4 { #expect(throttle.recordFailure(username: "carol", address: "a") == .allowed) }
        #expect(throttle.recordFailure(username: "carol", address: "a") == .locked(retryAfter: 900))
    }

    @Test("each further lock-out of a pair doubles, up to the cap")
    func doubling() {
        let throttle = self.throttle { $0.maximumLockout = 3000 }
        var durations: [Int64] = []
        for _ in 0..<4 {
            var last = LoginThrottle.Decision.allowed
            for _ in 0..<5 { last = throttle.recordFailure(username: "dave", address: "a") }
            guard case .locked(let retryAfter) = last else {
                Issue.record("not locked")
                return
            }
            durations.append(retryAfter)
            self.clock.advance(by: retryAfter)
        }
        #expect(durations == [900, 1800, 3000, 3000])
    }

    @Test("the entry cap holds, evicting idle entries before locked ones")
    func cap() {
        let throttle = self.throttle { $0.maximumEntries = 100 }
        for _ in 0..<5 { throttle.recordFailure(username: "admin", address: "victim-lock") }
        for index in 0..<1000 {
            throttle.recordFailure(username: "user\(index)", address: "spray")
            #expect(throttle.entryCount <= 100)
        }
        #expect(throttle.entryCount > 80)
        #expect(throttle.check(username: "admin", address: "victim-lock") != .allowed)
        // The most recent failures are kept; the oldest went first.
        #expect(throttle.recordFailure(username: "user999", address: "spray") == .allowed)
        #expect(throttle.entryCount <= 100)
        // Once everything is idle past its window and the longest lock, the next sweep (at the cap) drops it all.
        self.clock.advance(by: 24 * 3600)
        for index in 0..<20 { throttle.recordFailure(username: "late\(index)", address: "x") }
        #expect(throttle.entryCount == 20)
        #expect(throttle.check(username: "admin", address: "victim-lock") == .allowed)
    }

    @Test("only locked pairs left: the lock that ends soonest is evicted")
    func capAllLocked() {
        let throttle = self.throttle { $0.maximumEntries = 3 }
        for user in ["a", "b", "c"] {
            for _ in 0..<5 { throttle.recordFailure(username: user, address: "x") }
            self.clock.advance(by: 10)
        }
        throttle.recordFailure(username: "d", address: "x")
        #expect(throttle.entryCount == 3)
        #expect(throttle.check(username: "a", address: "x") == .allowed)
        #expect(throttle.check(username: "b", address: "x") != .allowed)
        #expect(throttle.check(username: "c", address: "x") != .allowed)
    }

    @Test("huge usernames and addresses are cut, so entries stay small")
    func longKeys() {
        let throttle = self.throttle()
        let long = String(repeating: "u", count: 100_000)
        for _ in 0..<5 { throttle.recordFailure(username: long, address: long) }
        #expect(throttle.check(username: long + "different tail", address: long) != .allowed)
        #expect(throttle.check(username: "u", address: long) == .allowed)
    }

    @Test("concurrent failures from many threads are all counted")
    func concurrent() async {
        let throttle = self.throttle { $0.maximumFailures = 1000 }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { for _ in 0..<100 { throttle.recordFailure(username: "eve", address: "a") } }
            }
        }
        #expect(throttle.recordFailure(username: "eve", address: "a") == .allowed)
        var locked = false
        for _ in 0..<199 where !locked {
            locked = throttle.recordFailure(username: "eve", address: "a") != .allowed
        }
        #expect(locked)
        #expect(throttle.check(username: "eve", address: "a") == .locked(retryAfter: 900))
    }
}
