// Helpers of the transport tests; the test message itself is VigilTesting's `TestMessage`, shared with the
// network tests.

import Synchronization
import VigilRPC
import VigilTesting
import VigilWire

/// A value shared between a handler and the test body.
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func get() -> Value { self.value.withLock { $0 } }
    func update<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        self.value.withLock { body(&$0) }
    }

    /// Polls until `condition` holds (handlers finish on their own tasks, after the client saw the outcome). The
    /// timeout only matters when the condition never holds: it is long because a clean-clone CI run compiles the
    /// fuzz harnesses on both cores while the first suites run, which has starved tests for over 20 s.
    func wait(timeout: Duration = .seconds(90), until condition: (Value) -> Bool) async -> Bool {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if condition(self.get()) { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return condition(self.get())
    }
}
