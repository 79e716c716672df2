// The loop's timers as a binary min-heap ordered by deadline, then by scheduling order, so timers due at the same
// instant fire in the order they were set. Cancelled timers stay in the heap until they reach the top (or a
// compaction drops them): removal from the middle of a heap costs a search, cancellation here costs an atomic store.

/// A min-heap of pending timers. Loop-confined (a value inside the loop).
struct TimerHeap {
    struct Entry {
        let deadline: ContinuousClock.Instant
        let sequence: UInt64
        let timer: ScheduledTimer
        let work: @Sendable () -> Void

        func fires(before other: Entry) -> Bool {
            self.deadline < other.deadline || (self.deadline == other.deadline && self.sequence < other.sequence)
        }
    }

    private(set) var entries: [Entry] = []
    private var nextSequence: UInt64 = 0

    var count: Int { self.entries.count }
    var nextDeadline: ContinuousClock.Instant? { self.entries.first?.deadline }

    mutating func insert(
        deadline: ContinuousClock.Instant,
        timer: ScheduledTimer,
        work: @escaping @Sendable () -> Void
    ) {
        self.entries.append(Entry(deadline: deadline, sequence: self.nextSequence, timer: timer, work: work))
        self.nextSequence &+= 1
        self.siftUp(self.entries.count - 1)
    }

    /// Removes and returns the earliest timer if it is due at `now`.
    mutating func popDue(at now: ContinuousClock.Instant) -> Entry? {
        guard let first = self.entries.first, first.deadline <= now else { return nil }
        let last = self.entries.removeLast()
        if !self.entries.isEmpty {
            self.entries[0] = last
            self.siftDown(0)
        }
        return first
    }

    /// Drops cancelled entries and rebuilds the heap; returns how many were dropped.
    mutating func removeCancelled() -> Int {
        let before = self.entries.count
        self.entries.removeAll { $0.timer.isCancelled }
        var index = self.entries.count / 2
        while index > 0 {
            index -= 1
            self.siftDown(index)
        }
        return before - self.entries.count
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard self.entries[child].fires(before: self.entries[parent]) else { return }
            self.entries.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let count = self.entries.count
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < count && self.entries[left].fires(before: self.entries[smallest]) { smallest = left }
            if right < count && self.entries[right].fires(before: self.entries[smallest]) { smallest = right }
            if smallest == parent { return }
            self.entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
