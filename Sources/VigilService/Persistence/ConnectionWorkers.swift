// SQLite calls block (disk I/O, fsync, the busy timeout), and Swift's cooperative pool has one thread per core (two
// here): one slow commit there would stall every task in the process. So each SQLite connection lives on a thread
// of its own, for its whole life (SQLITE_OPEN_NOMUTEX: a connection must never be used from two threads at once),
// and async callers hand it work through a bounded queue: the writer is one such thread, the readers a few more.
//
// Exactly-once resumption: a job leaves the Mutex-guarded queue exactly once, taken by a worker (which runs it),
// by `shutdown` (which fails it), or refused by `submit` (queue full or shut down); whoever takes it owns its
// continuation and resumes it exactly once. Jobs are not cancellable once queued: a write handed to the writer
// either commits or fails, and its caller always learns which.
import Dispatch
import Foundation
import Synchronization
import VigilSQLite

/// A few threads, each owning one `Database`, serving one shared bounded FIFO of jobs.
final class ConnectionWorkers: Sendable {
    /// One unit of work: run with a worker's connection, or failed without one.
    struct Job: Sendable {
        let run: @Sendable (Database) -> Void
        let fail: @Sendable (StoreError) -> Void
    }

    /// Hands a `Database` (not Sendable) to the thread that will own it.
    /// @unchecked: the creator builds the connection, puts it in the box and never touches it again; the one worker
    /// thread the box is given to takes it out (`take`) before its first job, so no two threads ever access it.
    private final class Handoff: @unchecked Sendable {
        private var database: Database?

        init(_ database: Database) { self.database = database }

        func take() -> Database? {
            defer { self.database = nil }
            return self.database
        }
    }

    private struct State {
        var queue: [Job] = []
        var head = 0
        var isShutDown = false

        var waiting: Int { self.queue.count - self.head }
    }

    /// Key of the worker's name in `Thread.current.threadDictionary`, set on every worker thread.
    static let threadKey = "vigil.connection-worker"

    let name: String
    let capacity: Int
    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)
    /// Signalled by each thread as it exits (after closing its connection), so `shutdown` can wait for them.
    private let exited = DispatchSemaphore(value: 0)
    private let threadCount: Int

    /// Starts one thread per connection, named `<name>-<n>`. `capacity` bounds the jobs waiting for a thread.
    /// `nameThread`, when given, is called first on each thread with its name.
    init(
        name: String, connections: [Database], capacity: Int, nameThread: (@Sendable (String) -> Void)? = nil
    ) {
        precondition(!connections.isEmpty, "a worker pool needs a connection")
        precondition(capacity >= 1, "a worker pool needs room for a job")
        self.name = name
        self.capacity = capacity
        self.threadCount = connections.count
        for (index, database) in connections.enumerated() {
            let handoff = Handoff(database)
            let threadName = "\(name)-\(index)"
            let thread = Thread { [self] in
                // Named from inside: on Linux a name set before `start()` is lost. Foundation's `Thread.current`
                // was seen to name nothing on a busy machine (a test found the indexer thread still called "vigild"
                // 30 s later), so `nameThread` (vigild's names it through pthread) names it too. The thread
                // dictionary records the same name where code (and tests) can check which thread runs a job,
                // whatever the OS shows.
                Thread.current.name = threadName
                nameThread?(threadName)
                Thread.current.threadDictionary[Self.threadKey] = threadName
                self.work(handoff)
            }
            thread.name = threadName
            thread.start()
        }
    }

    /// Jobs queued and not yet taken by a thread.
    var queueDepth: Int { self.state.withLock { $0.waiting } }

    /// Runs `body` with one of the connections on its thread and returns what it returns. Throws `overloaded` at
    /// once when the queue is full, `unavailable` after shutdown, and whatever `body` throws, mapped to StoreError.
    func run<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        let result: Result<T, StoreError> = await withCheckedContinuation { continuation in
            let job = Job(
                run: { database in
                    do {
                        continuation.resume(returning: .success(try body(database)))
                    } catch {
                        continuation.resume(returning: .failure(StoreError.from(error)))
                    }
                },
                fail: { continuation.resume(returning: .failure($0)) }
            )
            if let refusal = self.submit(job) { job.fail(refusal) }
        }
        return try result.get()
    }

    /// Queues `job`, or returns why it cannot be queued (the caller then fails it itself).
    func submit(_ job: Job) -> StoreError? {
        let refusal: StoreError? = self.state.withLock { state in
            if state.isShutDown { return StoreError(.unavailable, "the store is shut down") }
            if state.waiting >= self.capacity {
                return StoreError(.overloaded, "the \(self.name) queue is full (\(self.capacity) jobs); retry later")
            }
            state.queue.append(job)
            return nil
        }
        if refusal == nil { self.wakeup.signal() }
        return refusal
    }

    /// Fails every queued job with `unavailable`, lets running jobs finish and, with `wait`, waits for every thread
    /// to close its connection and exit. Idempotent. Waiting blocks: call it at process exit, never from a job.
    func shutdown(wait: Bool = true) {
        let dropped: [Job]? = self.state.withLock { state in
            guard !state.isShutDown else { return nil }
            state.isShutDown = true
            let dropped = Array(state.queue[state.head...])
            state.queue = []
            state.head = 0
            return dropped
        }
        guard let dropped else { return }
        for job in dropped { job.fail(StoreError(.unavailable, "the store shut down before running this call")) }
        for _ in 0..<self.threadCount { self.wakeup.signal() }
        if wait {
            for _ in 0..<self.threadCount { self.exited.wait() }
        }
    }

    /// A worker thread's body: takes its connection, serves jobs until shutdown, and signals `exited` only after the
    /// connection is released (closed) at the end of the `if let` scope.
    private func work(_ handoff: Handoff) {
        if let database = handoff.take() {
            self.serve(database)
        }
        self.exited.signal()
    }

    private func serve(_ database: Database) {
        while true {
            self.wakeup.wait()
            let next: Job?? = self.state.withLock { state in
                if state.waiting > 0 {
                    let job = state.queue[state.head]
                    state.head += 1
                    // Compact now and then so the array does not grow without bound under steady load.
                    if state.head >= 1024 && state.head * 2 >= state.queue.count {
                        state.queue.removeFirst(state.head)
                        state.head = 0
                    }
                    return .some(job)
                }
                return state.isShutDown ? .none : .some(nil)
            }
            switch next {
            case .none: return
            case .some(.none): continue
            case .some(.some(let job)): job.run(database)
            }
        }
    }
}
