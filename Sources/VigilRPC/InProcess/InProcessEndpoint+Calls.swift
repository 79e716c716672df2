// What the application does to a call at one endpoint: open it, send and receive messages, end it. Each suspending
// operation installs its continuation under the endpoint's lock after checking whether the call already ended, so a
// reset, deadline or cancellation that wins the race is seen either before suspending or by the code that takes
// the continuation out of the call: never both, never neither.

import Synchronization

extension InProcessEndpoint {
    /// Opens a stream (client), waiting while the peer's concurrency limit is reached. The call's deadline timer
    /// is attached in the same lock round, so releasing the call stops it.
    func openStream(_ headers: CallHeaders, deadline: ContinuousClock.Instant?) async throws -> StreamID {
        while true {
            try Task.checkCancellation()
            enum Attempt {
                case opened(StreamID)
                case failed(any Error)
                case wait
            }
            let attempt = self.withState { state, _ -> Attempt in
                if let reason = state.closedReason { return .failed(reason) }
                if Self.mustWaitForSlot(state.machine) { return .wait }
                do {
                    let (id, frame) = try state.machine.openStream(headers, endStream: false)
                    self.write([frame], &state)
                    let call = CallBuffer()
                    call.timer = deadline.map { self.deadlineTimer(at: $0, for: id) }
                    state.calls[id] = call
                    return .opened(id)
                } catch {
                    return .failed(error)
                }
            }
            switch attempt {
            case .opened(let id): return id
            case .failed(let error): throw error
            case .wait: try await self.waitForSlot(deadline: deadline)
            }
        }
    }

    /// A client call's deadline: when it passes, the call is reset DEADLINE_EXCEEDED.
    func deadlineTimer(at deadline: ContinuousClock.Instant, for id: StreamID) -> any CallTimer {
        self.timers.schedule(at: deadline) {
            self.reset(id, code: .deadlineExceeded, message: "deadline exceeded")
        }
    }

    /// Only the peer's concurrency limit is worth waiting for; every other refusal is final (`openStream` says).
    static func mustWaitForSlot(_ machine: ConnectionStateMachine) -> Bool {
        !machine.canOpenStream && machine.openStreamCount >= machine.peerSettings.maxConcurrentStreams
            && !machine.isClosed && machine.goAwaySent == nil && machine.goAwayReceived == nil
    }

    /// Suspends until a stream ends; throws when the task is cancelled or the call's deadline passes first (the
    /// waiter is removed under the lock by whichever wins, so it is resumed once).
    func waitForSlot(deadline: ContinuousClock.Instant?) async throws {
        let expired = RPCError(code: .deadlineExceeded, message: "deadline exceeded before the call opened")
        if let deadline, deadline <= .now { throw expired }
        let token = self.state.withLock { state -> UInt64 in
            state.nextToken += 1
            return state.nextToken
        }
        let timer = deadline.map { deadline in
            self.timers.schedule(at: deadline) { self.failWaiter(token, expired) }
        }
        defer { timer?.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<Void, any Error>) in
                self.withState { state, effects in
                    if Task.isCancelled {
                        effects.sends.append((continuation, .failure(CancellationError())))
                    } else if Self.mustWaitForSlot(state.machine) && state.closedReason == nil {
                        state.openWaiters.append((token, continuation))
                    } else {
                        effects.opens.append(continuation)
                    }
                }
            }
        } onCancel: {
            self.failWaiter(token, CancellationError())
        }
    }

    /// Resumes a slot waiter with an error, if it is still waiting.
    func failWaiter(_ token: UInt64, _ error: any Error) {
        self.withState { state, effects in
            guard let index = state.openWaiters.firstIndex(where: { $0.token == token }) else { return }
            effects.sends.append((state.openWaiters.remove(at: index).continuation, .failure(error)))
        }
    }

    /// Sends one message (or, with `message` nil, a bare half-close); returns once every frame is written, waiting
    /// for credit as needed: the caller's buffered bytes never exceed one message.
    func send(_ message: [UInt8]?, endStream: Bool, on id: StreamID) async throws {
        // With credit for the whole message it is framed and written now, without a continuation: a stream of small
        // messages otherwise suspends and resumes its sender once per message.
        switch self.sendWithoutWaiting(message, endStream: endStream, on: id) {
        case .written: return
        case .pending: return try await self.waitForPendingSend(on: id)
        case .notTaken: break
        }
        try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<Void, any Error>) in
            self.withState { state, effects in
                guard let call = state.calls[id] else {
                    effects.sends.append(
                        (continuation, .failure(RPCError(code: .internal, message: "call released"))))
                    return
                }
                if let failure = call.failure {
                    effects.sends.append((continuation, .failure(failure)))
                } else if call.pending != nil {
                    effects.sends.append(
                        (continuation, .failure(RPCError(code: .internal, message: "two writers on one call"))))
                } else if call.finished || !state.machine.canSendData(on: id) {
                    // Ended OK, or already half-closed: nothing more is wanted, so the write is dropped.
                    effects.sends.append((continuation, .success(())))
                } else {
                    call.pending =
                        message.map { OutboundMessage(message: $0, endStream: endStream) } ?? .endOfStream
                    call.sender = continuation
                }
                self.flush(id, &state, &effects)
            }
        }
    }

    /// Sends `messages` as `send` would one at a time, but frames every message that has credit under one lock
    /// round and writes them with one wake-up of the transport; waits, as `send` does, where credit runs out.
    func send(contentsOf messages: [[UInt8]], on id: StreamID) async throws {
        var next = messages.startIndex
        while next < messages.endIndex {
            let (written, pending) = self.sendWithoutWaiting(messages[next...], on: id)
            next += written
            if pending {
                try await self.waitForPendingSend(on: id)
            } else if next < messages.endIndex {
                try await self.send(messages[next], endStream: false, on: id)
                next += 1
            }
        }
    }

    /// The batch form of the single message's `sendWithoutWaiting`: frames messages from the front of `messages`
    /// while each has credit for all of it, packing consecutive messages that fit one frame into PACKED frames.
    /// Returns how many were taken and whether the last one taken is still pending (its frames did not all go out).
    private func sendWithoutWaiting(_ messages: ArraySlice<[UInt8]>, on id: StreamID) -> (Int, pending: Bool) {
        guard !Task.isCancelled else { return (0, false) }
        return self.withState { state, effects in
            guard let call = state.calls[id], call.failure == nil, call.pending == nil, !call.finished else {
                return (0, false)
            }
            var frames: [Frame] = []
            var pack = MessagePack()
            var taken = 0
            let maxFrameSize = state.encoder.maxFrameSize
            // Credit left after what is gathered, kept here rather than asked of the machine per message (two
            // stream lookups each); sendData checks every frame against the windows again.
            var credit = state.machine.sendableBytes(on: id)
            // By index: a for-in loop copies (retains and releases) each message once more.
            for index in messages.indices {
                let cost = messages[index].count + 4
                guard cost <= credit else { break }
                taken += 1
                if cost <= maxFrameSize {
                    if pack.cost + cost > maxFrameSize { pack.frame(on: id, &state.machine, into: &frames) }
                    pack.append(messages[index])
                    credit -= cost
                    continue
                }
                pack.frame(on: id, &state.machine, into: &frames)
                call.pending = OutboundMessage(message: messages[index], endStream: false)
                self.frame(id, &state, &effects, into: &frames)
                if call.pending != nil { break }
                credit = state.machine.sendableBytes(on: id)
            }
            pack.frame(on: id, &state.machine, into: &frames)
            self.write(frames, &state)
            return (taken, call.pending != nil)
        }
    }

    enum ImmediateSend { case written, pending, notTaken }

    /// Frames and writes `message` at once when the call is open for sending, has nothing pending and has credit
    /// for all of it (its length prefix included): `written`. `notTaken` (nothing changed) otherwise. `pending` if
    /// the frames did not all go out after all; the caller then waits for them like a suspended sender.
    private func sendWithoutWaiting(_ message: [UInt8]?, endStream: Bool, on id: StreamID) -> ImmediateSend {
        guard !Task.isCancelled else { return .notTaken }
        return self.withState { state, effects in
            let needed = message.map { $0.count + 4 } ?? 0
            guard let call = state.calls[id], call.failure == nil, call.pending == nil, !call.finished,
                state.machine.canSendData(on: id), state.machine.sendableBytes(on: id) >= needed
            else { return .notTaken }
            call.pending = message.map { OutboundMessage(message: $0, endStream: endStream) } ?? .endOfStream
            self.flush(id, &state, &effects)
            return call.pending == nil ? .written : .pending
        }
    }

    /// Waits until the call's pending message is written (or the call fails), as `send` does after queuing it.
    private func waitForPendingSend(on id: StreamID) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            self.withState { state, effects in
                let call = state.calls[id]
                if let failure = call?.failure {
                    effects.sends.append((continuation, .failure(failure)))
                } else if let call, call.pending != nil {
                    call.sender = continuation
                } else {
                    effects.sends.append((continuation, .success(())))
                }
            }
        }
    }

    /// The next message; nil at the peer's half-close (server) or after OK trailers (client).
    /// Cancelling the waiting task ends the wait with `CancellationError` (the call itself stays open), so a handler
    /// can stop reading from another task, e.g. when a newer stream takes its work over.
    func receive(on id: StreamID) async throws -> [UInt8]? {
        // A message already queued is taken without suspending: a stream of small messages arrives many per socket
        // read, and installing a cancellation handler and a continuation for each cost a fifth of the server's
        // CPU (perf, 128-byte sink).
        switch self.takeReady(on: id) {
        case .message(let bytes): return bytes
        case .end: return nil
        case .wait: break
        }
        return try await withTaskCancellationHandler {
            try await self.waitForMessage(on: id)
        } onCancel: {
            self.withState { state, effects in
                guard let call = state.calls[id], let receiver = call.receiver else { return }
                call.receiver = nil
                effects.receives.append((receiver, .failure(CancellationError())))
            }
        }
    }

    /// Every queued message, or when none is queued the next one as `receive` waits for it; empty where `receive`
    /// returns nil. A batch's credit goes back to the peer when the reader comes back for the next one
    /// (`CallBuffer.heldCredit`), all in one flow-control update.
    func receiveAvailable(on id: StreamID) async throws -> [[UInt8]] {
        let ready = self.takeQueuedMessages(on: id)
        if !ready.isEmpty { return ready }
        return try await self.receive(on: id).map { [$0] } ?? []
    }

    /// Credits back the previous batch and takes every queued message, under one lock round.
    private func takeQueuedMessages(on id: StreamID) -> [[UInt8]] {
        guard !Task.isCancelled else { return [] }
        return self.withState { state, _ in
            guard let call = state.calls[id] else { return [] }
            let credit = call.heldCredit
            call.heldCredit = 0
            var messages: [[UInt8]] = []
            if !call.failedLocally, call.receiver == nil, call.queuedCount > 0 {
                (messages, call.heldCredit) = call.inbound.takeAll()
            }
            self.write(state.machine.consumed(credit, on: id), &state)
            return messages
        }
    }

    /// What a reader can be given without waiting.
    private enum Ready {
        case message([UInt8])
        /// The stream has nothing more to read: `receive` returns nil.
        case end
        /// Anything else: the waiting path decides (and reports errors).
        case wait
    }

    /// The next queued message, or the end of a stream that has ended cleanly with nothing queued, when either can
    /// be handed over at once: the call is live, not cancelled and has no other reader waiting. A unary call reads
    /// twice, once for its message and once for the end, and the second read found the end here instead of
    /// creating a continuation that was resumed at once (one lock round and allocation less per call on each
    /// side). `wait` sends the caller down the waiting path, which handles every other case in the same order.
    private func takeReady(on id: StreamID) -> Ready {
        guard !Task.isCancelled else { return .wait }
        return self.withState { state, _ in
            guard let call = state.calls[id], !call.failedLocally, call.receiver == nil else { return .wait }
            if let message = call.popMessage() {
                self.write(state.machine.consumed(message.credit, on: id), &state)
                return .message(message.bytes)
            }
            if call.failure == nil && (call.finished || (self.role == .server && call.peerHalfClosed)) {
                return .end
            }
            return .wait
        }
    }

    private func waitForMessage(on id: StreamID) async throws -> [UInt8]? {
        try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<[UInt8]?, any Error>) in
            self.withState { state, effects in
                guard let call = state.calls[id] else {
                    effects.receives.append(
                        (continuation, .failure(RPCError(code: .internal, message: "call released"))))
                    return
                }
                if Task.isCancelled {
                    effects.receives.append((continuation, .failure(CancellationError())))
                } else if call.failedLocally, let failure = call.failure {
                    effects.receives.append((continuation, .failure(failure)))
                } else if let message = call.popMessage() {
                    self.write(state.machine.consumed(message.credit, on: id), &state)
                    effects.receives.append((continuation, .success(message.bytes)))
                } else if let failure = call.failure {
                    effects.receives.append((continuation, .failure(failure)))
                } else if call.finished || (self.role == .server && call.peerHalfClosed) {
                    effects.receives.append((continuation, .success(nil)))
                } else if call.receiver != nil {
                    effects.receives.append(
                        (continuation, .failure(RPCError(code: .internal, message: "two readers on one call"))))
                } else {
                    call.receiver = continuation
                }
            }
        }
    }

    /// Ends the call from this side: RST_STREAM with `code` if the stream is still open, and the call fails locally
    /// with `code` (a client's cancellation or deadline).
    func reset(_ id: StreamID, code: Status.Code, message: String) {
        self.withState { state, effects in
            if let frame = state.machine.resetStream(id, code: code) {
                self.write([frame], &state)
                if self.role == .client { self.wakeOpeners(&state, &effects, all: false) }
            }
            guard let call = state.calls[id] else { return }
            guard !call.isEnded else { return }
            call.failure = RPCError(code: code, message: message)
            call.failedLocally = true
            self.write(state.machine.consumed(call.dropQueued(), on: id), &state)
            self.settleWaiters(call, &effects)
        }
    }

    /// Ends the call from this side if it is still running (`reset`) and forgets it (`release`), in one lock round:
    /// how every client call ends.
    func resetAndRelease(_ id: StreamID, code: Status.Code, message: String) {
        self.withState { state, effects in
            if let frame = state.machine.resetStream(id, code: code) {
                self.write([frame], &state)
                if self.role == .client { self.wakeOpeners(&state, &effects, all: false) }
            }
            guard let call = state.calls.removeValue(forKey: id) else { return }
            if !call.isEnded {
                call.failure = RPCError(code: code, message: message)
                call.failedLocally = true
            }
            self.write(state.machine.consumed(call.dropQueued(), on: id), &state)
            if let timer = call.timer { effects.timers.append(timer) }
            call.failure = call.failure ?? RPCError(code: .cancelled, message: "call released")
            self.settleWaiters(call, &effects)
        }
    }

    /// Forgets the call: credits back anything unread and stops its timer.
    func release(_ id: StreamID) {
        self.withState { state, effects in
            guard let call = state.calls.removeValue(forKey: id) else { return }
            self.write(state.machine.consumed(call.dropQueued(), on: id), &state)
            if let timer = call.timer { effects.timers.append(timer) }
            call.failure = call.failure ?? RPCError(code: .cancelled, message: "call released")
            self.settleWaiters(call, &effects)
        }
    }

    /// Server: the handler is done; sends its trailers unless the stream already ended (reset, deadline), after
    /// `last`, the message it held back (`CallIO.sendLast`), in the same lock round. Returns false, having changed
    /// nothing, when the call is live but the windows cannot take all of `last` now: the caller then sends it the
    /// ordinary way and finishes without it.
    func finish(_ id: StreamID, last: [UInt8]? = nil, trailers: CallTrailers) -> Bool {
        self.withState { state, effects in
            var frames: [Frame] = []
            if let last, let call = state.calls[id], !call.isEnded, state.machine.canSendData(on: id) {
                guard call.pending == nil, state.machine.sendableBytes(on: id) >= last.count + 4 else { return false }
                call.pending = OutboundMessage(message: last, endStream: false)
                self.frame(id, &state, &effects, into: &frames)
            }
            if let frame = state.machine.sendTrailers(trailers, on: id) { frames.append(frame) }
            self.write(frames, &state)
            guard let call = state.calls.removeValue(forKey: id) else { return true }
            self.write(state.machine.consumed(call.dropQueued(), on: id), &state)
            call.failure = call.failure ?? RPCError(code: .cancelled, message: "call finished")
            self.settleWaiters(call, &effects)
            return true
        }
    }

    /// Server: the call's deadline passed. TRAILERS DEADLINE_EXCEEDED, and the handler is cancelled.
    func expire(_ id: StreamID) {
        self.withState { state, effects in
            let status = Status(code: .deadlineExceeded, message: "deadline exceeded")
            guard let frame = state.machine.sendTrailers(CallTrailers(status: status), on: id) else {
                return
            }
            self.write([frame], &state)
            guard let call = state.calls[id] else { return }
            guard !call.isEnded else { return }
            call.failure = RPCError(status: status)
            call.failedLocally = true
            self.write(state.machine.consumed(call.dropQueued(), on: id), &state)
            if let context = call.context { effects.cancellations.append((context, .deadlineExceeded)) }
            self.settleWaiters(call, &effects)
        }
    }

    /// The peer's message limit, for writers: read once per call on each side, so kept outside the lock.
    var peerMaxMessageBytes: Int { self.peerMessageLimit.load(ordering: .relaxed) }

    /// Starts a graceful shutdown from this side.
    func goAway() {
        self.withState { state, effects in
            let action = state.machine.goAway(.noError, message: "shutting down")
            self.apply(action, &state, &effects)
        }
    }
}

/// Whole messages gathered for one DATA frame: one message goes as an ordinary frame, several as a PACKED one. The
/// gatherer checked credit and frame size for each; `sendData` checks both again.
struct MessagePack {
    private var messages: [[UInt8]] = []
    /// Flow-controlled bytes of the gathered messages, prefixes included.
    private(set) var cost = 0

    mutating func append(_ message: [UInt8]) {
        self.messages.append(message)
        self.cost += message.count + 4
    }

    /// Appends the frame for what was gathered (if anything) and starts over.
    mutating func frame(on id: StreamID, _ machine: inout ConnectionStateMachine, into frames: inout [Frame]) {
        guard !self.messages.isEmpty else { return }
        let data =
            self.messages.count == 1
            ? DataFrame.message(self.messages[0]) : DataFrame.packed(self.messages, wireLength: self.cost)
        self.messages.removeAll(keepingCapacity: true)
        self.cost = 0
        // Cannot fail: credit and frame size were checked message by message.
        guard let frame = try? machine.sendData(data, on: id) else {
            return assertionFailure("a gathered frame was refused")
        }
        frames.append(frame)
    }
}
