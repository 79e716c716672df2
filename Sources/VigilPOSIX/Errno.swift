// The one error type of VigilPOSIX: a C errno kept as a number, so callers match on cases (`.again`,
// `.tooManyOpenFiles`) rather than on strings, and new codes need no new enum case.
import Glibc

/// An errno value returned by a failed system call.
///
/// A struct of statics rather than an enum: the kernel has well over a hundred codes and callers only care about a
/// handful, so unknown codes must still round-trip without a catch-all case.
public struct Errno: Error, RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The calling thread's errno right now; read it before any other call can overwrite it.
    static var current: Errno { Errno(rawValue: errno) }

    /// The kernel's text for the code plus its number, e.g. "Connection refused (errno 111)".
    ///
    /// `strerror` is thread-safe in glibc ≥ 2.32 (it returns static text, or a thread-local buffer for unknown
    /// codes), which is why it is used rather than the two incompatible `strerror_r` variants.
    public var description: String {
        guard let text = strerror(self.rawValue) else {
            return "errno \(self.rawValue)"
        }
        return "\(String(cString: text)) (errno \(self.rawValue))"
    }

    /// EAGAIN, equal to EWOULDBLOCK on Linux. Nonblocking calls report it as `IOResult.wouldBlock` instead of
    /// throwing; it is only thrown by calls for which it is a real failure.
    public static let again = Errno(rawValue: EAGAIN)
    /// EINTR: never seen by callers, the syscall door retries it (except `close`, see `Socket.close`).
    public static let interrupted = Errno(rawValue: EINTR)
    /// EINPROGRESS: a nonblocking connect has started; `Socket.connect` reports it as `.wouldBlock`.
    public static let inProgress = Errno(rawValue: EINPROGRESS)
    public static let alreadyInProgress = Errno(rawValue: EALREADY)
    public static let isConnected = Errno(rawValue: EISCONN)
    public static let notConnected = Errno(rawValue: ENOTCONN)
    public static let connectionRefused = Errno(rawValue: ECONNREFUSED)
    public static let connectionReset = Errno(rawValue: ECONNRESET)
    /// ECONNABORTED: a pending connection died before `accept` took it; the listener is still fine.
    public static let connectionAborted = Errno(rawValue: ECONNABORTED)
    public static let timedOut = Errno(rawValue: ETIMEDOUT)
    public static let hostUnreachable = Errno(rawValue: EHOSTUNREACH)
    public static let networkUnreachable = Errno(rawValue: ENETUNREACH)
    /// EPIPE: a send on a connection whose peer is gone. Sends use MSG_NOSIGNAL so this arrives as an error and
    /// not as a process-killing SIGPIPE.
    public static let brokenPipe = Errno(rawValue: EPIPE)
    public static let addressInUse = Errno(rawValue: EADDRINUSE)
    public static let addressNotAvailable = Errno(rawValue: EADDRNOTAVAIL)
    /// EMFILE: this process reached RLIMIT_NOFILE. A listener must pause accepting rather than spin on it.
    public static let tooManyOpenFiles = Errno(rawValue: EMFILE)
    /// ENFILE: the whole system ran out of open-file slots; handled like EMFILE.
    public static let fileTableFull = Errno(rawValue: ENFILE)
    /// ENOBUFS / ENOMEM: kernel memory pressure; handled like EMFILE by accept loops.
    public static let noBufferSpace = Errno(rawValue: ENOBUFS)
    public static let noMemory = Errno(rawValue: ENOMEM)
    /// EBADF, also thrown without a syscall when a `Socket` is used after `close()`.
    public static let badFileDescriptor = Errno(rawValue: EBADF)
    public static let invalidArgument = Errno(rawValue: EINVAL)
    public static let permissionDenied = Errno(rawValue: EACCES)
    public static let notPermitted = Errno(rawValue: EPERM)
    public static let busy = Errno(rawValue: EBUSY)
    public static let noSuchFile = Errno(rawValue: ENOENT)

    /// True for the codes that mean "out of descriptors or kernel memory": an accept loop should stop accepting for
    /// a moment instead of retrying at once, because the pending connection stays readable and would spin the loop.
    public var isResourceExhaustion: Bool {
        self == .tooManyOpenFiles || self == .fileTableFull || self == .noBufferSpace || self == .noMemory
    }
}
