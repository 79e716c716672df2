// Stream ids as their own type, so a stream id is never mixed up with a length or a window increment, and the
// rules on them (odd, below 2^31, 0 meaning the connection) are spelled once.

/// Identifies a stream on a connection. 0 is the connection itself; calls use odd ids from 1, opened by the client
/// in strictly increasing order (docs/PROTOCOL.md, "Streams").
public struct StreamID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: UInt32

    /// The largest id: the top bit of the frame header's stream field is reserved.
    public static let maxRawValue: UInt32 = 0x7FFF_FFFF

    /// The connection as a whole (SETTINGS, PING, GOAWAY, connection-level WINDOW_UPDATE).
    public static let connection = StreamID(0)

    /// `rawValue` must not exceed `maxRawValue` (a programming error otherwise: ids from the wire are checked by the
    /// decoder before they become a `StreamID`).
    @inlinable
    public init(_ rawValue: UInt32) {
        precondition(rawValue <= Self.maxRawValue, "StreamID: \(rawValue) uses the reserved bit")
        self.rawValue = rawValue
    }

    /// True for the connection pseudo-stream 0.
    @inlinable
    public var isConnection: Bool { self.rawValue == 0 }

    /// True for an id a client may open: odd.
    @inlinable
    public var isClientInitiated: Bool { self.rawValue & 1 == 1 }

    /// The id after this one for the next call, or nil when the connection has used up its ids (open another).
    @inlinable
    public var nextClientStream: StreamID? {
        let next = self.rawValue == 0 ? 1 : self.rawValue &+ 2
        return next <= Self.maxRawValue ? StreamID(next) : nil
    }

    @inlinable
    public static func < (lhs: StreamID, rhs: StreamID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "stream \(self.rawValue)" }
}

extension StreamID {
    /// The hash dictionaries use: a seeded 64-bit mix (MurmurHash3's finalizer) instead of SipHash. Every frame and
    /// every message looks a stream up three to five times (the endpoint's calls, the machine's streams), and SipHash
    /// was 13 % of the server's CPU in a 128-byte sink (perf). Peers choose stream ids, so the dictionary's own
    /// per-instance seed is mixed in: a peer cannot line its ids up on one bucket without knowing it, and the
    /// concurrent-streams limit bounds any chain anyway. `==` and `hash(into:)` are unchanged.
    @inlinable
    public func _rawHashValue(seed: Int) -> Int {
        var mixed = UInt64(self.rawValue) ^ UInt64(bitPattern: Int64(seed))
        mixed ^= mixed >> 33
        mixed &*= 0xff51_afd7_ed55_8ccd
        mixed ^= mixed >> 33
        mixed &*= 0xc4ce_b9fe_1a85_ec53
        mixed ^= mixed >> 33
        return Int(truncatingIfNeeded: mixed)
    }
}
