// The outcome of a nonblocking call that did not fail: either it did something, or the kernel said "not now".
// EAGAIN is the normal state of a nonblocking socket, so it is a value to switch on, never an error to catch.

/// The result of a nonblocking operation.
public enum IOResult<Value> {
    /// The call completed; for reads and writes `Value` is the byte count (0 from a read means end of stream).
    case processed(Value)
    /// The kernel had nothing to give or no room to take (EAGAIN / EWOULDBLOCK, or EINPROGRESS for `connect`):
    /// wait for epoll to report readiness and try again.
    case wouldBlock

    /// The processed value, or nil on `.wouldBlock`, for callers that treat both cases alike.
    public var value: Value? {
        switch self {
        case .processed(let value): value
        case .wouldBlock: nil
        }
    }

    /// True on `.wouldBlock`; convenient for `IOResult<Void>` (e.g. a connect in progress), which is not Equatable.
    public var isWouldBlock: Bool {
        if case .wouldBlock = self {
            return true
        }
        return false
    }
}

extension IOResult: Sendable where Value: Sendable {}
extension IOResult: Equatable where Value: Equatable {}
