// The loop's contracts without sockets: work from many threads runs exactly once and in order per submitter,
// timers fire in deadline order and never after cancel, the loop works as a Swift executor, and shutdown is final.
import Foundation
import Synchronization
import Testing
import VigilNet
import VigilPOSIX
import VigilRPC
import VigilTesting

/// Loop-confined storage for what tasks recorded. `@unchecked Sendable`: only the loop thread appends to it, and
/// the test reads it through `submit`, which runs on that same thread.
private final class LoopRecord: @unchecked Sendable {
    var entries: [(submitter: Int, sequence: Int)] = []
    var fired: [Int] = []
}

@Suite("EventLoop")
struct EventLoopTests {
    @Test("runs every task from other threads exactly once, in submission order per thread")
    func executeFromManyThreads() async throws {
        let loop = try EventLoop(name: "test-execute")
        let record = LoopRecord()
        let submitters = 4
        let perSubmitter = 20_000
        await withTaskGroup(of: Void.self) { group in
            for submitter in 0..<submitters {
                group.addTask {
                    for sequence in 0..<perSubmitter {
                        let accepted = loop.execute {
                            #expect(loop.inEventLoop)
                            record.entries.append((submitter, sequence))
                        }
                        #expect(accepted)
                    }
                }
            }
        }
        let entries = try await loop.submit { record.entries }
        #expect(entries.count == submitters * perSubmitter)
        var next = [Int](repeating: 0, count: submitters)
        for entry in entries {
            #expect(entry.sequence == next[entry.submitter], "submitter \(entry.submitter) out of order")
            next[entry.submitter] = entry.sequence + 1
        }
        #expect(next == [Int](repeating: perSubmitter, count: submitters))
        await loop.shutdown()
    }

    @Test("knows its own thread")
    func inEventLoop() async throws {
        let loop = try EventLoop(name: "test-thread")
        #expect(!loop.inEventLoop)
        #expect(try await loop.submit { loop.inEventLoop })
        await loop.shutdown()
    }

    @Test("fires timers in deadline order and never fires cancelled ones")
    func timers() async throws {
        let loop = try EventLoop(name: "test-timers")
        let record = LoopRecord()
        var generator = SplitMix64(state: 42)
        let delays = (0..<40).map { $0 }.shuffled(using: &generator)
        var cancelled: Set<Int> = []
        var timers: [ScheduledTimer] = []
        for delay in delays {
            timers.append(loop.schedule(after: .milliseconds(5 + 3 * delay)) { record.fired.append(delay) })
        }
        for (index, delay) in delays.enumerated() where delay % 3 == 0 {
            timers[index].cancel()
            cancelled.insert(delay)
        }
        let expected = (0..<40).filter { !cancelled.contains($0) }
        try await eventually("timers to fire") {
            try await loop.submit { record.fired.count } >= expected.count
        }
        try await Task.sleep(for: .milliseconds(100))
        let fired = try await loop.submit { record.fired }
        #expect(fired == expected)
        #expect(timers.filter(\.isCancelled).count == cancelled.count)
        await loop.shutdown()
    }

    @Test("as the RPC layer's CallTimers: fires at an instant on the loop thread, at once if it passed, never if cancelled")
    func callTimers() async throws {
        let loop = try EventLoop(name: "test-call-timers")
        let timers: any CallTimers = loop
        let fired = Mutex<[String]>([])
        let onLoop = Atomic<Bool>(true)
        func note(_ name: String) -> @Sendable () -> Void {
            { [loop] in
                if !loop.inEventLoop { onLoop.store(false, ordering: .relaxed) }
                fired.withLock { $0.append(name) }
            }
        }
        let now = ContinuousClock.now
        _ = timers.schedule(at: now + .milliseconds(30), note("later"))
        _ = timers.schedule(at: now - .seconds(1), note("passed"))
        let cancelled = timers.schedule(at: now + .milliseconds(10), note("cancelled"))
        cancelled.cancel()
        try await eventually("the timers to fire") { fired.withLock { $0.count } >= 2 }
        try await Task.sleep(for: .milliseconds(50))
        #expect(fired.withLock { $0 } == ["passed", "later"])
        let allOnLoop = onLoop.load(ordering: .relaxed)
        #expect(allOnLoop)
        await loop.shutdown()
    }

    @Test("fires timers with the same deadline in the order they were set, and cancel on the loop always wins")
    func timerTies() async throws {
        let loop = try EventLoop(name: "test-ties")
        let record = LoopRecord()
        try await loop.submit {
            for index in 0..<10 {
                let timer = loop.schedule(after: .milliseconds(10)) { record.fired.append(index) }
                if index == 4 { timer.cancel() }
            }
            // Due at once, then cancelled before the loop gets to run it: must not fire.
            loop.schedule(after: .zero) { record.fired.append(99) }.cancel()
        }
        try await eventually("timers to fire") { try await loop.submit { record.fired.count } >= 9 }
        try await Task.sleep(for: .milliseconds(30))
        #expect(try await loop.submit { record.fired } == [0, 1, 2, 3, 5, 6, 7, 8, 9])
        await loop.shutdown()
    }

    @Test("work queued on the loop's own thread after it slept runs in that turn without an eventfd write")
    func executeOnLoopDoesNotPoke() async throws {
        let loop = try EventLoop(name: "test-no-poke")
        let record = LoopRecord()
        let writesWhileQueueing = Mutex<Int?>(nil)
        // A timer fires right after an epoll_wait the loop entered with nothing queued, the state in which work
        // from another thread must poke the eventfd; from the loop's own thread it must not.
        _ = loop.schedule(after: .milliseconds(20)) {
            guard let before = try? ThreadSyscalls.current() else { return }
            for index in 0..<10 {
                loop.execute { record.fired.append(index) }
            }
            guard let after = try? ThreadSyscalls.current() else { return }
            writesWhileQueueing.withLock { $0 = (after - before).writes }
        }
        // Nothing else may reach the loop until the timer fired: a poke from a poll would wake it first.
        try await Task.sleep(for: .milliseconds(200))
        try await eventually("the queued work to run") { try await loop.submit { record.fired.count } == 10 }
        #expect(writesWhileQueueing.withLock { $0 } == 0)
        #expect(try await loop.submit { record.fired } == Array(0..<10))
        await loop.shutdown()
    }

    @Test("a loop that was busy sleeps again once work stops: it yields and looks once, then blocks")
    func busyLoopSleepsWhenIdle() async throws {
        let loop = try EventLoop(name: "test-idle")
        // Busy: work from another thread wakes it turn after turn (each wake-up is an event).
        for _ in 0..<2_000 {
            _ = loop.execute {}
        }
        _ = try await loop.submit {}
        let before = try await loop.submit { try Self.threadCPUTime() }
        try await Task.sleep(for: .milliseconds(300))
        let after = try await loop.submit { try Self.threadCPUTime() }
        // Blocked in epoll_wait the thread uses no CPU; one that kept yielding and polling would use most of the
        // 300 ms (and all of it on an idle core).
        #expect(after - before < .milliseconds(60), "the idle loop ran for \(after - before)")
        await loop.shutdown()
    }

    /// CPU time of the calling thread so far (first field of `/proc/thread-self/schedstat`, in nanoseconds).
    static func threadCPUTime() throws -> Duration {
        let text = try String(contentsOfFile: "/proc/thread-self/schedstat", encoding: .utf8)
        guard let field = text.split(separator: " ").first, let nanoseconds = Int64(field) else {
            throw ThreadSyscalls.Unreadable()
        }
        return .nanoseconds(nanoseconds)
    }

    @Test("runs a task that prefers the loop on the loop thread")
    func taskExecutor() async throws {
        let loop = try EventLoop(name: "test-executor")
        let onLoop = await Task(executorPreference: loop) { loop.inEventLoop }.value
        #expect(onLoop)
        let counter = LoopCounter(loop: loop)
        for _ in 0..<100 {
            await counter.increment()
        }
        #expect(await counter.value == 100)
        await loop.shutdown()
    }

    @Test("refuses work after shutdown and fails submit instead of hanging")
    func shutdown() async throws {
        let loop = try EventLoop(name: "test-shutdown")
        let ran = Atomic<Int>(0)
        loop.execute { ran.add(1, ordering: .relaxed) }
        await loop.shutdown()
        #expect(ran.load(ordering: .relaxed) == 1)
        #expect(!loop.execute {})
        await #expect(throws: ConnectionError.self) { try await loop.submit { 1 } }
        await loop.shutdown()
    }

    @Test("shuts down synchronously from a plain thread, running what was queued first")
    func syncShutdown() async throws {
        let loop = try EventLoop(name: "test-sync-shutdown")
        let ran = Atomic<Int>(0)
        for _ in 0..<100 {
            loop.execute { ran.add(1, ordering: .relaxed) }
        }
        // syncShutdown blocks in join, so it runs on a thread of its own, never on the cooperative pool.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            do {
                _ = try POSIXThread(name: "test-joiner") {
                    loop.syncShutdown()
                    continuation.resume()
                }
            } catch {
                Issue.record("cannot start a thread: \(error)")
                continuation.resume()
            }
        }
        #expect(ran.load(ordering: .relaxed) == 100)
        #expect(!loop.execute {})
    }

    @Test("hands out its loops round-robin")
    func groupRoundRobin() async throws {
        let group = try EventLoopGroup(loopCount: 3, namePrefix: "test-group")
        let picks = (0..<6).map { _ in ObjectIdentifier(group.next()) }
        #expect(Array(picks[0..<3]) == Array(picks[3..<6]))
        #expect(Set(picks).count == 3)
        await group.shutdown()
    }
}

/// An actor isolated to an event loop: its methods run on the loop thread.
private actor LoopCounter {
    let loop: EventLoop
    let executor: LoopSerialExecutor
    var value = 0

    init(loop: EventLoop) {
        self.loop = loop
        self.executor = loop.serialExecutor
    }

    nonisolated var unownedExecutor: UnownedSerialExecutor { self.executor.asUnownedSerialExecutor() }

    func increment() {
        precondition(self.loop.inEventLoop)
        self.value += 1
    }
}
