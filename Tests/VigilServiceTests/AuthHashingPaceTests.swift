// Hashing pace: the ledger's arithmetic (pause lengths, the shared debt of several threads, the busy window, the
// cap, the long-run share) on a simulated clock, then a real pool that pauses between PBKDF2 steps while demand is
// noted, and neither before demand nor after it stops.
import Dispatch
import Foundation
import Synchronization
import Testing
@testable import VigilService

@Suite struct AuthHashingPaceTests {
    let origin = ContinuousClock.now
    let pace = HashingPace(busyShare: 0.25, busyWindow: .milliseconds(250), maximumPause: .milliseconds(50))

    func at(_ milliseconds: Double) -> ContinuousClock.Instant {
        self.origin + .microseconds(Int64(milliseconds * 1000))
    }

    @Test("no demand, or demand older than the window, costs no pause and clears the debt")
    func idle() {
        var ledger = HashingPaceLedger(pace: self.pace, threadCount: 2)
        #expect(ledger.pause(afterRunning: .milliseconds(1), now: self.at(1000), lastDemand: nil) == .zero)
        #expect(ledger.pause(afterRunning: .milliseconds(1), now: self.at(1000), lastDemand: self.at(700)) == .zero)
        #expect(ledger.owedUntil == nil)
        #expect(ledger.pause(afterRunning: .milliseconds(1), now: self.at(1000), lastDemand: self.at(800)) > .zero)
        #expect(ledger.pause(afterRunning: .milliseconds(1), now: self.at(1100), lastDemand: self.at(800)) == .zero)
        #expect(ledger.owedUntil == nil)
    }

    @Test("a step of d owes d / share of wall time; two threads queue on the same debt")
    func sharedDebt() {
        var ledger = HashingPaceLedger(pace: self.pace, threadCount: 2)
        let demand = self.at(1000)
        // Thread A ran 1 ms ending at 1001: owes until 1000 + 4 = 1004, so pauses 3 ms.
        #expect(ledger.pause(afterRunning: .milliseconds(1), now: self.at(1001), lastDemand: demand) == .milliseconds(3))
        // Thread B ran 1 ms over the same interval: its 4 ms queue after A's, until 1008.
        #expect(ledger.pause(afterRunning: .milliseconds(1), now: self.at(1001), lastDemand: demand) == .milliseconds(7))
        // A steps again at 1004–1005: the debt stands at 1008, plus 4.
        #expect(ledger.pause(afterRunning: .milliseconds(1), now: self.at(1005), lastDemand: demand) == .milliseconds(7))
    }

    @Test("a long step is paused for at most maximumPause")
    func cappedPause() {
        var ledger = HashingPaceLedger(pace: self.pace, threadCount: 2)
        #expect(ledger.pause(afterRunning: .milliseconds(100), now: self.at(1000), lastDemand: self.at(1000))
            == .milliseconds(50))
    }

    @Test("a share at or above the thread count turns pacing off", arguments: [2.0, 3.0, Double.infinity])
    func unpaced(share: Double) {
        var ledger = HashingPaceLedger(pace: HashingPace(busyShare: share), threadCount: 2)
        #expect(ledger.pause(afterRunning: .milliseconds(5), now: self.at(1000), lastDemand: self.at(1000)) == .zero)
    }

    @Test("threads stepping under constant demand use the configured share of one core", arguments: [1, 2, 4])
    func longRunShare(threads: Int) {
        var ledger = HashingPaceLedger(pace: self.pace, threadCount: 8)
        let step = 1.3  // milliseconds of work per step
        var readyAt = [Double](repeating: 0, count: threads)
        var worked = 0.0
        for _ in 0..<(2000 * threads) {
            // The thread that becomes ready first runs the next step.
            guard let next = readyAt.indices.min(by: { readyAt[$0] < readyAt[$1] }) else { return }
            let end = readyAt[next] + step
            worked += step
            let pause = ledger.pause(afterRunning: .microseconds(1300), now: self.at(end), lastDemand: self.at(end))
            readyAt[next] = end + Double(pause.components.attoseconds) / 1e15 + Double(pause.components.seconds) * 1e3
        }
        let elapsed = readyAt.max() ?? 1
        #expect(abs(worked / elapsed - 0.25) < 0.02, "share \(worked / elapsed) with \(threads) threads")
    }

    @Test("a real pool pauses between steps while demand is noted, and not before or after")
    func pacedPool() async throws {
        // 40 steps of 5,000 iterations; paced at a quarter of a core, each step owes three times its length. The busy
        // window is long because a loaded CI machine once left the demanding thread unscheduled for longer than
        // 250 ms: the pool then rightly stopped pacing, and the test saw too few pauses.
        let busyWindow = Duration.seconds(2)
        let hasher = PasswordHasher(iterations: 200_000)
        let encoded = try hasher.hash("correct horse battery staple")
        let pool = HashingPool(hasher: hasher, threadCount: 1,
            pace: HashingPace(busyShare: 0.25, busyWindow: busyWindow, stepIterations: 5_000))
        defer { pool.shutdown() }
        func timedLogin() async throws -> Duration {
            let started = ContinuousClock.now
            #expect(try await pool.verify("correct horse battery staple", against: encoded))
            return ContinuousClock.now - started
        }

        _ = try await timedLogin()
        #expect(pool.pausedTime == .zero, "no demand yet")

        // Demand from a thread of its own: on a loaded machine the cooperative pool can stall for longer than the
        // busy window, and then the pool would rightly see no demand.
        let demanding = Atomic<Bool>(true)
        let stopped = DispatchSemaphore(value: 0)
        pool.noteDemand()
        Thread.detachNewThread {
            while demanding.load(ordering: .relaxed) {
                pool.noteDemand()
                Thread.sleep(forTimeInterval: 0.005)
            }
            stopped.signal()
        }
        let paced = try await timedLogin()
        demanding.store(false, ordering: .relaxed)
        stopped.wait()
        let paused = pool.pausedTime
        // 39 pauses of three steps each (capped at 50 ms): most of the login's wall time, and a good part of it
        // however loaded the machine (a preempted step is charged its wall time; an overrunning sleep counts as
        // paused for what it took).
        #expect(paused > paced / 5, "paused \(paused) of \(paced)")

        try await Task.sleep(for: busyWindow + .milliseconds(200))
        _ = try await timedLogin()
        #expect(pool.pausedTime == paused, "demand stopped")
    }
}
