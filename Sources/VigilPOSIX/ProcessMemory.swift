// Resident memory of a process from /proc, so tests and vigilbench can assert memory bounds ("10,000 idle
// connections under 300 MB") without Foundation. statm is one short line, cheap enough to sample in a loop.
import Glibc

public enum ProcessMemory {
    /// Resident set size of this process, in bytes.
    public static func residentBytes() throws(Errno) -> Int {
        try self.residentBytes(statmPath: "/proc/self/statm")
    }

    /// Resident set size of process `pid`, in bytes (e.g. the server, measured from the benchmark client).
    public static func residentBytes(ofProcess pid: Int32) throws(Errno) -> Int {
        try self.residentBytes(statmPath: "/proc/\(pid)/statm")
    }

    /// statm's second field is resident pages ("size resident shared text lib data dt").
    private static func residentBytes(statmPath: String) throws(Errno) -> Int {
        let text = try self.readSmallFile(statmPath)
        let fields = text.split(separator: UInt8(ascii: " "))
        guard fields.count >= 2, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else {
            throw Errno.invalidArgument
        }
        let pageSize = max(sysconf(Int32(_SC_PAGESIZE)), 1)
        return pages * pageSize
    }

    /// Reads a /proc file of at most a few hundred bytes (they report size 0, so read until EOF).
    private static func readSmallFile(_ path: String) throws(Errno) -> [UInt8] {
        let descriptor = try Syscall.run { open(path, O_RDONLY | O_CLOEXEC) }
        defer { try? Syscall.close(descriptor) }
        return try withUnsafeTemporaryAllocation(byteCount: 256, alignment: 1) { (chunk) throws(Errno) in
            var contents: [UInt8] = []
            while contents.count < 4096 {
                let count = try Syscall.run { read(descriptor, chunk.baseAddress, chunk.count) }
                if count == 0 {
                    break
                }
                contents += chunk[..<count]
            }
            return contents
        }
    }
}
