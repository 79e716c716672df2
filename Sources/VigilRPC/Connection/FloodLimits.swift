// The budgets that stop a peer from making us work for nothing (docs/PROTOCOL.md §5.6, §11): every frame the
// protocol lets a peer send costs us a little (a PONG to write, a window to credit, a handler task started and
// torn down) while costing the peer almost nothing, so a valid-but-useless frame stream is a denial of service
// (HTTP/2's ping and empty-frame floods, CVE-2019-9512/9518, and its rapid reset, CVE-2023-44487).
//
// As nghttp2 does since 1.57 (`stream_reset_rate_limit`, a token bucket of burst 1000 refilled 33 a second) and
// Netty's `Http2MaxRstFrameDecoder`, each kind of useless work has a token bucket: a burst a well-behaved peer never
// reaches, refilled at a steady rate, and the peer that empties it gets GOAWAY ENHANCE_YOUR_CALM. Buckets rather
// than fixed windows so a long-lived connection that pings now and then never accumulates strikes, while a flood
// is caught within its first `burst` frames whatever its pace.

/// A token bucket over a caller-supplied clock, so the state machine stays pure and tests pass instants.
public struct TokenBucket: Sendable, Hashable {
    /// Tokens available at first and the most that accumulate.
    public let burst: Int
    /// Tokens regained per second.
    public let perSecond: Int
    var tokens: Double
    var refilledAt: ContinuousClock.Instant?

    public init(burst: Int, perSecond: Int) {
        self.burst = max(burst, 1)
        self.perSecond = max(perSecond, 0)
        self.tokens = Double(self.burst)
    }

    /// Tokens available now (after refilling up to `now`), for diagnostics and tests.
    public func available(at now: ContinuousClock.Instant) -> Int {
        var copy = self
        copy.refill(at: now)
        return Int(copy.tokens)
    }

    /// Takes one token; false when the bucket is empty (the caller then ends the connection).
    public mutating func take(at now: ContinuousClock.Instant) -> Bool {
        self.refill(at: now)
        guard self.tokens >= 1 else { return false }
        self.tokens -= 1
        return true
    }

    mutating func refill(at now: ContinuousClock.Instant) {
        defer { self.refilledAt = now }
        guard let last = self.refilledAt, now > last else { return }
        let elapsed = last.duration(to: now).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        self.tokens = min(Double(self.burst), self.tokens + seconds * Double(self.perSecond))
    }
}

/// How much useless work a peer may cause before the connection ends with ENHANCE_YOUR_CALM.
public struct FloodLimits: Sendable, Hashable {
    /// Control frames that ask work of us and carry nothing: PINGs (each owes a PONG), DATA frames with no bytes
    /// and no END_STREAM, WINDOW_UPDATEs that credit a window past its initial size.
    /// A client sends a handful of these per minute (keepalive, batched credit), never a thousand in a burst.
    public var controlFrames: TokenBucket
    /// Streams that end before their handler finished by the client's doing: RST_STREAM from the client on a
    /// stream still open, and streams refused at once (over `max_concurrent_streams`, after GOAWAY, headers too
    /// large or invalid). Each one started, or was answered, for nothing: this is the rapid-reset budget. Counted
    /// on the server only; deadlines and cancellations of a well-behaved client stay far below 33 a second on
    /// average.
    public var streamResets: TokenBucket

    public init(controlFrames: TokenBucket, streamResets: TokenBucket) {
        self.controlFrames = controlFrames
        self.streamResets = streamResets
    }

    /// nghttp2's numbers for resets (burst 1000, 33/s); control frames refill faster (100/s) because a busy
    /// streaming client may credit stream windows that its own SETTINGS enlarged.
    public static let `default` = FloodLimits(
        controlFrames: TokenBucket(burst: 1000, perSecond: 100),
        streamResets: TokenBucket(burst: 1000, perSecond: 33))
}
