// SQLite takes timeouts and sleeps in whole milliseconds as C ints; the public API takes `Duration`.
extension Duration {
    /// Rounded up, so a positive duration never becomes "do not wait at all"; clamped to `Int32`.
    var clampedMilliseconds: Int32 {
        let (seconds, attoseconds) = self.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) {
            return 0
        }
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        let partial = (attoseconds + attosecondsPerMillisecond - 1) / attosecondsPerMillisecond
        let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow {
            return Int32.max
        }
        return Int32(clamping: milliseconds + partial)
    }
}
