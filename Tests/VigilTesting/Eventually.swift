// Waiting for something another thread or process does, without a fixed sleep: tests poll a condition instead, with
// a deadline generous enough for this machine, where the whole suite runs in parallel on two cores and a step that
// takes milliseconds alone has been seen to take tens of seconds.

/// `eventually` gave up: what it was waiting for.
public struct TimedOut: Error, CustomStringConvertible {
    public let what: String

    public init(what: String) {
        self.what = what
    }

    public var description: String { "timed out waiting for \(self.what)" }
}

/// Polls `condition` every `interval` until it holds; throws `TimedOut` once `timeout` has passed.
public func eventually(
    _ what: String,
    timeout: Duration = .seconds(60),
    every interval: Duration = .milliseconds(5),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
        try await Task.sleep(for: interval)
    }
}
