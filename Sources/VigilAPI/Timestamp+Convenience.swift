// Hand-written conveniences for the generated `Timestamp` (google.protobuf.Timestamp): every layer stores and
// compares times as whole seconds plus nanoseconds since the Unix epoch, UTC, so these stay free of Foundation.

extension Timestamp {
    /// A time `seconds` plus `nanos` (0 ..< 1e9) after 1970-01-01T00:00:00Z.
    public init(seconds: Int64, nanos: Int32 = 0) {
        self.init()
        self.seconds = seconds
        self.nanos = nanos
    }

    /// Nanoseconds since the epoch, for ordering and storage; saturates outside ±292 years.
    public var unixNanoseconds: Int64 {
        let (scaled, overflow) = self.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return self.seconds < 0 ? .min : .max }
        let (total, overflowSum) = scaled.addingReportingOverflow(Int64(self.nanos))
        return overflowSum ? (scaled < 0 ? .min : .max) : total
    }

    /// The time `nanoseconds` after the epoch, with `nanos` always in 0 ..< 1e9 as the well-known type requires.
    public init(unixNanoseconds nanoseconds: Int64) {
        var seconds = nanoseconds / 1_000_000_000
        var nanos = nanoseconds % 1_000_000_000
        if nanos < 0 {
            seconds -= 1
            nanos += 1_000_000_000
        }
        self.init(seconds: seconds, nanos: Int32(nanos))
    }

    /// Whether this is a valid google.protobuf.Timestamp: 0001-01-01 to 9999-12-31, nanos in 0 ..< 1e9.
    public var isValid: Bool {
        self.seconds >= -62_135_596_800 && self.seconds <= 253_402_300_799 && self.nanos >= 0
            && self.nanos < 1_000_000_000
    }
}
