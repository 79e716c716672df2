// Single messages in as few rounds of the endpoint's lock as the protocol allows. A client's unary call opens its
// stream and writes the request with END_STREAM in one round, waits once, for the whole answer, and is released in
// a third; through the stream operations (open, send, read the message, read the end, release) it took five rounds,
// two suspensions' worth of continuations and a typed stream with closures per call, a tenth of the client's CPU at
// tens of thousands of calls a second. A server reads a single request, message and end, in one round
// (`receiveSingle`), and sends a unary response with its trailers in one (`finish(_:last:trailers:)`). The frames
// on the wire are the same (docs/PROTOCOL.md §4).

extension InProcessEndpoint {
    /// Sends `request` as the call's only message and returns every response that arrived before the call ended OK,
    /// or as soon as there are two (the caller reports a wrong count; waiting for the end could stall on flow
    /// control). Throws the call's `RPCError`, or `CancellationError`.
    func unary(_ headers: CallHeaders, request: [UInt8], deadline: ContinuousClock.Instant?) async throws -> [[UInt8]] {
        try Task.checkCancellation()
        switch self.openWithRequest(headers, request, deadline: deadline) {
        case .opened(let id):
            defer { self.resetAndRelease(id, code: .cancelled, message: "call cancelled") }
            return try await self.answer(on: id, sending: nil)
        case .failed(let error):
            throw error
        case .wait:
            return try await self.unaryAfterWaiting(headers, request: request, deadline: deadline)
        }
    }

    /// The peer's stream limit is reached: waits for a slot as every call does, then sends. Out of line, as is
    /// `answer`, so `unary`'s own async frame, allocated on every call, stays small (together they took 1.4 KB,
    /// more than a slab of the task allocator: a malloc per call).
    @inline(never)
    private func unaryAfterWaiting(
        _ headers: CallHeaders, request: [UInt8], deadline: ContinuousClock.Instant?
    ) async throws -> [[UInt8]] {
        let id = try await self.openStream(headers, deadline: deadline)
        defer { self.resetAndRelease(id, code: .cancelled, message: "call cancelled") }
        return try await self.answer(on: id, sending: request)
    }

    /// Sends `request` first when given, then waits for the answer; cancelling the task resets the call.
    @inline(never)
    private func answer(on id: StreamID, sending request: [UInt8]?) async throws -> [[UInt8]] {
        try await withTaskCancellationHandler {
            if let request { try await self.send(request, endStream: true, on: id) }
            return try await self.waitForAnswer(on: id)
        } onCancel: {
            self.reset(id, code: .cancelled, message: "call cancelled")
        }
    }

    private enum UnaryOpen {
        case opened(StreamID)
        case failed(any Error)
        case wait
    }

    /// Opens the stream and frames the request behind its HEADERS, as much as the windows take (the rest goes out
    /// as credit arrives, like any pending message), in one lock round. Out of line: inlined, its locals made
    /// `unary`'s async frame larger than a task-allocator slab.
    @inline(never)
    private func openWithRequest(
        _ headers: CallHeaders, _ request: [UInt8], deadline: ContinuousClock.Instant?
    ) -> UnaryOpen {
        self.withState { state, effects -> UnaryOpen in
            if let reason = state.closedReason { return .failed(reason) }
            if Self.mustWaitForSlot(state.machine) { return .wait }
            do {
                let (id, headersFrame) = try state.machine.openStream(headers, endStream: false)
                let call = CallBuffer()
                call.timer = deadline.map { self.deadlineTimer(at: $0, for: id) }
                call.pending = OutboundMessage(message: request, endStream: true)
                state.calls[id] = call
                var frames = [headersFrame]
                self.frame(id, &state, &effects, into: &frames)
                self.write(frames, &state)
                return .opened(id)
            } catch {
                return .failed(error)
            }
        }
    }

    private func waitForAnswer(on id: StreamID) async throws -> [[UInt8]] {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[[UInt8]], any Error>) in
            self.withState { state, effects in
                guard let call = state.calls[id] else {
                    effects.answers.append(
                        (continuation, .failure(RPCError(code: .internal, message: "call released"))))
                    return
                }
                if Task.isCancelled {
                    effects.answers.append((continuation, .failure(CancellationError())))
                    return
                }
                call.answer = continuation
                self.settleAnswer(call, &effects)
            }
        }
    }

    /// Resumes a waiting unary caller once its call has an answer: the failure, once the call failed (whatever was
    /// received before it, as a stream reader would meet the failure reading on); the responses, once it ended OK
    /// or holds two. Taken responses keep their credit owed until the call is released.
    func settleAnswer(_ call: CallBuffer, _ effects: inout Effects) {
        guard let answer = call.answer else { return }
        let outcome: Result<[[UInt8]], any Error>
        if let failure = call.failure {
            outcome = .failure(failure)
        } else if call.finished || call.queuedCount >= 2 {
            let (messages, credit) = call.inbound.takeAll()
            call.heldCredit += credit
            outcome = .success(messages)
        } else {
            return
        }
        call.answer = nil
        effects.answers.append((answer, outcome))
    }

    /// Server: the messages the client sent before half-closing, stopping at two, in one lock round when they are
    /// all there (a unary request arrives with its END_STREAM), else as `receive` gives them.
    func receiveSingle(on id: StreamID) async throws -> [[UInt8]] {
        if let messages = self.takeSingle(on: id) { return messages }
        var messages: [[UInt8]] = []
        while messages.count < 2, let message = try await self.receive(on: id) { messages.append(message) }
        return messages
    }

    private func takeSingle(on id: StreamID) -> [[UInt8]]? {
        guard !Task.isCancelled else { return nil }
        return self.withState { state, _ in
            guard let call = state.calls[id], call.failure == nil, call.receiver == nil,
                call.peerHalfClosed || call.queuedCount >= 2
            else { return nil }
            let (messages, credit) = call.inbound.takeAll()
            let held = call.heldCredit
            call.heldCredit = 0
            self.write(state.machine.consumed(credit + held, on: id), &state)
            return messages
        }
    }
}
