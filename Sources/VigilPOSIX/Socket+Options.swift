// Socket options as named methods, so callers cannot pass a level/name pair that does not belong together and
// never see `setsockopt`'s untyped value pointer.
import Glibc

extension Socket {
    /// `SO_REUSEADDR`: lets a restarted server bind its port while connections of the previous run are in TIME_WAIT.
    public func setReuseAddress(_ enabled: Bool) throws(Errno) {
        try self.setOption(level: SOL_SOCKET, name: SO_REUSEADDR, value: enabled ? 1 : 0)
    }

    /// `TCP_NODELAY`: sends small writes at once. RPC frames are small and latency-bound, and Nagle's algorithm
    /// combined with delayed ACKs would otherwise hold a reply for up to 40 ms.
    public func setNoDelay(_ enabled: Bool) throws(Errno) {
        try self.setOption(level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: enabled ? 1 : 0)
    }

    public func noDelay() throws(Errno) -> Bool {
        try self.option(level: Int32(IPPROTO_TCP), name: TCP_NODELAY) != 0
    }

    /// `SO_KEEPALIVE`: the kernel probes an idle connection so a peer that vanished without a FIN (power loss, NAT
    /// timeout) is eventually reported as an error instead of holding its slot forever.
    public func setKeepAlive(_ enabled: Bool) throws(Errno) {
        try self.setOption(level: SOL_SOCKET, name: SO_KEEPALIVE, value: enabled ? 1 : 0)
    }

    public func keepAlive() throws(Errno) -> Bool {
        try self.option(level: SOL_SOCKET, name: SO_KEEPALIVE) != 0
    }

    /// Turns keepalive on with probe timing suited to a server: the kernel's defaults wait two hours before the
    /// first probe, far too long to free the slot of an agent that lost power. The first probe goes after `idle`
    /// without traffic, then every `interval`, and the connection fails after `count` unanswered probes.
    public func setKeepAlive(idle: Duration, interval: Duration, count: Int) throws(Errno) {
        try self.setKeepAlive(true)
        let tcp = Int32(IPPROTO_TCP)
        try self.setOption(level: tcp, name: TCP_KEEPIDLE, value: Self.wholeSeconds(idle))
        try self.setOption(level: tcp, name: TCP_KEEPINTVL, value: Self.wholeSeconds(interval))
        try self.setOption(level: tcp, name: TCP_KEEPCNT, value: Int32(clamping: max(count, 1)))
    }

    /// The idle time before the first keepalive probe, in whole seconds.
    public func keepAliveIdle() throws(Errno) -> Duration {
        .seconds(try self.option(level: Int32(IPPROTO_TCP), name: TCP_KEEPIDLE))
    }

    /// Keepalive options count whole seconds, and the kernel refuses 0.
    private static func wholeSeconds(_ duration: Duration) -> Int32 {
        Int32(clamping: max(duration.components.seconds, 1))
    }

    /// `SO_RCVBUF`. Linux doubles the value for its own bookkeeping, so `receiveBufferSize()` reads back about
    /// twice what was set. Setting it disables the kernel's autotuning for this socket: only for memory caps.
    public func setReceiveBufferSize(_ bytes: Int) throws(Errno) {
        try self.setOption(level: SOL_SOCKET, name: SO_RCVBUF, value: Int32(clamping: bytes))
    }

    public func receiveBufferSize() throws(Errno) -> Int {
        Int(try self.option(level: SOL_SOCKET, name: SO_RCVBUF))
    }

    /// `SO_SNDBUF`; see `setReceiveBufferSize`.
    public func setSendBufferSize(_ bytes: Int) throws(Errno) {
        try self.setOption(level: SOL_SOCKET, name: SO_SNDBUF, value: Int32(clamping: bytes))
    }

    public func sendBufferSize() throws(Errno) -> Int {
        Int(try self.option(level: SOL_SOCKET, name: SO_SNDBUF))
    }

    /// `SO_LINGER` with a zero timeout: `close()` then resets the connection (RST) instead of a graceful FIN,
    /// dropping unsent data. For abandoning hostile or timed-out peers without leaving sockets in TIME_WAIT.
    public func setResetOnClose() throws(Errno) {
        var value = linger(l_onoff: 1, l_linger: 0)
        try self.withDescriptor { (descriptor) throws(Errno) in
            _ = try Syscall.run {
                setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size))
            }
        }
    }

    /// Reads and clears `SO_ERROR`: the outcome of a nonblocking connect, or an asynchronous error epoll flagged.
    /// nil means no error is pending.
    public func pendingError() throws(Errno) -> Errno? {
        let code = try self.option(level: SOL_SOCKET, name: SO_ERROR)
        return code == 0 ? nil : Errno(rawValue: code)
    }

    private func setOption(level: Int32, name: Int32, value: Int32) throws(Errno) {
        var value = value
        try self.withDescriptor { (descriptor) throws(Errno) in
            _ = try Syscall.run {
                setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
            }
        }
    }

    private func option(level: Int32, name: Int32) throws(Errno) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        try self.withDescriptor { (descriptor) throws(Errno) in
            _ = try Syscall.run { getsockopt(descriptor, level, name, &value, &length) }
        }
        return value
    }
}
