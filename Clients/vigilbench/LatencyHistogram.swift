// Per-call latencies without keeping every sample: a million calls a second for several seconds would be tens of
// megabytes of samples and their sort. Buckets are log-linear as in HdrHistogram: exact below 64 ns, then 32
// buckets per power of two (at most ~3 % error), so recording is a shift and an increment. Each worker owns one
// histogram and they are merged at the end, so recording never takes a lock.

struct LatencyHistogram: Sendable {
    private static let linear = 64
    private static let subBuckets = 32
    private static let subBits = 5

    private var counts = [UInt64](repeating: 0, count: 64 + 58 * 32)
    var bucketCounts: [UInt64] { self.counts }
    private(set) var total: UInt64 = 0
    private(set) var maximum: UInt64 = 0

    mutating func record(_ duration: Duration) {
        let components = duration.components
        let nanoseconds = components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
        self.record(nanoseconds: UInt64(max(0, nanoseconds)))
    }

    mutating func record(nanoseconds value: UInt64) {
        self.counts[Self.index(value)] += 1
        self.total += 1
        if value > self.maximum { self.maximum = value }
    }

    mutating func merge(_ other: LatencyHistogram) {
        for index in self.counts.indices { self.counts[index] += other.counts[index] }
        self.total += other.total
        self.maximum = max(self.maximum, other.maximum)
    }

    /// The value (in nanoseconds, a bucket's midpoint, or the exact maximum for the top rank) below which `fraction`
    /// of the samples lie; 0 when empty.
    func percentile(_ fraction: Double) -> UInt64 {
        guard self.total > 0 else { return 0 }
        let rank = max(1, UInt64((Double(self.total) * fraction).rounded(.up)))
        if rank >= self.total { return self.maximum }  // the largest sample is known exactly
        var seen: UInt64 = 0
        for (index, count) in self.counts.enumerated() where count > 0 {
            seen += count
            if seen >= rank { return min(Self.midpoint(index), self.maximum) }
        }
        return self.maximum
    }

    static func index(_ value: UInt64) -> Int {
        guard value >= UInt64(Self.linear) else { return Int(value) }
        let msb = 63 - value.leadingZeroBitCount  // >= 6
        let shift = msb - Self.subBits
        let top = Int(value >> UInt64(shift))  // 32..<64
        return Self.linear + (msb - 6) * Self.subBuckets + (top - Self.subBuckets)
    }

    static func midpoint(_ index: Int) -> UInt64 {
        guard index >= Self.linear else { return UInt64(index) }
        let offset = index - Self.linear
        let msb = offset / Self.subBuckets + 6
        let top = UInt64(offset % Self.subBuckets + Self.subBuckets)
        let width = UInt64(1) << UInt64(msb - Self.subBits)
        return top * width + width / 2
    }
}

extension LatencyHistogram {
    /// A bucket's width over its lowest value is at most 1/32, and a percentile is reported as the bucket's
    /// midpoint, so it is within this fraction of the exact sample it stands for (below 64 ns, exact).
    static let relativeError = 1.0 / 64

    /// The non-empty buckets in order, as (midpoint in nanoseconds, count): the latency distribution.
    var buckets: [(nanoseconds: UInt64, count: UInt64)] {
        self.bucketCounts.enumerated().compactMap { index, count in
            count == 0 ? nil : (min(Self.midpoint(index), self.maximum), count)
        }
    }
}
