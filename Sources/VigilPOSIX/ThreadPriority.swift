// CPU priority of the calling thread. Linux keeps the nice value per thread (setpriority(2), "BUGS"), and
// `setpriority(PRIO_PROCESS, 0, n)` changes the caller's own thread only, so one pool of threads can yield the CPU
// to the rest of the process without touching it.
import Glibc

public enum ThreadPriority {
    /// Sets the calling thread's nice value (0 normal ... 19 lowest). Raising it needs no privilege; lowering it
    /// again below its start does.
    public static func setCurrentThreadNice(_ nice: Int32) throws(Errno) {
        _ = try Syscall.run { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) }
    }

    /// The calling thread's nice value.
    public static var currentThreadNice: Int32 {
        getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }
}
