// The open-files limit decides how many connections a server can hold: a default soft limit of 1024 would cap
// vigild far below its 10,000-connection target, so it raises the soft limit to the hard one at startup.
import Glibc

/// A soft ("current") and hard ("maximum") resource limit; `UInt64.max` means unlimited.
public struct ResourceLimit: Sendable, Hashable, CustomStringConvertible {
    /// What the kernel enforces now. A process may move it anywhere up to `maximum`.
    public var current: UInt64
    /// The ceiling; only privileged processes may raise it.
    public var maximum: UInt64

    public init(current: UInt64, maximum: UInt64) {
        self.current = current
        self.maximum = maximum
    }

    public var description: String {
        func text(_ value: UInt64) -> String { value == UInt64.max ? "unlimited" : String(value) }
        return "\(text(self.current)) (hard \(text(self.maximum)))"
    }
}

public enum ResourceLimits {
    /// RLIMIT_NOFILE: how many descriptors this process may hold.
    public static func openFiles() throws(Errno) -> ResourceLimit {
        var limit = rlimit()
        _ = try Syscall.run { getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) }
        return ResourceLimit(current: Self.value(limit.rlim_cur), maximum: Self.value(limit.rlim_max))
    }

    public static func setOpenFiles(_ limit: ResourceLimit) throws(Errno) {
        var value = rlimit(rlim_cur: Self.raw(limit.current), rlim_max: Self.raw(limit.maximum))
        _ = try Syscall.run { setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &value) }
    }

    /// Raises the soft open-files limit to `wanted` (nil: as far as allowed), never above the hard limit and never
    /// lowering it. Returns the limit now in force.
    @discardableResult
    public static func raiseOpenFiles(to wanted: UInt64? = nil) throws(Errno) -> ResourceLimit {
        var limit = try self.openFiles()
        let target = min(wanted ?? limit.maximum, limit.maximum)
        if target > limit.current {
            limit.current = target
            try self.setOpenFiles(limit)
        }
        return limit
    }

    /// RLIM_INFINITY is all bits set (the C macro imports as an overflowing literal, hence `rlim_t.max`).
    private static func value(_ raw: rlim_t) -> UInt64 {
        raw == rlim_t.max ? UInt64.max : UInt64(raw)
    }

    private static func raw(_ value: UInt64) -> rlim_t {
        value == UInt64.max ? rlim_t.max : rlim_t(clamping: value)
    }
}
