// Helpers shared by the Auth tests: a clock the test moves by hand, so expiry and lock-out are tested without sleeping.
import Synchronization
import VigilService

/// A settable clock; `clock` reads it.
final class ManualClock: Sendable {
    private let seconds: Mutex<Int64>

    init(_ start: Int64 = 1_700_000_000) {
        self.seconds = Mutex(start)
    }

    var now: Int64 { self.seconds.withLock { $0 } }

    func advance(by delta: Int64) {
        self.seconds.withLock { $0 += delta }
    }

    var clock: AuthClock { AuthClock { self.now } }
}

/// A value shared between a test and the closures it hands to other threads.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        self.mutex = Mutex(value)
    }

    var value: Value { self.mutex.withLock { $0 } }

    func update<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        self.mutex.withLock { body(&$0) }
    }
}
