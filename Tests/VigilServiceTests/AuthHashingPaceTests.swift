// Hashing pace: the ledger's arithmetic (pause lengths, the shared debt of several threads, the busy window, the
// cap, the long-run share) on a simulated clock, then a real pool that pauses between PBKDF2 steps while demand is
// noted, and neither before demand nor after it stops.
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

    @Test("a real pool pauses after every step while demand is noted, and not before or after")
    func pacedPool() async throws {
        // Counted, not timed: on a loaded CI machine one preempted step can take seconds, and no ratio of paused to
        // elapsed time survives that (a 2.4 s stall once left 0.58 s paused of a 3.25 s login). Every step that ends
        // while demand is fresh owes a pause, whatever the machine does, and none owes one without demand.
        let hasher = PasswordHasher(iterations: 200_000)
        let encoded = try hasher.hash("correct horse battery staple")
        func pool(busyWindow: Duration) -> HashingPool {
            HashingPool(hasher: hasher, threadCount: 1,
                pace: HashingPace(busyShare: 0.25, busyWindow: busyWindow, stepIterations: 5_000))
        }
        func login(_ pool: HashingPool) async throws {
            #expect(try await pool.verify("correct horse battery staple", against: encoded))
        }

        // Demand fresh for the whole login (a window longer than any stall): all 40 steps of 5,000 iterations pause.
        let busy = pool(busyWindow: .seconds(600))
        defer { busy.shutdown() }
        try await login(busy)
        #expect(busy.pauseCount == 0 && busy.pausedTime == .zero, "no demand yet")
        busy.noteDemand()
        try await login(busy)
        #expect(busy.pauseCount >= 39, "\(busy.pauseCount) pauses")
        #expect(busy.pausedTime > .zero)

        // Demand older than the window: no pause at all.
        let quiet = pool(busyWindow: .milliseconds(100))
        defer { quiet.shutdown() }
        quiet.noteDemand()
        try await Task.sleep(for: .milliseconds(200))
        try await login(quiet)
        #expect(quiet.pauseCount == 0, "demand stopped")
    }
}
