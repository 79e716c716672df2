// Reading and writing bytes. Every send path uses MSG_NOSIGNAL, including the vectored one (sendmsg rather than
// writev, which takes no flags): a peer that disappears must produce `.brokenPipe`, never a SIGPIPE that kills the
// whole server, whether or not someone remembered to ignore SIGPIPE.
import Glibc

extension Socket {
    /// The most buffers one vectored send passes to the kernel. Linux's IOV_MAX is 1024; more makes sendmsg fail
    /// with EINVAL, so longer lists are sent in part and the caller continues from the returned count.
    public static let maximumVectorCount = 1024

    /// The most arrays one `send(vectors: [[UInt8]])` call pins; see there.
    public static let maximumPinnedArrays = 64

    /// Reads up to `buffer.count` bytes into `buffer`.
    ///
    /// `.processed(0)` is end of stream (the peer shut down its sending side); `.wouldBlock` means nothing to read
    /// yet. The raw buffer is what an event loop reading into one reusable slab wants: no allocation per read.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> IOResult<Int> {
        try self.withDescriptor { (descriptor) throws(Errno) in
            try Syscall.io { Glibc.read(descriptor, buffer.baseAddress, buffer.count) }
        }
    }

    /// Reads into the start of `buffer`, up to its current count; returns how many bytes were written there.
    public func read(into buffer: inout [UInt8]) throws(Errno) -> IOResult<Int> {
        var result: Result<IOResult<Int>, Errno> = .success(.wouldBlock)
        buffer.withUnsafeMutableBytes { bytes in
            do throws(Errno) {
                result = .success(try self.read(into: bytes))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    /// Reads at most `maximumCount` bytes into a new array sized to what arrived.
    public func read(maximumCount: Int) throws(Errno) -> IOResult<[UInt8]> {
        precondition(maximumCount >= 0, "maximumCount must not be negative")
        var failure: Errno?
        var wouldBlock = false
        let bytes = [UInt8](unsafeUninitializedCapacity: maximumCount) { storage, initialized in
            do throws(Errno) {
                switch try self.read(into: UnsafeMutableRawBufferPointer(storage)) {
                case .processed(let count): initialized = count
                case .wouldBlock: wouldBlock = true
                }
            } catch {
                failure = error
            }
        }
        if let failure {
            throw failure
        }
        return wouldBlock ? .wouldBlock : .processed(bytes)
    }

    /// Sends as much of `bytes` as the socket buffer takes; returns the count (which may be less than all).
    public func send(_ bytes: UnsafeRawBufferPointer) throws(Errno) -> IOResult<Int> {
        try self.withDescriptor { (descriptor) throws(Errno) in
            try Syscall.io { Glibc.send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
        }
    }

    public func send(_ bytes: [UInt8]) throws(Errno) -> IOResult<Int> {
        // `span` rather than the array's own `withUnsafeBytes`, which is `rethrows` and would erase the typed error.
        try bytes.span.withUnsafeBytes { (raw) throws(Errno) in try self.send(raw) }
    }

    public func send(_ bytes: ArraySlice<UInt8>) throws(Errno) -> IOResult<Int> {
        try bytes.span.withUnsafeBytes { (raw) throws(Errno) in try self.send(raw) }
    }

    /// Sends several buffers in one system call (a gather write), e.g. every frame queued in one loop turn.
    ///
    /// Returns the total byte count taken, which may end in the middle of any buffer: the caller drops that many
    /// bytes from the front of its queue and sends the rest when epoll reports the socket writable. At most
    /// `maximumVectorCount` buffers go in one call.
    public func send(vectors buffers: some Collection<UnsafeRawBufferPointer>) throws(Errno) -> IOResult<Int> {
        let count = min(buffers.count, Self.maximumVectorCount)
        if count == 0 {
            return .processed(0)
        }
        return try withUnsafeTemporaryAllocation(of: iovec.self, capacity: count) { (vectors) throws(Errno) in
            for (index, buffer) in zip(0..<count, buffers) {
                vectors[index] = iovec(
                    iov_base: UnsafeMutableRawPointer(mutating: buffer.baseAddress), iov_len: buffer.count)
            }
            return try self.send(iovecs: vectors)
        }
    }

    /// `send(vectors:)` for byte arrays. Each array's storage is pinned by a nested `withUnsafeBytes` scope (the
    /// only way to hold several at once), one stack frame per array, so at most `maximumPinnedArrays` go per call;
    /// an event loop with many buffers should keep them in storage it can point at and use the raw-buffer form.
    public func send(vectors buffers: [[UInt8]]) throws(Errno) -> IOResult<Int> {
        let count = min(buffers.count, Self.maximumPinnedArrays)
        if count == 0 {
            return .processed(0)
        }
        return try withUnsafeTemporaryAllocation(of: iovec.self, capacity: count) { (vectors) throws(Errno) in
            try self.pin(buffers, from: 0, count: count, into: vectors)
        }
    }

    /// Fills `vectors[index]` from `buffers[index]` inside that array's `withUnsafeBytes`, recursing for the next
    /// one, and sends once all are pinned.
    private func pin(
        _ buffers: [[UInt8]],
        from index: Int,
        count: Int,
        into vectors: UnsafeMutableBufferPointer<iovec>
    ) throws(Errno) -> IOResult<Int> {
        if index == count {
            return try self.send(iovecs: vectors)
        }
        let buffer = buffers[index]
        return try buffer.span.withUnsafeBytes { (raw) throws(Errno) in
            vectors[index] = iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress), iov_len: raw.count)
            return try self.pin(buffers, from: index + 1, count: count, into: vectors)
        }
    }

    private func send(iovecs vectors: UnsafeMutableBufferPointer<iovec>) throws(Errno) -> IOResult<Int> {
        try self.withDescriptor { (descriptor) throws(Errno) in
            var message = msghdr()
            message.msg_iov = vectors.baseAddress
            message.msg_iovlen = vectors.count
            return try Syscall.io { sendmsg(descriptor, &message, Int32(MSG_NOSIGNAL)) }
        }
    }
}
