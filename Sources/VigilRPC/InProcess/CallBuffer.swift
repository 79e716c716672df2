// The application-facing state of one call at one endpoint: received messages not yet taken, the message being
// sent, and the (at most one each) suspended reader and writer. It lives inside the endpoint's Mutex, and every
// continuation is taken out of it (set to nil) by the code that resumes it, so each is resumed exactly once
// whichever of completion, reset, deadline or cancellation gets there first.

/// A class, reached only under the endpoint's lock: as a struct in the calls dictionary, every read of a field
/// copied the whole value (a retain and release per reference field), 5 % of the server's CPU in a 128-byte sink.
/// `@unchecked Sendable` because the endpoint's Mutex is what guards it: no reference to one leaves the lock.
final class CallBuffer: @unchecked Sendable {
    /// Messages received and not yet read, with the credit each still owes the peer. Bounded by the stream window
    /// (plus one message being reassembled), because credit is returned only as messages are read.
    var inbound = InboundQueue()
    /// Credit of the messages the reader took in its last batch (`receiveAvailable`), owed to the peer once the
    /// reader comes back for more: until then they count against the window as if still queued, so a reader that
    /// takes in batches holds no more than one that takes one at a time.
    var heldCredit = 0
    /// The peer sent END_STREAM (server side: the client's half-close).
    var peerHalfClosed = false
    /// Set when the stream ended OK (client: OK trailers).
    var finished = false
    /// Set when the call failed; `failedLocally` means this side ended it (cancel, deadline) and queued messages
    /// are dropped instead of read first.
    var failure: RPCError?
    var failedLocally = false

    var receiver: CheckedContinuation<[UInt8]?, any Error>?
    /// Client side, a unary call's caller: resumed once, when the call has its answer (`settleAnswer`).
    var answer: CheckedContinuation<[[UInt8]], any Error>?
    var pending: OutboundMessage?
    var sender: CheckedContinuation<Void, any Error>?

    /// Server side: the handler's context, cancelled when the stream ends under it.
    var context: ServerContext?
    /// Client side: the deadline timer, cancelled when the call is released.
    var timer: (any CallTimer)?

    var isEnded: Bool { self.finished || self.failure != nil }

    var queuedCount: Int { self.inbound.count }

    func popMessage() -> (bytes: [UInt8], credit: Int)? { self.inbound.popFirst() }

    /// Takes every queued and held message's credit (the messages will never be read).
    func dropQueued() -> Int {
        var credit = self.heldCredit
        self.heldCredit = 0
        credit += self.inbound.takeAll().credit
        return credit
    }
}

/// Received messages in arrival order, with their credit beside them (so the common batch read takes every
/// message by swapping one array out, and sums credit without touching a message).
struct InboundQueue {
    private var messages: [[UInt8]] = []
    private var credits: [Int] = []
    private var head = 0

    var count: Int { self.messages.count - self.head }

    /// Bytes of the queued messages (prefixes not counted), for tests that wait until a peer's sends are queued.
    var byteCount: Int { self.messages[self.head...].reduce(0) { $0 + $1.count } }

    mutating func append(_ message: [UInt8], credit: Int) {
        self.messages.append(message)
        self.credits.append(credit)
    }

    mutating func popFirst() -> (bytes: [UInt8], credit: Int)? {
        guard self.head < self.messages.count else { return nil }
        var message: [UInt8] = []
        swap(&message, &self.messages[self.head])
        let credit = self.credits[self.head]
        self.head += 1
        if self.head >= 64 && self.head * 2 >= self.messages.count {
            self.messages.removeFirst(self.head)
            self.credits.removeFirst(self.head)
            self.head = 0
        }
        return (message, credit)
    }

    /// Every queued message, in order, and their credit together.
    mutating func takeAll() -> (messages: [[UInt8]], credit: Int) {
        var messages: [[UInt8]] = []
        swap(&messages, &self.messages)
        let credit = self.credits[self.head...].reduce(0, +)
        if self.head > 0 { messages.removeFirst(self.head) }
        self.credits.removeAll(keepingCapacity: true)
        self.head = 0
        return (messages, credit)
    }
}

/// Continuations to resume and tasks to cancel once the endpoint's lock is released: resuming under the lock would
/// run arbitrary code (and possibly re-enter the endpoint) while holding it.
struct Effects {
    var receives: [(CheckedContinuation<[UInt8]?, any Error>, Result<[UInt8]?, any Error>)] = []
    var answers: [(CheckedContinuation<[[UInt8]], any Error>, Result<[[UInt8]], any Error>)] = []
    var sends: [(CheckedContinuation<Void, any Error>, Result<Void, any Error>)] = []
    var opens: [CheckedContinuation<Void, any Error>] = []
    var cancellations: [(ServerContext, Status.Code)] = []
    var timers: [any CallTimer] = []
    var newCalls: [(StreamID, CallHeaders, ServerContext)] = []

    func run() {
        for (continuation, result) in self.receives { continuation.resume(with: result) }
        for (continuation, result) in self.answers { continuation.resume(with: result) }
        for (continuation, result) in self.sends { continuation.resume(with: result) }
        for continuation in self.opens { continuation.resume() }
        for (context, code) in self.cancellations { context.cancel(code) }
        for timer in self.timers { timer.cancel() }
    }
}
