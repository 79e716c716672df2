// The run's time bound and its cleanup: every vigild the tool starts and every filesystem it mounts is registered
// here, so that a run past `--timeout` (or a scenario that throws half-way) never leaves a server or a mount behind.
import Dispatch
import Foundation
import Synchronization

enum Watchdog {
    private static let state = Mutex<(pids: Set<Int32>, mounts: [String], armed: Bool)>(([], [], false))

    static func register(pid: Int32) { self.state.withLock { _ = $0.pids.insert(pid) } }
    static func unregister(pid: Int32) { self.state.withLock { _ = $0.pids.remove(pid) } }
    static func register(mount: String) { self.state.withLock { $0.mounts.append(mount) } }
    static func unregister(mount: String) { self.state.withLock { $0.mounts.removeAll { $0 == mount } } }

    /// After `timeout`: kill every registered vigild, unmount every registered filesystem, print FAIL, exit 1.
    static func arm(after timeout: Duration) {
        self.state.withLock { $0.armed = true }
        let seconds = Int(timeout.components.seconds)
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(seconds)) {
            guard self.state.withLock({ $0.armed }) else { return }
            self.cleanUp()
            print("vigil-crashtest: timeout after \(seconds) s: FAIL")
            System.exit(1)
        }
    }

    static func disarm() {
        self.state.withLock { $0.armed = false }
        self.cleanUp()
    }

    /// Kills what is left and unmounts (lazily, so a busy mount still goes once its last user is gone).
    static func cleanUp() {
        let (pids, mounts) = self.state.withLock { state in
            defer {
                state.pids = []
                state.mounts = []
            }
            return (state.pids, state.mounts)
        }
        for pid in pids {
            System.signal(pid, System.killSignal)
            _ = System.wait(pid)
        }
        for mount in mounts {
            _ = try? System.run("/bin/umount", ["-l", mount])
            try? FileManager.default.removeItem(atPath: mount)
        }
    }
}
