// glibc serves allocations of 128 KiB and more with a fresh mmap, returned with munmap on free. A connection's read
// turn collects up to 256 KiB of plaintext in one array, so under load every turn mapped new pages and faulted each
// one in: 4.6 % of vigild's CPU in a 128-byte sink (perf: exc_page_fault under the plaintext and frame buffers).
// Raising the threshold keeps such buffers in malloc's heap, where a freed one is reused at once; the trim threshold
// bounds how much freed memory a heap keeps instead of returning it.
//
// glibc's per-thread cache (tcache) keeps 7 freed chunks per size class. A server handler's task takes three
// 1,016-byte slabs of Swift's task allocator per call, and with dozens of calls in flight per loop the cache
// overflows: later slabs come from the heap's bins, and a 1 KiB request counts as a large one, which first
// consolidates every fast bin (`malloc_consolidate` and `unlink_chunk`, 3.4 % of vigild in a unary echo; malloc and
// free 12.8 % in all). Only the tunable `glibc.malloc.tcache_count` raises the 7, and glibc reads tunables only as
// a process starts, so the programs restart themselves once with it set (`restartWithLargerThreadCache`).
import CMalloc
import Glibc

public enum MemoryAllocator {
    /// Serves allocations under `mmapThreshold` bytes from the heap and keeps up to `trimThreshold` bytes of freed
    /// memory at a heap's top. False if glibc refused a value. Process-wide: call once, early, from a `main`.
    @discardableResult
    public static func keepBuffersInHeap(mmapThreshold: Int = 1 << 20, trimThreshold: Int = 16 << 20) -> Bool {
        let mmap = vigil_malloc_set_mmap_threshold(Int32(clamping: mmapThreshold))
        let trim = vigil_malloc_set_trim_threshold(Int32(clamping: trimThreshold))
        return mmap == 1 && trim == 1
    }

    /// Restarts the process in place (`execv` of `/proc/self/exe`: same pid, arguments and environment) with
    /// `GLIBC_TUNABLES=glibc.malloc.tcache_count=count`, unless `GLIBC_TUNABLES` is already set: an operator's
    /// tunables, even an empty list, are kept as they are (and are the way to opt out). Returns when it did not
    /// restart, also when the exec failed (the process then runs with glibc's defaults). Call first thing in a
    /// `main`, before any thread starts or descriptor opens.
    public static func restartWithLargerThreadCache(count: Int = 64) {
        guard getenv("GLIBC_TUNABLES") == nil else { return }
        guard setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=\(count)", 1) == 0 else { return }
        _ = execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Still here: the exec failed. Children must not inherit a setting this process does not have.
        unsetenv("GLIBC_TUNABLES")
    }

    /// Bytes the allocator holds in mmap'd blocks now (glibc's `mallinfo2().hblkhd`).
    public static var mappedBytes: Int { Int(vigil_malloc_mmapped_bytes()) }
}
