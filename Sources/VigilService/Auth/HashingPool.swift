// PBKDF2 at 600,000 iterations takes about 80 ms of CPU. On Swift's cooperative pool (one thread per core, two
// here) two logins would stall every other RPC; on an I/O loop they would stall its connections. So hashing gets
// a few threads of its own and a bounded queue: a login storm waits here, or is told `busy`, while everything else
// keeps running. While data RPCs are being served the threads also pace themselves (HashingPace), so a storm
// takes at most a fixed share of a core from lists and ingest (README, "Lists under load"). `onThreadStart` runs
// first on each thread, given its name (vigild names the kernel thread there and can lower its priority,
// `--hashing-nice`). Callers await a result; the job's continuation is resumed exactly once, by whichever of
// worker, cancellation or shutdown takes the job out of the Mutex-guarded queue first.
import Dispatch
import Foundation
import Synchronization

/// A small pool of dedicated threads for password hashing.
public final class HashingPool: Sendable {
    /// Two threads: enough to use both cores under a login burst, few enough to leave the cores to other work.
    public static let defaultThreadCount = 2
    /// Jobs waiting beyond the running ones; at ~80 ms each, 64 is under 3 s of work for two threads (about
    /// 20 s at the default paced share).
    public static let defaultQueueCapacity = 64

    public let hasher: PasswordHasher
    public let threadCount: Int
    public let queueCapacity: Int
    private let core: Core
    private let pacer: HashingPacer

    /// Starts `threadCount` threads named `vigil-hash-<n>`; they stop at `shutdown()` or when the pool is freed.
    public init(
        hasher: PasswordHasher = PasswordHasher(),
        threadCount: Int = HashingPool.defaultThreadCount,
        queueCapacity: Int = HashingPool.defaultQueueCapacity,
        pace: HashingPace = HashingPace(),
        onThreadStart: (@Sendable (_ name: String) -> Void)? = nil
    ) {
        precondition(threadCount >= 1, "a hashing pool needs a thread")
        precondition(queueCapacity >= 0, "negative queue capacity")
        self.hasher = hasher
        self.threadCount = threadCount
        self.queueCapacity = queueCapacity
        self.core = Core(capacity: queueCapacity)
        self.pacer = HashingPacer(pace: pace, threadCount: threadCount)
        for index in 0..<threadCount {
            let core = self.core
            let name = "vigil-hash-\(index)"
            // Named from inside: on Linux a name set before `start()` is lost and the thread keeps its creator's.
            let thread = Thread {
                Thread.current.name = name
                onThreadStart?(name)
                core.work()
            }
            thread.name = name
            thread.start()
        }
    }

    deinit {
        self.core.shutdown(threadCount: self.threadCount)
    }

    /// How hashing shares the CPU with other RPCs.
    public var pace: HashingPace { self.pacer.pace }

    /// Records that a data RPC arrived: for `pace.busyWindow` from now, hashing is paced. Cheap (one atomic store);
    /// the server calls it for every token-bearing call and every ingest batch.
    public func noteDemand() {
        self.pacer.noteDemand()
    }

    /// Time the hashing threads have spent pausing for `pace`, in total: for metrics and tests.
    public var pausedTime: Duration { self.pacer.pausedTime }

    /// Pauses the hashing threads have taken for `pace`, in total (one per paced step): for metrics and tests.
    public var pauseCount: Int { self.pacer.pauseCount }

    /// Jobs waiting for a thread (not those running): for metrics and tests.
    public var queueDepth: Int { self.core.state.withLock { $0.queue.count } }

    /// Fails every waiting job with `shutDown`, refuses new ones, and lets the threads exit after their current job.
    public func shutdown() {
        self.core.shutdown(threadCount: self.threadCount)
    }

    // MARK: Password work

    /// `hasher.hash(password)` on a pool thread. Throws `HashingPoolError` or `PasswordHashError`.
    public func hash(_ password: String) async throws -> String {
        let hasher = self.hasher
        let pacer = self.pacer
        return try await self.run {
            Result { () throws(PasswordHashError) in try hasher.hash(password, steps: pacer.steps()) }
        }.get()
    }

    /// `hasher.verify(password, against: encoded)` on a pool thread.
    public func verify(_ password: String, against encoded: String) async throws(HashingPoolError) -> Bool {
        let hasher = self.hasher
        let pacer = self.pacer
        return try await self.run { hasher.verify(password, against: encoded, steps: pacer.steps()) }
    }

    /// Verifies against a user's stored hash, or against the dummy hash when there is no such user (nil), so
    /// the caller has one path whose cost does not say whether the username exists.
    public func verify(_ password: String, againstStoredHash encoded: String?) async throws(HashingPoolError) -> Bool {
        guard let encoded else { return try await self.verifyDummy(password) }
        return try await self.verify(password, against: encoded)
    }

    /// `hasher.verifyDummy(password)` on a pool thread: the same cost as `verify`, always false.
    public func verifyDummy(_ password: String) async throws(HashingPoolError) -> Bool {
        let hasher = self.hasher
        let pacer = self.pacer
        return try await self.run { hasher.verifyDummy(password, steps: pacer.steps()) }
    }

    /// Runs `work` on a pool thread and returns its result. Throws `busy` at once when the queue is full,
    /// `cancelled` when the task is cancelled before a thread takes the job (a started job runs to the end),
    /// and `shutDown` when the pool stops first.
    public func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws(HashingPoolError) -> T {
        let core = self.core
        let id = core.reserve()
        let result: Result<T, HashingPoolError> = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, HashingPoolError>, Never>) in
                let job = Job(
                    id: id,
                    run: { continuation.resume(returning: .success(work())) },
                    fail: { continuation.resume(returning: .failure($0)) }
                )
                if let refusal = core.enqueue(job) { job.fail(refusal) }
            }
        } onCancel: {
            core.cancel(id)
        }
        return try result.get()
    }
}

// MARK: - The queue

extension HashingPool {
    /// One submitted call. Whoever removes it from `Core.State` (a worker, `cancel`, `shutdown`, or a refused
    /// `enqueue`) is its only owner, and calls exactly one of `run` or `fail`, exactly once.
    struct Job: Sendable {
        let id: UInt64
        let run: @Sendable () -> Void
        let fail: @Sendable (HashingPoolError) -> Void
    }

    /// The state shared by the pool's threads and its callers.
    final class Core: Sendable {
        struct State {
            var queue: [Job] = []
            /// Ids handed out by `reserve` whose job is not yet enqueued: a cancellation arriving in that gap is
            /// remembered here and honoured by `enqueue`.
            var reserved: [UInt64: Bool] = [:]
            var nextID: UInt64 = 0
            var isShutDown = false
        }

        let capacity: Int
        let state = Mutex(State())
        /// One signal per enqueued job and one per thread at shutdown; a worker wakes for each.
        let wakeup = DispatchSemaphore(value: 0)

        init(capacity: Int) {
            self.capacity = capacity
        }

        func reserve() -> UInt64 {
            self.state.withLock { state in
                state.nextID += 1
                state.reserved[state.nextID] = false
                return state.nextID
            }
        }

        /// Queues `job`, or returns why it cannot be queued (the caller then fails it).
        func enqueue(_ job: Job) -> HashingPoolError? {
            let refusal: HashingPoolError? = self.state.withLock { state in
                let cancelled = state.reserved.removeValue(forKey: job.id) ?? false
                if cancelled { return HashingPoolError(.cancelled, "the caller was cancelled") }
                if state.isShutDown { return HashingPoolError(.shutDown, "the hashing pool has shut down") }
                if state.queue.count >= self.capacity {
                    return HashingPoolError(.busy, "too many password checks are waiting; try again shortly")
                }
                state.queue.append(job)
                return nil
            }
            if refusal == nil { self.wakeup.signal() }
            return refusal
        }

        /// Fails the job `id` with `cancelled` if it is still waiting; a running or finished job is left alone.
        func cancel(_ id: UInt64) {
            let removed: Job? = self.state.withLock { state in
                if state.reserved[id] != nil {
                    state.reserved[id] = true
                    return nil
                }
                guard let index = state.queue.firstIndex(where: { $0.id == id }) else { return nil }
                return state.queue.remove(at: index)
            }
            removed?.fail(HashingPoolError(.cancelled, "the caller was cancelled"))
        }

        func shutdown(threadCount: Int) {
            let dropped: [Job]? = self.state.withLock { state in
                guard !state.isShutDown else { return nil }
                state.isShutDown = true
                defer { state.queue.removeAll() }
                return state.queue
            }
            guard let dropped else { return }
            for job in dropped { job.fail(HashingPoolError(.shutDown, "the hashing pool has shut down")) }
            for _ in 0..<threadCount { self.wakeup.signal() }
        }

        /// A pool thread's loop: take the oldest job and run it, until shutdown leaves the queue empty.
        func work() {
            while true {
                self.wakeup.wait()
                let next: Job?? = self.state.withLock { state in
                    if !state.queue.isEmpty { return .some(state.queue.removeFirst()) }
                    return state.isShutDown ? .none : .some(nil)
                }
                switch next {
                case .none: return
                case .some(.none): continue  // the signal was for a job cancelled before it was taken
                case .some(.some(let job)): job.run()
                }
            }
        }
    }
}
