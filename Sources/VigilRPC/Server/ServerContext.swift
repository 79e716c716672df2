// What a handler knows about its call beyond the messages: who called, with what metadata, until when, and whether
// the call is still wanted. It is a class because the transport and the handler share one live view of it: the
// transport cancels it (deadline, client reset) while the handler reads it and sets trailing metadata.

import Synchronization

/// The per-call context handed to every handler.
public final class ServerContext: Sendable {
    /// The method being called, as on the wire.
    public let methodPath: String
    /// The client's metadata (credentials included: never log it unredacted; `Metadata`'s description redacts).
    public let metadata: Metadata
    /// When the call must be finished, on this process's clock; nil for none.
    public let deadline: ContinuousClock.Instant?
    /// Who is calling, for logs: an address, or "in-process".
    public let peer: String

    struct State {
        var trailingMetadata = Metadata()
        var cancellation: Status.Code?
        var task: Task<Void, Never>?
        var timer: (any CallTimer)?
        var finished = false
        /// The handler's last message, held back to go out with the trailers (`CallIO.sendLast`).
        var lastMessage: [UInt8]?
    }

    let state = Mutex(State())

    public init(
        methodPath: String, metadata: Metadata, deadline: ContinuousClock.Instant?, peer: String
    ) {
        self.methodPath = methodPath
        self.metadata = metadata
        self.deadline = deadline
        self.peer = peer
    }

    /// Metadata sent with the trailers when the handler returns or throws (merged after an `RPCError`'s own).
    public var trailingMetadata: Metadata {
        get { self.state.withLock { $0.trailingMetadata } }
        set { self.state.withLock { $0.trailingMetadata = newValue } }
    }

    /// Why the call stopped being wanted: DEADLINE_EXCEEDED, CANCELLED (the client went away), or another code a
    /// stream error ended it with; nil while it is still wanted. The handler's task is cancelled at the same time.
    public var cancellationCode: Status.Code? { self.state.withLock { $0.cancellation } }

    /// True once the call is no longer wanted; handlers doing long work without awaiting may poll it.
    public var isCancelled: Bool { self.cancellationCode != nil }

    // MARK: Transport side

    /// Ties the handler's task to the context, so a cancellation that raced ahead of it still reaches it.
    func attach(task: Task<Void, Never>, timer: (any CallTimer)?) {
        let cancelNow = self.state.withLock { state -> Bool in
            state.task = task
            state.timer = timer
            return state.cancellation != nil || state.finished
        }
        if cancelNow {
            task.cancel()
            timer?.cancel()
        }
    }

    /// Cancels the handler (first reason wins) and its deadline timer.
    func cancel(_ code: Status.Code) {
        let tasks = self.state.withLock { state -> (Task<Void, Never>?, (any CallTimer)?) in
            guard state.cancellation == nil, !state.finished else { return (nil, nil) }
            state.cancellation = code
            return (state.task, state.timer)
        }
        tasks.0?.cancel()
        tasks.1?.cancel()
    }

    /// Holds the handler's last message until it returns (`CallIO.sendLast`).
    func holdLast(_ message: [UInt8]) {
        self.state.withLock { $0.lastMessage = message }
    }

    /// The handler finished: its deadline timer is no longer needed. Returns the last message it held back.
    func finish() -> [UInt8]? {
        let (timer, last) = self.state.withLock { state -> ((any CallTimer)?, [UInt8]?) in
            state.finished = true
            defer { state.lastMessage = nil }
            return (state.timer, state.lastMessage)
        }
        timer?.cancel()
        return last
    }
}
