// HashingPool: work runs on threads of its own (never the cooperative pool), two jobs really run at once, a full
// queue answers `busy` at once, cancellation of a waiting job and shutdown each resume the caller exactly once.
import Dispatch
import Foundation
import Glibc
import Synchronization
import Testing
import VigilService

@Suite struct AuthHashingPoolTests {
    let hasher = PasswordHasher(iterations: 1000)

    @Test("onThreadStart runs once on each pool thread, off the caller's")
    func threadStartHook() async throws {
        // pthread ids, not Foundation's `Thread.current` (whose name was once read back as a dispatch thread's).
        let started = Mutex<[UInt]>([])
        let pool = HashingPool(hasher: self.hasher, threadCount: 2, onThreadStart: { name in
            #expect(name.hasPrefix("vigil-hash-"))
            started.withLock { $0.append(UInt(pthread_self())) }
        })
        defer { pool.shutdown() }
        _ = try await pool.hash("correct horse battery staple")
        for _ in 0..<3000 where started.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(10)) }
        let threads = started.withLock { $0 }
        #expect(threads.count == 2 && Set(threads).count == 2, "\(threads)")
    }

    /// Polls `condition` every millisecond for up to five seconds.
    static func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<5000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(1))
        }
        Issue.record("condition not met within 5 s")
    }

    /// Fills a one-thread pool: a job (answering 1) holds the thread until `release` is signalled, and a second
    /// job (answering 2) waits in the queue behind it.
    static func occupy(_ pool: HashingPool) async throws
        -> (release: DispatchSemaphore, running: Task<Int, any Error>, waiting: Task<Int, any Error>)
    {
        let release = DispatchSemaphore(value: 0)
        let started = Locked(false)
        let running = Task {
            try await pool.run { () -> Int in
                started.update { $0 = true }
                release.wait()
                return 1
            }
        }
        try await Self.waitUntil { started.value }
        let waiting = Task { try await pool.run { 2 } }
        try await Self.waitUntil { pool.queueDepth == 1 }
        return (release, running, waiting)
    }

    @Test("hashes and verifies on the pool's own threads")
    func hashAndVerify() async throws {
        let pool = HashingPool(hasher: self.hasher)
        let encoded = try await pool.hash("correct horse battery staple")
        #expect(try await pool.verify("correct horse battery staple", against: encoded))
        #expect(try await !pool.verify("wrong horse battery staple", against: encoded))
        #expect(try await !pool.verify("anything", against: "garbage"))
        #expect(try await !pool.verifyDummy("anything"))
        #expect(try await pool.verify("correct horse battery staple", againstStoredHash: encoded))
        #expect(try await !pool.verify("correct horse battery staple", againstStoredHash: nil))
        // Work runs on a plain thread, outside any Swift task: not on the cooperative pool.
        let insideTask = try await pool.run { withUnsafeCurrentTask { $0 != nil } }
        #expect(!insideTask)
        #expect(withUnsafeCurrentTask { $0 != nil })
        #expect(HashingPool.defaultThreadCount == 2)
    }

    @Test("two jobs run at the same time on the default two threads")
    func concurrency() async throws {
        let pool = HashingPool(hasher: self.hasher)
        let first = DispatchSemaphore(value: 0)
        let second = DispatchSemaphore(value: 0)
        // Each job announces itself and waits for the other: run one after the other, both would time out.
        async let a = pool.run { () -> Bool in
            first.signal()
            return second.wait(timeout: .now() + 5) == .success
        }
        async let b = pool.run { () -> Bool in
            second.signal()
            return first.wait(timeout: .now() + 5) == .success
        }
        let (ranA, ranB) = try await (a, b)
        #expect(ranA && ranB)
    }

    @Test("many concurrent verifications all complete with the right answers")
    func manyCallers() async throws {
        let pool = HashingPool(hasher: PasswordHasher(iterations: 100), queueCapacity: 64)
        let encoded = try await pool.hash("the right password")
        let results = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for index in 0..<40 {
                group.addTask {
                    (
                        index,
                        try await pool.verify(index.isMultiple(of: 2) ? "the right password" : "no", against: encoded)
                    )
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == 40)
        for (index, ok) in results { #expect(ok == index.isMultiple(of: 2)) }
    }

    @Test("a full queue answers busy at once; waiting jobs still complete")
    func busy() async throws {
        let pool = HashingPool(hasher: self.hasher, threadCount: 1, queueCapacity: 1)
        let (release, blocker, queued) = try await Self.occupy(pool)
        let refused = await #expect(throws: HashingPoolError.self) { try await pool.run { 3 } }
        #expect(refused?.code == .busy)
        let refusedVerify = await #expect(throws: HashingPoolError.self) {
            try await pool.verify("x", against: self.hasher.dummyHash)
        }
        #expect(refusedVerify?.code == .busy)
        release.signal()
        #expect(try await blocker.value == 1)
        #expect(try await queued.value == 2)
        #expect(try await pool.run { 4 } == 4)
    }

    @Test("cancelling a waiting job resumes it with cancelled; a running job finishes")
    func cancellation() async throws {
        let pool = HashingPool(hasher: self.hasher, threadCount: 1, queueCapacity: 4)
        let (release, running, waiting) = try await Self.occupy(pool)
        waiting.cancel()
        running.cancel()
        let error = await #expect(throws: HashingPoolError.self) { try await waiting.value }
        #expect(error?.code == .cancelled)
        #expect(pool.queueDepth == 0)
        release.signal()
        #expect(try await running.value == 1)
        // A task cancelled before it submits never runs its job.
        let ran = Locked(false)
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await pool.run { ran.update { $0 = true } }
        }
        #expect(await #expect(throws: HashingPoolError.self) { try await early.value }?.code == .cancelled)
        #expect(!ran.value)
    }

    @Test("shutdown fails waiting jobs and refuses new ones")
    func shutdown() async throws {
        let pool = HashingPool(hasher: self.hasher, threadCount: 1, queueCapacity: 4)
        let (release, running, waiting) = try await Self.occupy(pool)
        pool.shutdown()
        #expect(await #expect(throws: HashingPoolError.self) { try await waiting.value }?.code == .shutDown)
        #expect(await #expect(throws: HashingPoolError.self) { try await pool.run { 3 } }?.code == .shutDown)
        release.signal()
        #expect(try await running.value == 1)
    }

    @Test("a storm of cancellations racing completions resumes every caller exactly once")
    func cancellationRace() async throws {
        let pool = HashingPool(hasher: self.hasher, threadCount: 2, queueCapacity: 1000)
        let outcomes = Locked((completed: 0, cancelled: 0))
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<500 {
                group.addTask {
                    let task = Task { try await pool.run { index } }
                    if index.isMultiple(of: 2) { task.cancel() }
                    do {
                        #expect(try await task.value == index)
                        outcomes.update { $0.completed += 1 }
                    } catch {
                        #expect((error as? HashingPoolError)?.code == .cancelled)
                        outcomes.update { $0.cancelled += 1 }
                    }
                }
            }
        }
        let (completed, cancelled) = outcomes.value
        #expect(completed + cancelled == 500)
        #expect(completed >= 250)
    }
}
