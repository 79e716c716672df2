// The indexer's plan over a snapshot of the watermarks (IndexProgress): which index steps next, how far, and when
// a pass (one step per index table, bringing a table's indexes to one mark) is still in progress.
import Testing

@testable import VigilService

@Suite("Index progress") struct IndexProgressTests {
    static let eventIndexes = ["events_by_severity", "events_by_source", "events_by_time", "events_by_type"]
    static let alertIndexes = ["alerts_by_severity", "alerts_by_source", "alerts_by_status", "alerts_by_time"]

    /// Events indexed through `events[i]`, alerts through `alerts[i]` (whose events are `alertEvent(mark)`).
    static func progress(
        events: [Int64], alerts: [Int64], lastEvent: Int64, lastAlert: Int64,
        alertEvent: (Int64) -> Int64 = { $0 * 4 }
    ) -> IndexProgress {
        let eventMarks = zip(Self.eventIndexes, events).map { index, mark in
            IndexProgress.Mark(index: index, table: "events", indexedThrough: mark, coveredEventID: mark)
        }
        let alertMarks = zip(Self.alertIndexes, alerts).map { index, mark in
            IndexProgress.Mark(index: index, table: "alerts", indexedThrough: mark, coveredEventID: alertEvent(mark))
        }
        return IndexProgress(
            marks: eventMarks + alertMarks, lastIDs: ["events": lastEvent, "alerts": lastAlert], lastEventID: lastEvent)
    }

    @Test("a current store has no step, no lag and no pass in progress")
    func current() {
        let progress = Self.progress(events: [400, 400, 400, 400], alerts: [100, 100, 100, 100], lastEvent: 400, lastAlert: 100)
        #expect(progress.nextStep(rows: 1000) == nil)
        #expect(progress.tailEvents == 0)
        #expect(!progress.passInProgress)
    }

    @Test("a pass leads with one index by `rows`, the others catch up to exactly its mark, then it is over")
    func passOfSteps() {
        var events: [Int64] = [0, 0, 0, 0]
        let alerts: [Int64] = [250, 250, 250, 250]
        var steps: [(String, Int64, Int64)] = []
        for _ in 0..<4 {
            let progress = Self.progress(events: events, alerts: alerts, lastEvent: 1_000, lastAlert: 250)
            let step = try! #require(progress.nextStep(rows: 300))
            steps.append((step.index, step.from, step.through))
            events[Self.eventIndexes.firstIndex(of: step.index)!] = step.through
            let after = Self.progress(events: events, alerts: alerts, lastEvent: 1_000, lastAlert: 250)
            #expect(after.passInProgress == (steps.count < 4))
        }
        #expect(steps.map(\.0) == Self.eventIndexes, "ties go by name")
        #expect(steps.allSatisfy { $0.1 == 0 && $0.2 == 300 })
        #expect(Self.progress(events: events, alerts: alerts, lastEvent: 1_000, lastAlert: 250).tailEvents == 700)
    }

    @Test("an index trailing its table's leader catches up to the leader's mark even as new rows arrive")
    func catchUpStopsAtLeader() {
        let progress = Self.progress(events: [900, 500, 500, 500], alerts: [0, 0, 0, 0], lastEvent: 5_000, lastAlert: 0)
        let step = try! #require(progress.nextStep(rows: 1_000))
        #expect(step.index == "events_by_source" && step.from == 500 && step.through == 900)
        // A leader too far ahead is approached `rows` at a time.
        let far = Self.progress(events: [900, 100, 100, 100], alerts: [0, 0, 0, 0], lastEvent: 5_000, lastAlert: 0)
        #expect(far.nextStep(rows: 300)?.through == 400)
    }

    @Test("alerts' lag counts the events ingested since the event of the alert at the mark")
    func alertLagInEvents() {
        // Events current through 10,000; alerts indexed through alert 100, whose event is 400; last alert 2,000.
        let progress = Self.progress(
            events: [10_000, 10_000, 10_000, 10_000], alerts: [100, 100, 100, 100], lastEvent: 10_000, lastAlert: 2_000)
        #expect(progress.tailEvents == 9_600)
        let step = try! #require(progress.nextStep(rows: 50_000))
        #expect(step.table == "alerts" && step.index == "alerts_by_severity" && step.through == 2_000)
        // Events lagging more than alerts go first; with equal lags, events first.
        let even = Self.progress(events: [400, 400, 400, 400], alerts: [100, 100, 100, 100], lastEvent: 800, lastAlert: 200)
        #expect(even.nextStep(rows: 1_000)?.table == "events")
    }

    @Test("marks past the last id (retention removed the newest rows) are current, not negative")
    func marksPastLast() {
        let progress = Self.progress(events: [500, 500, 500, 500], alerts: [90, 90, 90, 90], lastEvent: 450, lastAlert: 80)
        #expect(progress.tailEvents == 0)
        #expect(progress.nextStep(rows: 100) == nil)
    }
}
