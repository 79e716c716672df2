// A fixed set of loops, one per core by default: connections are spread over them round-robin and each stays on
// its loop for life, so the work of many connections spreads across cores without any connection needing a lock.
import Synchronization
public import VigilPOSIX

/// N event loops and a round-robin picker.
///
/// `Sendable`: the loops array never changes after init and the picker is an atomic counter.
public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]
    private let counter = Atomic<UInt>(0)

    /// Starts `loopCount` loops (default: the processors online), named `<namePrefix>-<index>`.
    public init(loopCount: Int = POSIXThread.activeProcessorCount, namePrefix: String = "vigil-loop") throws(Errno) {
        precondition(loopCount > 0, "an event-loop group needs at least one loop")
        var loops: [EventLoop] = []
        for index in 0..<loopCount {
            do throws(Errno) {
                loops.append(try EventLoop(name: "\(namePrefix)-\(index)"))
            } catch {
                for loop in loops { loop.syncShutdown() }
                throw error
            }
        }
        self.loops = loops
    }

    /// The next loop in turn.
    public func next() -> EventLoop {
        let index = self.counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return self.loops[Int(index % UInt(self.loops.count))]
    }

    /// Shuts every loop down (closing their connections) and joins their threads.
    public func shutdown() async {
        for loop in self.loops {
            await loop.shutdown()
        }
    }

    /// `shutdown()` for synchronous callers; blocks the calling thread, so never from the cooperative pool.
    public func syncShutdown() {
        for loop in self.loops {
            loop.syncShutdown()
        }
    }
}
