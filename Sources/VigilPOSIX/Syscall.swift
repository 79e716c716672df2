// The typed door every system call of this module goes through: EINTR retried here and nowhere else, EAGAIN turned
// into `.wouldBlock`, any other failure thrown as `Errno` read straight after the call (before anything can
// overwrite errno). Keeping it in one place is what makes "did we forget EINTR on this call?" a non-question.
import Glibc

enum Syscall {
    /// Runs `call` until it is not interrupted. A result of -1 is a failure whose code is in errno; EAGAIN and
    /// EWOULDBLOCK become `.wouldBlock`, everything else is thrown.
    @inline(__always)
    static func io<Result: FixedWidthInteger>(_ call: () -> Result) throws(Errno) -> IOResult<Result> {
        while true {
            let result = call()
            if result != -1 {
                return .processed(result)
            }
            let code = errno
            switch code {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                return .wouldBlock
            default:
                throw Errno(rawValue: code)
            }
        }
    }

    /// `io` for calls that cannot legitimately return EAGAIN (setsockopt, bind, epoll_ctl...): if one ever does,
    /// it is thrown as `Errno.again` rather than silently treated as success.
    @inline(__always)
    static func run<Result: FixedWidthInteger>(_ call: () -> Result) throws(Errno) -> Result {
        switch try self.io(call) {
        case .processed(let result):
            return result
        case .wouldBlock:
            throw Errno.again
        }
    }

    /// Closes `descriptor` exactly once. EINTR is deliberately *not* retried: Linux releases the descriptor before
    /// it can report EINTR, so a retry could close a descriptor another thread has just been given.
    static func close(_ descriptor: Int32) throws(Errno) {
        if Glibc.close(descriptor) == -1 {
            let code = errno
            if code != EINTR {
                throw Errno(rawValue: code)
            }
        }
    }
}
