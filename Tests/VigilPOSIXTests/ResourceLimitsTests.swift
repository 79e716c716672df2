import Glibc
import Testing
import VigilPOSIX

@Suite("Resource limits and memory")
struct ResourceLimitsTests {
    @Test("the open-files limit reads back and can be raised to the hard limit")
    func openFiles() throws {
        let before = try ResourceLimits.openFiles()
        #expect(before.current > 0)
        #expect(before.current <= before.maximum)
        let after = try ResourceLimits.raiseOpenFiles(to: before.current)
        #expect(after == before)
        let raised = try ResourceLimits.raiseOpenFiles()
        #expect(raised.current >= before.current)
        #expect(raised == (try ResourceLimits.openFiles()))
    }

    @Test("accept reports EMFILE as resource exhaustion when the process is out of descriptors")
    func acceptOutOfDescriptors() async {
        // In a child process: lowering RLIMIT_NOFILE here would break every test running alongside.
        await #expect(processExitsWith: .success) {
            let listener = try Socket.listening(on: .ipv4Loopback(port: 0))
            let (client, _) = try Socket.connecting(to: try listener.localAddress())
            try waitFor(listener.fileDescriptor, .readable, what: "a pending connection")
            let limit = try ResourceLimits.openFiles()
            try ResourceLimits.setOpenFiles(ResourceLimit(current: 0, maximum: limit.maximum))
            var failure: Errno?
            do {
                _ = try listener.accept()
            } catch let error as Errno {
                failure = error
            }
            try ResourceLimits.setOpenFiles(limit)
            guard let failure, failure == .tooManyOpenFiles, failure.isResourceExhaustion else {
                exit(10)
            }
            // The connection is still pending once descriptors are available again.
            guard case .processed = try listener.accept() else {
                exit(11)
            }
            withExtendedLifetime(client) {}
        }
    }

    @Test("resident memory is positive and grows when pages are touched")
    func residentMemory() throws {
        let before = try ProcessMemory.residentBytes()
        #expect(before > 0)
        #expect(try ProcessMemory.residentBytes(ofProcess: getpid()) > 0)
        let size = 64 << 20
        let block = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
        defer { block.deallocate() }
        block.initializeMemory(as: UInt8.self, repeating: 1, count: size)
        let after = try ProcessMemory.residentBytes()
        #expect(after - before >= size / 2, "RSS grew by \(after - before) bytes")
    }

    @Test("asking about a process that does not exist fails with ENOENT")
    func missingProcess() {
        #expect(throws: Errno.noSuchFile) { try ProcessMemory.residentBytes(ofProcess: Int32.max) }
    }
}
