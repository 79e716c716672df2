// One owning object per TCP socket descriptor: created nonblocking and close-on-exec, closed exactly once (by
// `close()` or, failing that, by deinit). Everything the event loop does to a connection goes through here, so
// the descriptor number never escapes as something that could be closed twice.
import Glibc
import Synchronization

/// A nonblocking TCP socket (listener or connection).
///
/// `Sendable` so it can be created on one thread and handed to the event-loop thread that owns it from then on.
/// The descriptor lives in an `Atomic` so that `close()` and deinit can never both close it; that does not make
/// it sensible to close a socket while another thread is still reading it (the number could be reused by then),
/// so close from the owning thread.
public final class Socket: Sendable, CustomStringConvertible {
    /// -1 once closed.
    private let descriptor: Atomic<Int32>

    /// Takes ownership of a descriptor from `socket()` or `accept4()`.
    init(owning descriptor: Int32) {
        self.descriptor = Atomic(descriptor)
    }

    /// Creates an unconnected nonblocking TCP socket for `family`.
    public convenience init(family: SocketAddress.Family) throws(Errno) {
        let domain = family == .ipv4 ? AF_INET : AF_INET6
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let descriptor = try Syscall.run { Glibc.socket(domain, type, 0) }
        self.init(owning: descriptor)
    }

    deinit {
        let descriptor = self.descriptor.load(ordering: .relaxed)
        if descriptor >= 0 {
            try? Syscall.close(descriptor)
        }
    }

    /// Closes now rather than at deinit, so a peer sees the FIN without waiting for the last reference to go.
    /// Closing twice is harmless; any later call on the socket throws `.badFileDescriptor` without a syscall.
    public func close() throws(Errno) {
        let descriptor = self.descriptor.exchange(-1, ordering: .relaxed)
        if descriptor >= 0 {
            try Syscall.close(descriptor)
        }
    }

    public var isOpen: Bool { self.descriptor.load(ordering: .relaxed) >= 0 }

    /// The descriptor number for `Epoll` registration; -1 after `close()`.
    public var fileDescriptor: FileDescriptor { FileDescriptor(rawValue: self.descriptor.load(ordering: .relaxed)) }

    public var description: String { "Socket(\(self.descriptor.load(ordering: .relaxed)))" }

    /// The descriptor, or `.badFileDescriptor` if closed: checked here so a closed socket never passes -1 (or a
    /// reused number) to the kernel.
    @inline(__always)
    func withDescriptor<Result>(_ body: (Int32) throws(Errno) -> Result) throws(Errno) -> Result {
        let descriptor = self.descriptor.load(ordering: .relaxed)
        guard descriptor >= 0 else {
            throw Errno.badFileDescriptor
        }
        return try body(descriptor)
    }
}

// MARK: - Listening

extension Socket {
    /// A listener on `address` ready for `accept()`: nonblocking, `SO_REUSEADDR` set (so a restarted server can
    /// rebind while old connections sit in TIME_WAIT), bound and listening. Port 0 lets the kernel pick; read
    /// `localAddress()` to learn it.
    ///
    /// The default backlog is large because a burst of agents reconnecting after a server restart arrives faster
    /// than one loop turn accepts; the kernel caps it at `net.core.somaxconn` anyway.
    public static func listening(on address: SocketAddress, backlog: Int32 = 4096) throws(Errno) -> Socket {
        let socket = try Socket(family: address.family)
        try socket.setReuseAddress(true)
        try socket.bind(to: address)
        try socket.listen(backlog: backlog)
        return socket
    }

    public func bind(to address: SocketAddress) throws(Errno) {
        try self.withDescriptor { (descriptor) throws(Errno) in
            _ = try address.withSockAddr { (pointer, length) throws(Errno) in
                try Syscall.run { Glibc.bind(descriptor, pointer, length) }
            }
        }
    }

    public func listen(backlog: Int32) throws(Errno) {
        try self.withDescriptor { (descriptor) throws(Errno) in
            _ = try Syscall.run { Glibc.listen(descriptor, backlog) }
        }
    }

    /// Takes one pending connection, already nonblocking and close-on-exec (accept4 sets both atomically, so no
    /// other thread's fork/exec can inherit it in between).
    ///
    /// `.wouldBlock` means nothing is pending. Thrown errors worth knowing: `.connectionAborted` (that client gave
    /// up; just accept again) and `Errno.isResourceExhaustion` (EMFILE/ENFILE/ENOBUFS/ENOMEM: the connection stays
    /// pending, so stop accepting for a moment instead of spinning on a listener that stays readable).
    public func accept() throws(Errno) -> IOResult<Socket> {
        try self.withDescriptor { (descriptor) throws(Errno) in
            let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            switch try Syscall.io({ LinuxCalls.accept4(descriptor, nil, nil, flags) }) {
            case .processed(let accepted):
                return .processed(Socket(owning: accepted))
            case .wouldBlock:
                return .wouldBlock
            }
        }
    }
}

// MARK: - Connecting

extension Socket {
    /// Starts a nonblocking connection to `address` on a new socket.
    ///
    /// Returns the socket and `.processed(())` if already connected, or `.wouldBlock` while the handshake runs:
    /// wait until epoll reports it writable, then call `finishConnect()`. A refusal may be thrown at once (as
    /// loopback sometimes does) or only reported by `finishConnect()`; callers handle both.
    public static func connecting(to address: SocketAddress) throws(Errno) -> (Socket, IOResult<Void>) {
        let socket = try Socket(family: address.family)
        let result = try socket.connect(to: address)
        return (socket, result)
    }

    /// Starts connecting this socket; see `connecting(to:)`. EINPROGRESS becomes `.wouldBlock`.
    public func connect(to address: SocketAddress) throws(Errno) -> IOResult<Void> {
        try self.withDescriptor { (descriptor) throws(Errno) in
            let result = address.withSockAddr { pointer, length in
                // Not through Syscall.io: EINTR on a connect must not be retried (the connection carries on
                // asynchronously and a second connect would fail with EALREADY), and EINPROGRESS is the common case.
                Glibc.connect(descriptor, pointer, length)
            }
            if result == 0 {
                return .processed(())
            }
            let code = errno
            switch code {
            case EINPROGRESS, EINTR, EAGAIN:
                return .wouldBlock
            default:
                throw Errno(rawValue: code)
            }
        }
    }

    /// Completes a connect that returned `.wouldBlock`, once epoll reported the socket writable (or in error):
    /// throws the connection's error, e.g. `.connectionRefused`, or returns if it is connected.
    public func finishConnect() throws(Errno) {
        if let error = try self.pendingError() {
            throw error
        }
    }

    /// Which halves of a connection `shutdown` closes.
    public enum ShutdownDirection: Sendable {
        case read
        case write
        case both
    }

    /// Half-closes the connection: `.write` sends a FIN after queued data (the peer reads end of stream) while
    /// this side can still read its answer.
    public func shutdown(_ direction: ShutdownDirection) throws(Errno) {
        let how: Int32 =
            switch direction {
            case .read: Int32(SHUT_RD)
            case .write: Int32(SHUT_WR)
            case .both: Int32(SHUT_RDWR)
            }
        try self.withDescriptor { (descriptor) throws(Errno) in
            _ = try Syscall.run { Glibc.shutdown(descriptor, how) }
        }
    }

    /// The address this socket is bound to; after binding to port 0 it holds the port the kernel chose.
    public func localAddress() throws(Errno) -> SocketAddress {
        try self.withDescriptor { (descriptor) throws(Errno) in
            try SocketAddress.capture { (pointer, length) throws(Errno) in
                _ = try Syscall.run { getsockname(descriptor, pointer, length) }
            }
        }
    }

    /// The address of the connected peer; `.notConnected` before the connection is established.
    public func peerAddress() throws(Errno) -> SocketAddress {
        try self.withDescriptor { (descriptor) throws(Errno) in
            try SocketAddress.capture { (pointer, length) throws(Errno) in
                _ = try Syscall.run { getpeername(descriptor, pointer, length) }
            }
        }
    }
}
