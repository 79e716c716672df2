// The malloc tuning vigild and vigilbench apply at startup: with glibc's default 128 KiB threshold a read turn's
// 256 KiB buffer is mapped on its own (and faulted in page by page); with ours it comes from the heap.
import Testing
import VigilPOSIX

@Suite("Memory allocator")
struct MemoryAllocatorTests {
    /// How much the allocator's mapped bytes grew while a 256 KiB buffer was alive, in up to `attempts` attempts
    /// (each buffer kept), stopping at the first that satisfies `done`. Other tests allocate and free concurrently,
    /// and malloc serves a request from free heap space before it maps anything whatever the threshold (with the
    /// 16 MiB trim threshold the heap's top may hold that much), so a mapping may show only once that is used up.
    static func mappedGrowth(attempts: Int = 5, until done: (Int) -> Bool) -> [Int] {
        var growth: [Int] = []
        var kept: [[UInt8]] = []
        for _ in 0..<attempts {
            let before = MemoryAllocator.mappedBytes
            kept.append(Self.buffer())
            growth.append(MemoryAllocator.mappedBytes - before)
            if let last = growth.last, done(last) { break }
        }
        return growth
    }

    /// A heap buffer the optimizer can neither keep on the stack nor allocate after the measurement.
    @inline(never)
    static func buffer() -> [UInt8] { [UInt8](repeating: 1, count: 256 * 1024) }

    @Test("a 256 KiB buffer is mapped under a 128 KiB threshold and comes from the heap under the default")
    func thresholdDecides() {
        #expect(MemoryAllocator.keepBuffersInHeap(mmapThreshold: 128 * 1024))
        let mapped = Self.mappedGrowth(attempts: 400) { $0 >= 256 * 1024 }
        #expect(mapped.contains { $0 >= 256 * 1024 }, "mapped bytes grew by \(mapped.filter { $0 != 0 }) in \(mapped.count) attempts")

        #expect(MemoryAllocator.keepBuffersInHeap())
        let inHeap = Self.mappedGrowth { $0 < 256 * 1024 }
        #expect(inHeap.contains { $0 < 256 * 1024 }, "mapped bytes grew by \(inHeap)")
    }
}
