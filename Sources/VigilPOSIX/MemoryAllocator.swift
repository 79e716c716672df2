// glibc serves allocations of 128 KiB and more with a fresh mmap, returned with munmap on free. A connection's read
// turn collects up to 256 KiB of plaintext in one array, so under load every turn mapped new pages and faulted each
// one in: 4.6 % of vigild's CPU in a 128-byte sink (perf: exc_page_fault under the plaintext and frame buffers).
// Raising the threshold keeps such buffers in malloc's heap, where a freed one is reused at once; the trim threshold
// bounds how much freed memory a heap keeps instead of returning it.
import CMalloc

public enum MemoryAllocator {
    /// Serves allocations under `mmapThreshold` bytes from the heap and keeps up to `trimThreshold` bytes of freed
    /// memory at a heap's top. False if glibc refused a value. Process-wide: call once, early, from a `main`.
    @discardableResult
    public static func keepBuffersInHeap(mmapThreshold: Int = 1 << 20, trimThreshold: Int = 16 << 20) -> Bool {
        let mmap = vigil_malloc_set_mmap_threshold(Int32(clamping: mmapThreshold))
        let trim = vigil_malloc_set_trim_threshold(Int32(clamping: trimThreshold))
        return mmap == 1 && trim == 1
    }

    /// Bytes the allocator holds in mmap'd blocks now (glibc's `mallinfo2().hblkhd`).
    public static var mappedBytes: Int { Int(vigil_malloc_mmapped_bytes()) }
}
