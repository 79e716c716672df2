// The loop as a Swift concurrency executor, so a connection's handler code can run on the thread where its bytes
// arrive: `Task(executorPreference: loop)` runs a task's synchronous stretches on the loop (TaskExecutor), and an
// actor whose `unownedExecutor` is the loop's serial executor is isolated to it. Each hop onto the loop is one
// `execute`, so a burst of resumed tasks costs one eventfd wake-up, like any other batch of work.
//
// A job enqueued after the loop shut down is dropped and its task never resumes: shut loops down only after the
// tasks that prefer them have finished.

extension EventLoop: SerialExecutor, TaskExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.execute {
            job.runSynchronously(isolatedTo: self.asUnownedSerialExecutor(), taskExecutor: self.asUnownedTaskExecutor())
        }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    /// Lets `assumeIsolated` and the runtime's isolation checks ask the loop rather than guess: the only thread
    /// isolated to a loop is the loop's own.
    public func checkIsolated() {
        precondition(self.inEventLoop, "expected to run on \(self.name)")
    }
}
