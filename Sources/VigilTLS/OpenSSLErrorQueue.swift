// OpenSSL reports why a call failed on a thread-local queue, not in the return value. Every call site in this
// module clears the queue before a call and drains it right after a failure, so an error carries the reasons of
// its own failure and never stale ones left by an earlier call on the same thread.
import COpenSSL

/// The calling thread's OpenSSL error queue.
enum OpenSSLErrorQueue {
    /// One queued error: the packed code (library and reason) and OpenSSL's one-line rendering of it.
    struct Entry {
        let code: UInt
        let text: String

        var library: Int32 { ERR_GET_LIB(self.code) }
        var reason: Int32 { ERR_GET_REASON(self.code) }
        /// Just the reason, e.g. "tlsv1 alert unknown ca".
        var reasonText: String { ERR_reason_error_string(self.code).map { String(cString: $0) } ?? self.text }
    }

    /// Forgets whatever earlier calls on this thread left behind, so the next failure is read on its own.
    static func clear() {
        ERR_clear_error()
    }

    /// Empties the queue, oldest error first.
    static func drain() -> [Entry] {
        var entries: [Entry] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            entries.append(Entry(code: code, text: self.text(of: code)))
        }
        return entries
    }

    private static func text(of code: UInt) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
            guard let base = buffer.baseAddress else { return "error:\(code)" }
            ERR_error_string_n(code, base, buffer.count)
            return String(cString: base)
        }
    }
}
