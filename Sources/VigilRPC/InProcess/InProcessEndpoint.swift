// One side of an in-process connection, doing exactly what a network connection will: bytes in through a
// FrameDecoder, frames through the ConnectionStateMachine, frames out through a FrameEncoder into the peer's pipe.
// Only the byte transport differs (a BytePipe instead of a socket), so flow control, message limits, deadlines and
// resets behave here as they will on the wire. All state sits behind one Mutex; continuations and handler
// cancellations are collected as `Effects` and run after it is released.

import Synchronization

final class InProcessEndpoint: Sendable {
    struct State {
        var machine: ConnectionStateMachine
        var decoder: FrameDecoder
        var encoder = FrameEncoder()
        var calls: [StreamID: CallBuffer] = [:]
        /// Clients waiting for a stream slot (the peer's max_concurrent_streams), by token, in arrival order.
        var openWaiters: [(token: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextToken: UInt64 = 0
        var closedReason: RPCError?
        /// The last frame written, while a whole message on its stream may still join it (FrameEncoder+Coalescing).
        var coalescable: CoalescableFrame?
        /// Frames were queued on `outbound` in this lock round: the round ends by asking it to deliver them.
        var wroteSinceDrain = false
    }

    let role: ConnectionStateMachine.Role
    let state: Mutex<State>
    let outbound: any RPCByteSink
    /// Who the peer is, for `ServerContext.peer`: "in-process", or an address over a network transport.
    let peer: String
    /// Server side: starts the handler of a new call (the transport supplies it; it runs after the lock is released).
    let onCall: (@Sendable (InProcessEndpoint, StreamID, ServerContext) -> Void)?
    /// Where call deadlines are scheduled (CallTimers).
    let timers: any CallTimers
    /// The peer's `max_message_bytes`, copied from the machine when its SETTINGS arrive (`peerMaxMessageBytes`).
    let peerMessageLimit: Atomic<Int>

    init(
        role: ConnectionStateMachine.Role,
        settings: ConnectionSettings,
        outbound: any RPCByteSink,
        peer: String = "in-process",
        timers: any CallTimers = TaskCallTimers(),
        onCall: (@Sendable (InProcessEndpoint, StreamID, ServerContext) -> Void)?
    ) {
        self.role = role
        self.timers = timers
        self.outbound = outbound
        self.peer = peer
        self.onCall = onCall
        var machine = ConnectionStateMachine(role: role, localSettings: settings)
        self.peerMessageLimit = Atomic(machine.peerSettings.maxMessageBytes)
        var bytes: [UInt8] = []
        FrameEncoder.writePreface(into: &bytes)
        let encoder = FrameEncoder()
        for frame in machine.start() { try? encoder.encode(frame, into: &bytes) }
        outbound.enqueue(bytes)
        self.state = Mutex(
            State(machine: machine, decoder: FrameDecoder(settings: Self.lenient(settings))))
    }

    /// Before the peer acknowledges our SETTINGS it may send under the defaults, so the decoder accepts the looser
    /// of ours and the defaults; afterwards it enforces ours.
    static func lenient(_ settings: ConnectionSettings) -> ConnectionSettings {
        var result = settings
        let defaults = ConnectionSettings.defaults
        result.maxFrameSize = max(settings.maxFrameSize, defaults.maxFrameSize)
        result.maxHeaderBytes = max(settings.maxHeaderBytes, defaults.maxHeaderBytes)
        result.maxMessageBytes = max(settings.maxMessageBytes, defaults.maxMessageBytes)
        return result
    }

    /// Runs `body` under the lock, then the effects it collected, then delivers what it wrote (if it wrote: many
    /// rounds only read, and asking the transport to deliver nothing still took its lock).
    func withState<Value>(_ body: (inout State, inout Effects) -> Value) -> Value {
        var effects = Effects()
        let (value, wrote) = self.state.withLock { state in
            let value = body(&state, &effects)
            defer { state.wroteSinceDrain = false }
            return (value, state.wroteSinceDrain)
        }
        self.afterUnlock(effects, drain: wrote)
        return value
    }

    func afterUnlock(_ effects: Effects, drain: Bool) {
        effects.run()
        if let onCall = self.onCall {
            for (id, _, context) in effects.newCalls { onCall(self, id, context) }
        }
        if drain { self.outbound.drain() }
    }

    // MARK: Bytes in

    /// Decodes and applies everything the peer sent.
    func receiveBytes(_ bytes: [UInt8]) {
        self.withState { state, effects in
            state.decoder.feed(bytes)
            while !state.machine.isClosed {
                let action: ConnectionAction
                do throws(FrameError) {
                    guard let frame = try state.decoder.nextFrame() else { break }
                    action = state.machine.receive(frame)
                } catch {
                    action = state.machine.receiveError(error)
                }
                self.apply(action, &state, &effects)
                if state.machine.localSettingsAcknowledged {
                    state.decoder.settings = state.machine.localSettings
                }
            }
        }
    }

    /// Encodes the frames into the outbound pipe (still under the lock, so wire order is machine order). A whole
    /// message joins the frame before it when that frame is on its stream and still waiting in the same buffer.
    func write(_ frames: [Frame], _ state: inout State) {
        guard !frames.isEmpty else { return }
        state.wroteSinceDrain = true
        let encoder = state.encoder
        var coalescable = state.coalescable
        self.outbound.enqueue { bytes in
            for frame in frames {
                // Frames from the machine are valid by construction; one that is not is dropped, never half-written.
                if case .data(let id, let data) = frame {
                    coalescable = (try? encoder.appendCoalescing(data, on: id, after: coalescable, into: &bytes)) ?? nil
                } else {
                    try? encoder.encode(frame, into: &bytes)
                    coalescable = nil
                }
            }
        }
        state.coalescable = coalescable
    }

    func apply(_ action: ConnectionAction, _ state: inout State, _ effects: inout Effects) {
        self.write(action.frames, &state)
        for event in action.events {
            switch event {
            case .streamOpened(let id, let headers, let endStream):
                let deadline = headers.timeout.map { ContinuousClock.now.advanced(by: $0) }
                let context = ServerContext(
                    methodPath: headers.methodPath, metadata: headers.metadata, deadline: deadline,
                    peer: self.peer)
                let call = CallBuffer()
                call.peerHalfClosed = endStream
                call.context = context
                state.calls[id] = call
                effects.newCalls.append((id, headers, context))
            case .initialMetadata:
                break
            case .message(let id, let bytes, let credit, let endStream):
                self.deliver(id, bytes, credit: credit, endStream: endStream, &state, &effects)
            case .messages(let id, let messages, let endStream):
                self.deliver(id, messages, endStream: endStream, &state, &effects)
            case .endOfStream(let id):
                self.deliverEnd(id, &state, &effects)
            case .streamClosed(let id, let end):
                self.streamEnded(id, end, &state, &effects)
            case .writable(let id):
                if let id {
                    self.flush(id, &state, &effects)
                } else {
                    let waiting = state.calls.compactMap { $0.value.pending == nil ? nil : $0.key }
                    for id in waiting { self.flush(id, &state, &effects) }
                }
            case .peerSettings(let settings):
                state.encoder.maxFrameSize = settings.maxFrameSize
                self.peerMessageLimit.store(settings.maxMessageBytes, ordering: .relaxed)
                self.wakeOpeners(&state, &effects, all: true)
            case .pong, .goAway:
                break
            case .connectionClosed(let code, let message):
                state.closedReason = RPCError(
                    code: .unavailable, message: "connection closed (\(code)): \(message)")
                self.wakeOpeners(&state, &effects, all: true)
            }
        }
    }

    func deliver(
        _ id: StreamID, _ bytes: [UInt8], credit: Int, endStream: Bool, _ state: inout State,
        _ effects: inout Effects
    ) {
        guard let call = state.calls[id] else {
            // Nobody will read it: the credit goes back at once.
            self.write(state.machine.consumed(credit, on: id), &state)
            return
        }
        guard !call.isEnded else {
            self.write(state.machine.consumed(credit, on: id), &state)
            return
        }
        if endStream { call.peerHalfClosed = true }
        if let receiver = call.receiver {
            call.receiver = nil
            self.write(state.machine.consumed(credit, on: id), &state)
            effects.receives.append((receiver, .success(bytes)))
        } else {
            call.inbound.append(bytes, credit: credit)
            self.settleAnswer(call, &effects)
        }
    }

    /// The messages of one PACKED frame: the first to a waiting reader, the rest queued, each with its own credit.
    func deliver(
        _ id: StreamID, _ messages: [[UInt8]], endStream: Bool, _ state: inout State, _ effects: inout Effects
    ) {
        guard let call = state.calls[id], !call.isEnded else {
            let credit = messages.reduce(0) { $0 + $1.count + 4 }
            self.write(state.machine.consumed(credit, on: id), &state)
            return
        }
        if endStream { call.peerHalfClosed = true }
        var rest = messages[...]
        if let receiver = call.receiver, let first = rest.popFirst() {
            call.receiver = nil
            self.write(state.machine.consumed(first.count + 4, on: id), &state)
            effects.receives.append((receiver, .success(first)))
        }
        for message in rest { call.inbound.append(message, credit: message.count + 4) }
        self.settleAnswer(call, &effects)
    }

    func deliverEnd(_ id: StreamID, _ state: inout State, _ effects: inout Effects) {
        guard let call = state.calls[id] else { return }
        call.peerHalfClosed = true
        if call.queuedCount == 0, let receiver = call.receiver {
            call.receiver = nil
            effects.receives.append((receiver, .success(nil)))
        }
    }

    /// The stream is over at the machine: settle the call's waiters and, on a server, stop the handler.
    func streamEnded(_ id: StreamID, _ end: StreamEnd, _ state: inout State, _ effects: inout Effects) {
        if self.role == .client { self.wakeOpeners(&state, &effects, all: false) }
        guard let call = state.calls[id] else { return }
        guard !call.isEnded else { return }
        var failure: RPCError?
        switch end {
        case .trailers(let trailers) where trailers.status.code == .ok:
            call.finished = true
        case .trailers(let trailers):
            failure = RPCError(status: trailers.status, metadata: trailers.metadata)
        case .reset(let code):
            failure = RPCError(code: code, message: "stream reset by the peer with \(code)")
        case .failed(let code, let message):
            failure = RPCError(code: code, message: message)
        }
        call.failure = failure
        if self.role == .server {
            // The server's reader is the handler, which is stopping: queued requests will never be read.
            self.write(state.machine.consumed(call.dropQueued(), on: id), &state)
            call.failedLocally = true
            if let context = call.context {
                effects.cancellations.append((context, failure?.code ?? .cancelled))
            }
        }
        self.settleWaiters(call, &effects)
    }

    /// Resumes the reader and writer of an ended call with what the call's end means for each.
    func settleWaiters(_ call: CallBuffer, _ effects: inout Effects) {
        if let sender = call.sender {
            call.sender = nil
            call.pending = nil
            // After OK trailers the server wants no more requests: the write is dropped, the call is not failed.
            effects.sends.append((sender, call.failure.map { .failure($0) } ?? .success(())))
        }
        if let receiver = call.receiver, call.queuedCount == 0 || call.failedLocally {
            call.receiver = nil
            effects.receives.append((receiver, call.failure.map { .failure($0) } ?? .success(nil)))
        }
        self.settleAnswer(call, &effects)
    }

    /// Writes as much of the call's pending message as the windows allow; resumes its writer once all of it went.
    func flush(_ id: StreamID, _ state: inout State, _ effects: inout Effects) {
        var frames: [Frame] = []
        self.frame(id, &state, &effects, into: &frames)
        self.write(frames, &state)
    }

    /// `flush` without the write: appends the pending message's frames to `frames`.
    func frame(_ id: StreamID, _ state: inout State, _ effects: inout Effects, into frames: inout [Frame]) {
        // Taken out of the call while it changes, so its buffer is never copied (copy-on-write).
        guard let call = state.calls[id], var pending = call.pending else { return }
        call.pending = nil
        while !pending.isComplete && state.machine.canSendData(on: id) {
            let credit = state.machine.sendableBytes(on: id)
            guard let data = pending.nextFrame(credit: credit, maxFrameSize: state.encoder.maxFrameSize)
            else { break }
            guard let frame = try? state.machine.sendData(data, on: id) else { break }
            frames.append(frame)
        }
        if pending.isComplete {
            call.pending = nil
            if let sender = call.sender {
                call.sender = nil
                effects.sends.append((sender, .success(())))
            }
        } else {
            call.pending = pending
        }
    }

    /// A stream slot may have freed (or the connection changed): let waiting openers try again.
    func wakeOpeners(_ state: inout State, _ effects: inout Effects, all: Bool) {
        guard !state.openWaiters.isEmpty else { return }
        let count = all ? state.openWaiters.count : 1
        effects.opens += state.openWaiters.prefix(count).map(\.continuation)
        state.openWaiters.removeFirst(count)
    }
}
