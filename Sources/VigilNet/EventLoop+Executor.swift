// The loop as a Swift concurrency executor, so a connection's handler code can run on the thread where its bytes
// arrive: `Task(executorPreference: loop)` runs a task's synchronous stretches on the loop (TaskExecutor), and an
// actor whose `unownedExecutor` is `loop.serialExecutor` is isolated to it. Each hop onto the loop is one
// `execute`, so a burst of resumed tasks costs one eventfd wake-up, like any other batch of work.
//
// A job enqueued after the loop shut down is dropped and its task never resumes: shut loops down only after the
// tasks that prefer them have finished.

extension EventLoop: TaskExecutor {
    /// Runs the job as a task executor's: on this thread, isolated to nothing. Running task jobs isolated to the
    /// loop's serial executor instead made every call from a handler into a nonisolated async function (each
    /// `next()` of a request stream) a `swift_task_switch` off that executor, and so one more enqueue and loop turn
    /// per message (perf: `getPreferredTaskExecutor` and `withStatusRecordLock`, 7 % of a 128-byte sink).
    public func enqueue(_ job: consuming ExecutorJob) {
        _ = self.enqueue(.job(UnownedJob(job)))
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    /// The loop as a serial executor, for an actor that must be isolated to it (`unownedExecutor`).
    public var serialExecutor: LoopSerialExecutor { LoopSerialExecutor(loop: self) }
}

/// An event loop in its serial-executor role: an actor whose `unownedExecutor` is this runs on the loop thread.
public final class LoopSerialExecutor: SerialExecutor {
    public let loop: EventLoop

    init(loop: EventLoop) {
        self.loop = loop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let loop = self.loop
        loop.execute {
            job.runSynchronously(isolatedTo: self.asUnownedSerialExecutor(), taskExecutor: loop.asUnownedTaskExecutor())
        }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets `assumeIsolated` and the runtime's isolation checks ask the loop rather than guess: the only thread
    /// isolated to a loop is the loop's own.
    public func checkIsolated() {
        precondition(self.loop.inEventLoop, "expected to run on \(self.loop.name)")
    }
}
