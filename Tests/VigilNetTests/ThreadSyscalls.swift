// The calling thread's syscall counters, for tests that assert how many syscalls a loop spends on something.
import Foundation

struct ThreadSyscalls: Equatable {
    var reads: Int
    var writes: Int

    struct Unreadable: Error {}

    /// `syscr` and `syscw` of `/proc/thread-self/io`. Reading the file costs reads of its own, a constant that tests
    /// measure the same way (two readings in a row) and subtract.
    static func current() throws -> ThreadSyscalls {
        let text = try String(contentsOfFile: "/proc/thread-self/io", encoding: .utf8)
        var counts: [Substring: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":")
            if parts.count == 2 { counts[parts[0]] = Int(parts[1].trimmingCharacters(in: .whitespaces)) }
        }
        guard let reads = counts["syscr"], let writes = counts["syscw"] else { throw Unreadable() }
        return ThreadSyscalls(reads: reads, writes: writes)
    }

    static func - (lhs: ThreadSyscalls, rhs: ThreadSyscalls) -> ThreadSyscalls {
        ThreadSyscalls(reads: lhs.reads - rhs.reads, writes: lhs.writes - rhs.writes)
    }
}
