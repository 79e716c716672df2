import Glibc
import Testing
import VigilPOSIX

@Suite("Errno")
struct ErrnoTests {
    @Test("named codes are the kernel's numbers")
    func namedCodes() {
        #expect(Errno.again.rawValue == EAGAIN)
        #expect(Errno.again == Errno(rawValue: EWOULDBLOCK))
        #expect(Errno.interrupted.rawValue == EINTR)
        #expect(Errno.connectionRefused.rawValue == ECONNREFUSED)
        #expect(Errno.addressInUse.rawValue == EADDRINUSE)
        #expect(Errno.tooManyOpenFiles.rawValue == EMFILE)
        #expect(Errno.fileTableFull.rawValue == ENFILE)
        #expect(Errno.badFileDescriptor.rawValue == EBADF)
        #expect(Errno.brokenPipe.rawValue == EPIPE)
    }

    @Test("description carries the kernel's text and the number")
    func description() {
        #expect(Errno.connectionRefused.description == "Connection refused (errno \(ECONNREFUSED))")
        #expect(Errno(rawValue: 9999).description.contains("9999"))
    }

    @Test("out-of-descriptor and out-of-memory codes are resource exhaustion, others are not")
    func resourceExhaustion() {
        #expect(Errno.tooManyOpenFiles.isResourceExhaustion)
        #expect(Errno.fileTableFull.isResourceExhaustion)
        #expect(Errno.noBufferSpace.isResourceExhaustion)
        #expect(Errno.noMemory.isResourceExhaustion)
        #expect(!Errno.connectionAborted.isResourceExhaustion)
        #expect(!Errno.again.isResourceExhaustion)
    }

    @Test("IOResult exposes the processed value only")
    func ioResult() {
        #expect(IOResult.processed(3).value == 3)
        #expect(IOResult<Int>.wouldBlock.value == nil)
        #expect(IOResult.processed(3) != .wouldBlock)
        #expect(IOResult<Void>.wouldBlock.isWouldBlock)
        #expect(!IOResult.processed(()).isWouldBlock)
    }
}
