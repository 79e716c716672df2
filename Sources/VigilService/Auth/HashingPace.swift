// How much CPU password hashing may take while the server has other work. A login costs ~80 ms of PBKDF2; a storm
// of them on two threads takes both cores from lists and ingest (ListAlerts p99 +8.6 ms with 50 login loops). A
// lower thread priority fixes that on an idle machine but is system-wide: on a machine busy with other processes,
// niced hashing all but stops. Pacing is the process's own rule instead. While data RPCs have arrived within
// `busyWindow`, hashing threads pause between PBKDF2 steps so that together they use at most `busyShare` of one
// core (measured in wall time, so a step slowed by contention is charged in full); otherwise they run freely.
// Logins therefore always progress, at a known worst-case rate, whatever else runs on the machine.
import Foundation
import Synchronization

/// The hashing pool's CPU budget while other RPCs are being served.
public struct HashingPace: Sendable, Equatable {
    /// Fraction of one core that all hashing threads together may use while the server is busy; at or above the
    /// pool's thread count, pacing is off. 0.5 measured as the most that keeps ListAlerts p99 within 3 ms during a
    /// 50-client login storm (README, "Lists under load": +0.1 ms median, at 1.0 +5 ms); logins then run at ~5/s.
    public var busyShare: Double
    /// The server counts as busy for this long after a data RPC arrives (token-bearing calls, ingest batches).
    public var busyWindow: Duration
    /// PBKDF2 iterations between the points where a thread may pause: 10,000 is ~1.3 ms of CPU here.
    public var stepIterations: Int
    /// The longest single pause: bounds how long a thread sleeps after a step that ran long because it was
    /// preempted, so a login on a saturated machine still finishes in seconds.
    public var maximumPause: Duration

    public init(
        busyShare: Double = 0.5,
        busyWindow: Duration = .milliseconds(250),
        stepIterations: Int = 10_000,
        maximumPause: Duration = .milliseconds(50)
    ) {
        precondition(busyShare > 0, "a hashing share must be positive")
        precondition(stepIterations >= 1, "a PBKDF2 step runs at least one iteration")
        self.busyShare = busyShare
        self.busyWindow = busyWindow
        self.stepIterations = stepIterations
        self.maximumPause = maximumPause
    }
}

/// The pacing arithmetic, free of clocks and threads: what one hashing pool owes after each step.
///
/// The pool shares one "owed until" instant. A step of length `ran` that began at `start` moves it to
/// `max(owed, start) + ran / share`, and the thread pauses until then. With one thread that is `ran` of work
/// per `ran / share` of wall time; with several, their steps queue on the same instant, so the total is the same.
struct HashingPaceLedger: Sendable {
    let pace: HashingPace
    let threadCount: Int
    private(set) var owedUntil: ContinuousClock.Instant?

    init(pace: HashingPace, threadCount: Int) {
        self.pace = pace
        self.threadCount = threadCount
    }

    /// The pause after a step that ran for `ran` and ended at `now`, given when data RPCs last arrived.
    mutating func pause(
        afterRunning ran: Duration,
        now: ContinuousClock.Instant,
        lastDemand: ContinuousClock.Instant?
    ) -> Duration {
        guard self.pace.busyShare < Double(self.threadCount), let lastDemand, now - lastDemand <= self.pace.busyWindow
        else {
            self.owedUntil = nil
            return .zero
        }
        let started = now - ran
        let from = max(self.owedUntil ?? started, started)
        let owed = from + ran * (1 / self.pace.busyShare)
        self.owedUntil = owed
        return min(max(owed - now, .zero), self.pace.maximumPause)
    }
}

/// The pool's live pacing state: the last demand (written by every data RPC, so one relaxed atomic store) and the
/// ledger (touched once per hashing step, ~1 ms apart).
final class HashingPacer: Sendable {
    /// The last data RPC.
    private let demand = LastOccurrence()
    private let ledger: Mutex<HashingPaceLedger>
    /// Nanoseconds hashing threads have slept for pacing, in total: measured around each sleep, so a sleep that
    /// overran on a busy machine counts for what it took.
    private let pausedNanoseconds = Atomic<Int64>(0)
    private let pauses = Atomic<Int>(0)
    let pace: HashingPace

    init(pace: HashingPace, threadCount: Int) {
        self.pace = pace
        self.ledger = Mutex(HashingPaceLedger(pace: pace, threadCount: threadCount))
    }

    func noteDemand() {
        self.demand.record()
    }

    var lastDemand: ContinuousClock.Instant? { self.demand.instant }

    var pausedTime: Duration { .nanoseconds(self.pausedNanoseconds.load(ordering: .relaxed)) }

    var pauseCount: Int { self.pauses.load(ordering: .relaxed) }

    /// PBKDF2 steps for one job on a hashing thread: each pause is charged for the time since the previous one.
    func steps() -> PasswordHasher.Steps {
        var stepStarted = ContinuousClock.now
        return PasswordHasher.Steps(iterations: self.pace.stepIterations) {
            let now = ContinuousClock.now
            self.afterStep(ran: now - stepStarted, now: now)
            stepStarted = ContinuousClock.now
        }
    }

    /// Called on a hashing thread after each PBKDF2 step: sleeps for what the ledger says the step owes.
    func afterStep(ran: Duration, now: ContinuousClock.Instant) {
        let lastDemand = self.lastDemand
        let pause = self.ledger.withLock { $0.pause(afterRunning: ran, now: now, lastDemand: lastDemand) }
        guard pause > .zero else { return }
        self.pauses.add(1, ordering: .relaxed)
        let sleepStarted = ContinuousClock.now
        Thread.sleep(forTimeInterval: Double(pause.wholeNanoseconds) * 1e-9)
        self.pausedNanoseconds.add((ContinuousClock.now - sleepStarted).wholeNanoseconds, ordering: .relaxed)
    }
}
