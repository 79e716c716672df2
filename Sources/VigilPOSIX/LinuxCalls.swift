// The Linux-only calls that Swift's Glibc module leaves out: its module map does not cover <sys/epoll.h> or
// <sys/eventfd.h>, and `accept4` is declared only under _GNU_SOURCE, which the module is not built with. This
// package has no C shim target for VigilPOSIX, so the functions are looked up once in the C library with `dlsym`
// and called through their real C signatures (`@convention(c)`), never through a guessed Swift calling convention.
// The constants and the `epoll_event` layout are the kernel ABI, which is fixed; they are spelled out below.
import Glibc

enum LinuxCalls {
    typealias EpollCreate1 = @convention(c) (Int32) -> Int32
    typealias EpollControl = @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
    typealias EpollWait = @convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32
    typealias EventFD = @convention(c) (UInt32, Int32) -> Int32
    typealias Accept4 =
        @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32

    static let epollCreate1 = resolve("epoll_create1", as: EpollCreate1.self)
    static let epollControl = resolve("epoll_ctl", as: EpollControl.self)
    static let epollWait = resolve("epoll_wait", as: EpollWait.self)
    static let eventFD = resolve("eventfd", as: EventFD.self)
    static let accept4 = resolve("accept4", as: Accept4.self)

    /// Every glibc since 2.10 has these symbols, so a missing one means a broken installation: stop at once with
    /// its name rather than fail obscurely later.
    private static func resolve<Function>(_ name: String, as type: Function.Type) -> Function {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, name) else {
            fatalError("VigilPOSIX: the C library does not export \(name)")
        }
        return unsafeBitCast(symbol, to: type)
    }

    // <sys/epoll.h>
    static let epollIn: UInt32 = 0x001
    static let epollOut: UInt32 = 0x004
    static let epollError: UInt32 = 0x008
    static let epollHangup: UInt32 = 0x010
    static let epollReadHangup: UInt32 = 0x2000
    static let epollOneShot: UInt32 = 1 << 30
    static let epollEdgeTriggered: UInt32 = 1 << 31
    static let epollControlAdd: Int32 = 1
    static let epollControlDelete: Int32 = 2
    static let epollControlModify: Int32 = 3
    /// EPOLL_CLOEXEC and EFD_CLOEXEC are defined as O_CLOEXEC, EFD_NONBLOCK as O_NONBLOCK.
    static let epollCloseOnExec = O_CLOEXEC
    static let eventFDCloseOnExec = O_CLOEXEC
    static let eventFDNonBlocking = O_NONBLOCK

    /// `struct epoll_event { uint32_t events; epoll_data_t data; }`: packed on x86-64 (12 bytes, data at offset
    /// 4), naturally aligned elsewhere (16 bytes, data at offset 8). Read and written as raw bytes at these offsets.
    #if arch(x86_64)
        static let epollEventStride = 12
        static let epollEventDataOffset = 4
    #else
        static let epollEventStride = 16
        static let epollEventDataOffset = 8
    #endif
}
