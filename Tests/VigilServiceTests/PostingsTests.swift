// The pure half of the postings indexes: the chunk encoding, and the lazy merge of chunks from many slices, checked
// against a plain filter-and-sort of the same entries for random slices, bounds and continuations.
import Testing
import VigilTesting

@testable import VigilService

@Suite("Postings") struct PostingsTests {
    @Test("a chunk encodes to 16 bytes per entry and decodes to the same entries")
    func encoding() throws {
        let entries = [
            PostingEntry(sort: .min, id: 1), PostingEntry(sort: -5, id: 2), PostingEntry(sort: -5, id: 3),
            PostingEntry(sort: 0, id: .max), PostingEntry(sort: .max, id: 0),
        ]
        let bytes = PostingChunk(entries: entries).encoded()
        #expect(bytes.count == 5 * 16)
        #expect(Array(bytes[16..<24]) == [0xFB, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])  // -5, little-endian
        #expect(try PostingChunk.decode(bytes) == entries)
        #expect(try PostingChunk.decode([]) == [])
    }

    @Test("a damaged chunk is refused: a partial entry, or entries out of order or repeated")
    func damagedChunks() {
        let bytes = PostingChunk(entries: [PostingEntry(sort: 1, id: 1), PostingEntry(sort: 2, id: 2)]).encoded()
        #expect(throws: PostingsError.self) { try PostingChunk.decode(Array(bytes.dropLast())) }
        let swapped = Array(bytes[16...] + bytes[..<16])
        #expect(throws: PostingsError.self) { try PostingChunk.decode(swapped) }
        #expect(throws: PostingsError.self) { try PostingChunk.decode(Array(bytes[..<16] + bytes[..<16])) }
    }

    @Test("sorted entries are cut into chunks of at most the maximum, in order")
    func chunking() {
        let entries = (0..<10).map { PostingEntry(sort: Int64($0 / 2), id: Int64($0)) }
        let chunks = PostingChunk.chunks(of: entries, maximumEntries: 4)
        #expect(chunks.map(\.entries.count) == [4, 4, 2])
        #expect(chunks.flatMap(\.entries) == entries)
        #expect(chunks.map(\.low) == [0, 2, 4] && chunks.map(\.high) == [1, 3, 4])
        #expect(PostingChunk.chunks(of: []).isEmpty)
        #expect(PostingChunk.chunks(of: entries).count == 1)
    }

    @Test("a walk yields exactly the admitted entries of every slice, in order", arguments: [false, true])
    func walkMatchesReference(ascending: Bool) throws {
        var random = SplitMix64(seed: ascending ? 7 : 11)
        for round in 0..<300 {
            // Slices whose times overlap (as when agents send late), with repeated times and small chunks.
            let sliceCount = Int(random.next() % 6)
            var all: [PostingEntry] = []
            var chunks: [PostingChunk] = []
            var nextID: Int64 = 1
            for _ in 0..<sliceCount {
                let base = Int64(random.next() % 40)
                let entries = (0..<Int(random.next() % 12)).map { _ in
                    defer { nextID += 1 }
                    return PostingEntry(sort: base + Int64(random.next() % 15), id: nextID)
                }.sorted()
                all += entries
                chunks += PostingChunk.chunks(of: entries, maximumEntries: 1 + Int(random.next() % 4))
            }
            var bounds = PostingBounds(ascending: ascending)
            if random.next() % 3 == 0 { bounds.from = Int64(random.next() % 50) }
            if random.next() % 3 == 0 { bounds.before = Int64(random.next() % 60) }
            if random.next() % 2 == 0, !all.isEmpty {
                let pick = all[Int(random.next() % UInt64(all.count))]
                bounds.after = PostingEntry(sort: pick.sort, id: pick.id + Int64(random.next() % 3) - 1)
            }
            let expected = all.filter(bounds.admits).sorted { ascending ? $0 < $1 : $1 < $0 }
            var walk = PostingsWalk(MemoryChunks(chunks, ascending: ascending), bounds: bounds)
            var walked: [PostingEntry] = []
            while let entry = try walk.next() { walked.append(entry) }
            #expect(walked == expected, "round \(round), bounds \(bounds)")
        }
    }

    @Test("the newest page of many slices reads only the newest chunks")
    func walkIsLazy() throws {
        // Ten slices of 100 entries, one after the other in time, in chunks of 10.
        var chunks: [PostingChunk] = []
        for slice in 0..<10 {
            let entries = (0..<100).map { offset in
                PostingEntry(sort: Int64(slice * 1_000 + offset), id: Int64(slice * 100 + offset))
            }
            chunks += PostingChunk.chunks(of: entries, maximumEntries: 10)
        }
        let source = MemoryChunks(chunks, ascending: false)
        var walk = PostingsWalk(source, bounds: PostingBounds(ascending: false))
        var page: [Int64] = []
        for _ in 0..<21 { page.append(try #require(try walk.next()).id) }
        #expect(page == Array((979...999).reversed()))
        // Only the three chunks holding the page were read (the directory was asked for a fourth, not its entries).
        #expect(source.reads.value == 3)
        var oldest = PostingsWalk(MemoryChunks(chunks, ascending: true), bounds: PostingBounds(ascending: true))
        #expect(try oldest.next()?.id == 0)
    }
}

/// Chunks held in memory, handed out in a directory's walk order, counting how many were read.
private struct MemoryChunks: PostingChunkSource {
    final class Counter: @unchecked Sendable { var value = 0 }

    private var refs: [PostingChunkRef]
    private let entries: [Int64: [PostingEntry]]
    let reads = Counter()

    init(_ chunks: [PostingChunk], ascending: Bool) {
        var entries: [Int64: [PostingEntry]] = [:]
        var refs: [PostingChunkRef] = []
        for (number, chunk) in chunks.enumerated() {
            entries[Int64(number)] = chunk.entries
            refs.append(PostingChunkRef(segment: 0, chunk: Int64(number), low: chunk.low, high: chunk.high))
        }
        self.refs = ascending ? refs.sorted { $0.low < $1.low } : refs.sorted { $0.high > $1.high }
        self.entries = entries
    }

    mutating func nextChunk() throws -> PostingChunkRef? {
        self.refs.isEmpty ? nil : self.refs.removeFirst()
    }

    func entries(of chunk: PostingChunkRef) throws -> [PostingEntry] {
        self.reads.value += 1
        return self.entries[chunk.chunk] ?? []
    }
}
