// A non-owning label for a descriptor, so owners (Socket, EventFD, SignalSource) can be registered with Epoll
// without handing out the Int32 in a form that invites closing it.

/// The number of an open descriptor, borrowed from the object that owns it.
///
/// It does not keep the descriptor open: once the owner closes, the number may be reused by the next `open`. Use it
/// to register with `Epoll` or as a table key while the owner is alive.
public struct FileDescriptor: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    public var description: String { "fd \(self.rawValue)" }
}
