// One thread, one epoll: the loop owns every socket registered with it, so connection state needs no locks. Other
// threads reach it only through `execute` (a Mutex-guarded queue plus one eventfd poke per sleep) and timers,
// and everything that arrives in one wake-up is handled in one turn: ready sockets, due timers, queued tasks,
// then one flush per connection that wrote. That batching is what keeps syscalls per message low.
import Synchronization
public import VigilPOSIX

/// What a loop tells the objects registered with it. Loop-confined: every call arrives on the loop thread.
protocol EventLoopSelectable: AnyObject {
    /// The registered descriptor became ready (or hung up, or has an error).
    func handleEvent(_ flags: Epoll.Flags)
    /// Requested with `EventLoop.scheduleEndOfTurn`: runs after this turn's events, timers and tasks.
    func endOfTurn()
    /// The loop is shutting down: release the descriptor now, the loop will not report events again.
    func eventLoopClosing()
}

/// A single-threaded event loop over epoll.
///
/// `@unchecked Sendable`: the cross-thread state (task queue, sleep flag, lifecycle) lives in a `Mutex`, the
/// thread identity in an `Atomic`; every other stored property is confined to the loop thread and only touched by
/// methods that assert `inEventLoop` (or run before the thread starts / after it ended).
public final class EventLoop: @unchecked Sendable, CustomStringConvertible {
    public let name: String

    /// Queued work: a closure from `execute`, or a task's job from the loop's `TaskExecutor` role, kept as it is
    /// instead of wrapped in a closure (an allocation per job, and a task runs a job per resumption).
    enum Work {
        case closure(@Sendable () -> Void)
        case job(UnownedJob)
    }

    private struct Shared {
        var tasks: [Work] = []
        /// True while the loop is in (or about to enter) an `epoll_wait` with no queued work: the next `execute`
        /// must poke the eventfd, and only that one does.
        var sleeping = false
        var lifecycle = Lifecycle.running
        var wakeup: EventFD?
        var thread: POSIXThread?
        var closedWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private enum Lifecycle {
        case running
        case shuttingDown
        case closed
    }

    private let shared: Mutex<Shared>
    private let threadID = Atomic<UInt>(0)
    let clock = ContinuousClock()

    // Loop-confined from here on.
    private var epoll: Epoll?
    private var wakeup: EventFD?
    private let events = Epoll.EventBuffer(capacity: 512)
    private var slots: [Slot] = []
    private var freeSlots: [UInt32] = []
    private var endOfTurnQueue: [any EventLoopSelectable] = []
    /// The last wait found events: the loop is busy, and `yieldAndPoll` is worth trying before it sleeps.
    private var busyLastTurn = false
    var timers = TimerHeap()
    let cancelledTimers = Atomic<Int>(0)
    /// One read buffer shared by every connection of the loop: a connection reads, feeds TLS and is done with it
    /// before the next one reads, so 10,000 idle connections hold no read buffers at all.
    let readBuffer: UnsafeMutableRawBufferPointer

    private struct Slot {
        var generation: UInt32 = 0
        var owner: (any EventLoopSelectable)?
    }

    /// A registered descriptor's place in the loop; the generation makes a stale event (for a slot freed and
    /// reused within one `epoll_wait` batch) miss instead of reaching the new owner.
    struct Registration: Hashable {
        let slot: UInt32
        let generation: UInt32
        var tag: UInt64 { UInt64(self.generation) << 32 | UInt64(self.slot) }
    }

    private static let wakeupTag = UInt64.max
    static let readBufferSize = 64 * 1024

    /// Starts a loop on a new thread.
    public init(name: String = "vigil-loop") throws(Errno) {
        self.name = name
        let epoll = try Epoll()
        let wakeup = try EventFD()
        try epoll.add(wakeup.fileDescriptor, interest: .readable, data: Self.wakeupTag)
        self.epoll = epoll
        self.wakeup = wakeup
        self.shared = Mutex(Shared(wakeup: wakeup))
        self.readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
        let thread = try POSIXThread(name: name) { [self] in self.run() }
        self.shared.withLock { $0.thread = thread }
    }

    deinit {
        self.readBuffer.deallocate()
    }

    public var description: String { "EventLoop(\(self.name))" }

    /// True when called on this loop's thread.
    public var inEventLoop: Bool { self.threadID.load(ordering: .relaxed) == ThreadID.current.rawValue }

    /// Stops the program when loop-confined state is touched from another thread.
    @inline(__always)
    func assertInEventLoop(file: StaticString = #fileID, line: UInt = #line) {
        assert(self.inEventLoop, "\(self.name): loop-confined state used off the loop thread", file: file, line: line)
    }

    // MARK: - Work from other threads

    /// Runs `work` on the loop thread, after what was enqueued before it (FIFO per submitting thread, and in the
    /// order the queue lock was taken across threads). Safe from any thread, the loop's own included.
    ///
    /// Returns false, dropping `work`, once the loop has begun shutting down.
    @discardableResult
    public func execute(_ work: @escaping @Sendable () -> Void) -> Bool {
        self.enqueue(.closure(work))
    }

    /// Queues `work` in FIFO order with everything else; false once the loop has begun shutting down.
    func enqueue(_ work: Work) -> Bool {
        var poke: EventFD?
        // On the loop's own thread the loop is not in epoll_wait, whatever `sleeping` says (it is set before the
        // wait and cleared by the next task round): a socket event's handler resuming a task must not poke, or the
        // loop pays an eventfd write, a wake-up and a drain for work it runs in this very turn.
        let onLoop = self.inEventLoop
        let accepted = self.shared.withLock { (state) -> Bool in
            guard state.lifecycle == .running else { return false }
            state.tasks.append(work)
            if state.sleeping {
                state.sleeping = false
                if !onLoop { poke = state.wakeup }
            }
            return true
        }
        poke?.signal()
        return accepted
    }

    /// Runs `body` on the loop and returns its result to an async caller. Throws `ConnectionError.eventLoopShutdown`
    /// when the loop no longer takes work, so an awaiting task can never be left hanging.
    public func submit<Result: Sendable>(
        _ body: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            let accepted = self.execute { continuation.resume(with: Swift.Result { try body() }) }
            if !accepted {
                continuation.resume(throwing: ConnectionError(.eventLoopShutdown, "\(self.name) is shut down"))
            }
        }
    }

    // MARK: - Registration (loop thread only)

    func register(
        _ descriptor: FileDescriptor,
        interest: Epoll.Interest,
        owner: any EventLoopSelectable
    ) throws(Errno) -> Registration {
        self.assertInEventLoop()
        guard let epoll = self.epoll else { throw Errno.badFileDescriptor }
        let slot: UInt32
        if let free = self.freeSlots.popLast() {
            slot = free
        } else {
            slot = UInt32(self.slots.count)
            self.slots.append(Slot())
        }
        let index = Int(slot)
        let registration = Registration(slot: slot, generation: self.slots[index].generation)
        do throws(Errno) {
            try epoll.add(descriptor, interest: interest, data: registration.tag)
        } catch {
            self.freeSlots.append(slot)
            throw error
        }
        self.slots[index].owner = owner
        return registration
    }

    func modify(_ registration: Registration, _ descriptor: FileDescriptor, interest: Epoll.Interest) throws(Errno) {
        self.assertInEventLoop()
        try self.epoll?.modify(descriptor, interest: interest, data: registration.tag)
    }

    /// Forgets the owner (dropping the loop's reference to it) and removes the descriptor from epoll; call before
    /// closing the descriptor.
    func deregister(_ registration: Registration, _ descriptor: FileDescriptor) {
        self.assertInEventLoop()
        let index = Int(registration.slot)
        guard index < self.slots.count, self.slots[index].generation == registration.generation else { return }
        try? self.epoll?.remove(descriptor)
        self.slots[index].owner = nil
        self.slots[index].generation &+= 1
        self.freeSlots.append(registration.slot)
    }

    /// Asks for `owner.endOfTurn()` once this turn's events, timers and tasks are done; the owner keeps its own
    /// "already scheduled" flag so it is queued once per turn.
    func scheduleEndOfTurn(_ owner: any EventLoopSelectable) {
        self.assertInEventLoop()
        self.endOfTurnQueue.append(owner)
    }

    // MARK: - The loop

    private func run() {
        self.threadID.store(ThreadID.current.rawValue, ordering: .relaxed)
        var batch: [Work] = []
        while true {
            let mustPoll = !self.endOfTurnQueue.isEmpty
            let (stop, hasTasks) = self.shared.withLock { (state) -> (Bool, Bool) in
                if state.lifecycle != .running { return (true, false) }
                let hasTasks = !state.tasks.isEmpty
                state.sleeping = !hasTasks && !mustPoll
                return (false, hasTasks)
            }
            if stop { break }
            if mustPoll || hasTasks {
                self.waitAndDispatch(timeout: .zero)
            } else if !self.busyLastTurn || !self.yieldAndPoll() {
                self.waitAndDispatch(timeout: self.timers.nextDeadline.map { $0 - self.clock.now })
            }
            self.runDueTimers()
            self.runTasks(&batch)
            self.runEndOfTurn()
            self.compactTimersIfNeeded()
        }
        self.close(&batch)
    }

    /// Before a loop that just had work sleeps, it lets the threads waiting for this core run and looks again:
    /// on a machine with more busy threads than cores (client and server sharing two, four loops), the peer that
    /// is about to answer is usually one of them. Sleeping instead costs a context switch out, a wake-up from the
    /// peer's send and a switch back in; unary calls went 88 k -> 97 k calls/s with their p99 from 1.5 to 1.1 ms,
    /// context switches from 0.12 to 0.03 per call on each side. A loop whose last wait found nothing sleeps at
    /// once, so an idle loop costs nothing more. True when the second look found something (dispatched).
    private func yieldAndPoll() -> Bool {
        POSIXThread.yieldCore()
        return self.waitAndDispatch(timeout: .zero) > 0
    }

    /// Waits for events (nil: until one comes) and hands each to its owner; returns how many there were.
    @discardableResult
    private func waitAndDispatch(timeout: Duration?) -> Int {
        guard let epoll = self.epoll else { return 0 }
        do {
            try epoll.wait(into: self.events, timeout: timeout)
        } catch {
            // epoll_wait fails only on a bad descriptor or buffer: a bug, not a condition to spin on.
            assertionFailure("\(self.name): epoll_wait failed: \(error)")
            return 0
        }
        self.busyLastTurn = self.events.count > 0
        for event in self.events {
            if event.data == Self.wakeupTag {
                self.wakeup?.drain()
                continue
            }
            let index = Int(truncatingIfNeeded: event.data & 0xFFFF_FFFF)
            let generation = UInt32(truncatingIfNeeded: event.data >> 32)
            guard index < self.slots.count, self.slots[index].generation == generation,
                let owner = self.slots[index].owner
            else { continue }
            owner.handleEvent(event.flags)
        }
        return self.events.count
    }

    /// Rounds of queued work one turn runs before polling descriptors again.
    static let taskRoundsPerTurn = 8

    private func runTasks(_ batch: inout [Work]) {
        // A job run here usually enqueues the next one of the same task (a resumed continuation, a hop back onto
        // the loop), often several per message; running those in this turn, up to a few rounds so sockets are
        // still polled, saves an epoll_wait, a timer check and the queue lock per hop.
        for _ in 0..<Self.taskRoundsPerTurn {
            self.shared.withLock { state in
                state.sleeping = false
                swap(&state.tasks, &batch)
            }
            if batch.isEmpty { return }
            for work in batch {
                switch work {
                case .closure(let body): body()
                case .job(let job): job.runSynchronously(on: self.asUnownedTaskExecutor())
                }
            }
            batch.removeAll(keepingCapacity: batch.capacity <= 4096)
        }
    }

    private func runEndOfTurn() {
        // Flushing can call handlers that write again; a few rounds settle that, the rest waits for a zero-timeout
        // poll at the top of the next turn.
        for _ in 0..<4 where !self.endOfTurnQueue.isEmpty {
            let owners = self.endOfTurnQueue
            self.endOfTurnQueue.removeAll(keepingCapacity: true)
            for owner in owners {
                owner.endOfTurn()
            }
        }
    }

    /// The last turn: queued tasks run once more (so `submit` callers are answered), owners release their
    /// descriptors, and the loop's own descriptors are closed before waiters are told.
    private func close(_ batch: inout [Work]) {
        self.runTasks(&batch)
        for slot in self.slots {
            slot.owner?.eventLoopClosing()
        }
        self.runEndOfTurn()
        self.slots = []
        self.freeSlots = []
        self.endOfTurnQueue = []
        self.timers = TimerHeap()
        self.epoll = nil
        self.wakeup = nil
        let (waiters, dropped) = self.shared.withLock { (state) -> ([CheckedContinuation<Void, Never>], Int) in
            state.lifecycle = .closed
            state.wakeup = nil
            let dropped = state.tasks.count
            state.tasks = []
            let waiters = state.closedWaiters
            state.closedWaiters = []
            return (waiters, dropped)
        }
        assert(dropped == 0, "\(self.name): \(dropped) tasks raced the shutdown")
        for waiter in waiters {
            waiter.resume()
        }
    }

    // MARK: - Shutdown

    /// Stops the loop after its current turn, closes every registered connection and the loop's descriptors, and
    /// joins the thread. Returns once all of that is done; later calls return at once.
    ///
    /// Waits on a continuation rather than blocking in `join`, so no cooperative-pool thread sits in a syscall
    /// while the loop finishes its turn; the join at the end only reaps a thread that is already exiting.
    public func shutdown() async {
        precondition(!self.inEventLoop, "\(self.name) cannot shut itself down from its own thread")
        let thread = self.shared.withLock { (state) -> POSIXThread? in
            defer { state.thread = nil }
            return state.thread
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            var poke: EventFD?
            let closed = self.shared.withLock { (state) -> Bool in
                guard state.lifecycle != .closed else { return true }
                state.lifecycle = .shuttingDown
                state.closedWaiters.append(continuation)
                poke = state.wakeup
                return false
            }
            poke?.signal()
            if closed {
                continuation.resume()
            }
        }
        thread?.join()
    }

    /// `shutdown()` for synchronous callers (a process's last lines, tests' cleanup outside async code): blocks
    /// the calling thread in `join`. Never call it from a task on the cooperative pool.
    public func syncShutdown() {
        precondition(!self.inEventLoop, "\(self.name) cannot shut itself down from its own thread")
        var poke: EventFD?
        let thread = self.shared.withLock { (state) -> POSIXThread? in
            if state.lifecycle == .running {
                state.lifecycle = .shuttingDown
                poke = state.wakeup
            }
            let thread = state.thread
            state.thread = nil
            return thread
        }
        poke?.signal()
        thread?.join()
    }
}
