// Limits that protect the server: descriptor exhaustion pauses accepting instead of spinning (checked in a child
// process, since it lowers the process-wide descriptor limit), and idle connections are closed.
import Foundation
import Synchronization
import Testing
import VigilNet
import VigilPOSIX
import VigilTesting

extension LoopbackTests {
    @Suite("Server limits")
    struct ResourceLimitTests {
        @Test("pauses accepting while descriptors run out instead of spinning, then accepts the waiting clients")
        func descriptorExhaustion() async {
            let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
                try await exhaustDescriptorsThenRecover()
            }
            if let result, result.exitStatus != .exitCode(0) {
                print(String(decoding: result.standardErrorContent, as: UTF8.self))
            }
        }

        @Test("closes a connection with no traffic for the idle timeout, and not one that keeps talking")
        func idleTimeout() async throws {
            let server = try await EchoServer(options: TLSConnection.Options(idleTimeout: .seconds(1)))
            let log = ConnectionLog()
            let client = try await server.connectClient(log: log)
            for round in 1...15 {
                client.eventLoop.execute { client.write([UInt8(round)]) }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(!log.isClosed, "client: \(String(describing: log.state.withLock { $0.error }))")
            #expect(
                server.logs.all.first?.isClosed == false,
                "\(String(describing: server.logs.all.first?.state.withLock { $0.error }))")
            try await eventually("the idle timeout") { server.logs.all.first?.isClosed == true && log.isClosed }
            #expect(server.logs.all.first?.errorCode == .idleTimeout)
            await server.shutdown()
        }
    }
}

/// Runs in the child: lowers RLIMIT_NOFILE, fills every free descriptor, connects clients into the backlog (the
/// server cannot accept them: EMFILE), checks the listener paused a few times rather than spinning, frees the
/// descriptors and checks every waiting client is then accepted. Exits non-zero on any failed check.
private func exhaustDescriptorsThenRecover() async throws {
    // Dispatch (under Task.sleep) opens its own epoll, eventfd and timerfd on first use and traps if it cannot: let
    // it do that before the descriptors run out.
    try await Task.sleep(for: .milliseconds(1))
    // Relative to what the child already holds, which depends on how the test runner started it.
    let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    let limit = try ResourceLimits.openFiles()
    try ResourceLimits.setOpenFiles(ResourceLimit(current: UInt64(open + 64), maximum: limit.maximum))
    // No reserve: this checks what happens when accept itself meets EMFILE.
    let server = try await EchoServer(loops: 1, descriptorReserve: 0)
    var fillers: [Socket] = []
    while true {
        do {
            fillers.append(try Socket(family: .ipv4))
        } catch {
            guard error == .tooManyOpenFiles else { fail(10, "filling descriptors: \(error)") }
            break
        }
    }
    let clientCount = 8
    guard fillers.count > clientCount else { fail(13, "only \(fillers.count) descriptors were free") }
    fillers.removeLast(clientCount + 1)  // one spare for the listener's would-be accepted socket to fail on
    // The server accepts while clients connect, and both take descriptors from the same nine: whichever way that
    // race goes, the clients stop (all connected, or EMFILE) with at least one left that the server cannot accept.
    var peers: [Socket] = []
    for _ in 0..<clientCount {
        do {
            peers.append(try Socket.connecting(to: server.address).0)
        } catch {
            guard error == .tooManyOpenFiles else { fail(14, "connecting: \(error)") }
            break
        }
    }
    // Blocking, not Task.sleep: while no descriptor is free nothing may be queued on Dispatch's pool, whose monitor
    // then opens /proc/<tid>/stat each second and traps the process when it cannot (CI saw that SIGILL).
    usleep(450_000)
    let pauses = server.server.acceptPauseCount
    guard (1...10).contains(pauses) else { fail(11, "\(pauses) accept pauses in 450 ms") }
    fillers.removeAll()
    try await eventually("the waiting clients to be accepted") { server.server.connectionCount == peers.count }
    guard server.server.rejectedConnectionCount == 0 else { fail(12, "connections were rejected") }
    withExtendedLifetime(peers) {}
    await server.shutdown()
}

private func fail(_ status: Int32, _ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(status)
}
