// The local half of the connection machine: what this endpoint wants to do (open a call, send DATA, credit bytes
// the application consumed, end a stream, go away). Each method checks the protocol before anything is written and
// returns the frames to write, so the owner never builds a frame the peer would have to refuse.

extension ConnectionStateMachine {
    /// Our SETTINGS: the first frame after the preface (the owner writes the preface itself).
    public mutating func start() -> [Frame] {
        guard !self.sentSettings else { return [] }
        self.sentSettings = true
        return [.settings(self.localSettings)]
    }

    /// True while a client may open another stream now: not going away, and under the peer's concurrency limit.
    public var canOpenStream: Bool {
        self.role == .client && !self.isClosed && self.goAwaySent == nil && self.goAwayReceived == nil
            && self.streams.count < self.peerSettings.maxConcurrentStreams
            && self.lastStreamID.nextClientStream != nil
    }

    /// Opens a call (client): the next odd id and its HEADERS frame. Throws UNAVAILABLE when no stream may open
    /// (going away, ids used up, at the peer's concurrency limit) and RESOURCE_EXHAUSTED for headers over the
    /// peer's limit; nothing is recorded then.
    public mutating func openStream(_ headers: CallHeaders, endStream: Bool) throws(RPCError) -> (
        StreamID, Frame
    ) {
        precondition(self.role == .client, "only clients open streams")
        guard !self.isClosed, self.goAwaySent == nil, self.goAwayReceived == nil else {
            throw RPCError(code: .unavailable, message: "connection is going away")
        }
        guard let id = self.lastStreamID.nextClientStream else {
            throw RPCError(code: .unavailable, message: "stream ids used up; open a new connection")
        }
        guard self.streams.count < self.peerSettings.maxConcurrentStreams else {
            throw RPCError(code: .unavailable, message: "too many concurrent streams")
        }
        let frame = Frame.headers(id, headers, endStream: endStream)
        try self.checkHeaderSize(frame)
        var stream = StreamStateMachine(
            id: id, role: .client, localSettings: self.enforcedLocalSettings,
            peerSettings: self.peerSettings)
        do {
            try stream.send(frame)
        } catch {
            throw RPCError(code: .internal, message: error.message, cause: error)
        }
        self.lastStreamID = id
        self.streams[id] = stream
        return (id, frame)
    }

    /// The server's initial metadata; nil when the stream has ended.
    public mutating func sendInitialMetadata(_ metadata: Metadata, on id: StreamID) throws(RPCError)
        -> Frame?
    {
        guard self.streams[id] != nil else { return nil }
        let frame = Frame.headers(id, .response(metadata: metadata), endStream: false)
        try self.checkHeaderSize(frame)
        do {
            try self.streams[id]?.send(frame)
        } catch {
            throw RPCError(code: .internal, message: error.message, cause: error)
        }
        return frame
    }

    /// Flow-controlled bytes that may go on the stream now: the smaller of its and the connection's send window;
    /// 0 when the stream is gone or half-closed by us.
    public func sendableBytes(on id: StreamID) -> Int {
        guard !self.isClosed, let stream = self.streams[id], stream.canSendData else { return 0 }
        return max(0, min(stream.sendWindow, self.connectionSendWindow))
    }

    /// True while we may still send DATA on the stream.
    public func canSendData(on id: StreamID) -> Bool {
        !self.isClosed && self.streams[id]?.canSendData == true
    }

    /// Records a DATA frame about to be written. Throws (recording nothing) when it breaks the stream's order or
    /// either window: split by `sendableBytes(on:)` and wait for `.writable` instead.
    public mutating func sendData(_ data: DataFrame, on id: StreamID) throws(FrameError) -> Frame {
        guard !self.isClosed, self.streams[id] != nil else {
            throw FrameError(.invalidStreamState, .endStream(id, .internal), "DATA on ended \(id)")
        }
        let cost = data.flowControlledLength
        guard cost <= self.connectionSendWindow else {
            throw FrameError(
                .windowOverflow, .endStream(id, .internal),
                "\(cost) DATA bytes beyond the connection send window of \(self.connectionSendWindow)")
        }
        let frame = Frame.data(id, data)
        try self.updateStream(id) { stream throws(FrameError) in try stream.send(frame) }
        self.connectionSendWindow -= cost
        return frame
    }

    /// Ends the call with TRAILERS (server); nil when the stream has already ended (a reset or deadline won).
    /// Trailers over the peer's header limit are replaced by RESOURCE_EXHAUSTED ones without metadata.
    public mutating func sendTrailers(_ trailers: CallTrailers, on id: StreamID) -> Frame? {
        guard self.role == .server, self.forget(id) else { return nil }
        var frame = Frame.trailers(id, trailers)
        if (try? FrameEncoder.payloadSize(of: frame)) ?? Int.max > self.peerSettings.maxHeaderBytes {
            let status = Status(
                code: .resourceExhausted, message: "trailers exceed the peer's header limit")
            frame = .trailers(id, CallTrailers(status: status))
        }
        return frame
    }

    /// Ends the stream with RST_STREAM; nil when it has already ended.
    public mutating func resetStream(_ id: StreamID, code: Status.Code) -> Frame? {
        guard self.forget(id) else { return nil }
        return .reset(id, code)
    }

    /// The application consumed `bytes` of the stream's DATA (a message's `credit`): the WINDOW_UPDATEs now due,
    /// batched. Call it for discarded messages too; a stream that has ended only credits the connection.
    public mutating func consumed(_ bytes: Int, on id: StreamID) -> [Frame] {
        guard bytes > 0, !self.isClosed else { return [] }
        var bytes = bytes
        if let unread = self.unreadCredit[id] {
            if unread > bytes {
                self.unreadCredit[id] = unread - bytes
            } else {
                // The reader caught up: what a large message in progress owed so far is credited now.
                self.unreadCredit[id] = nil
                if self.largeMessage.contains(id), let owed = self.partialCredit.removeValue(forKey: id) {
                    bytes += owed
                }
            }
        }
        var frames: [Frame] = []
        if let update = self.updateStream(id, { stream in stream.consumed(bytes) }) ?? nil { frames.append(update) }
        frames += self.creditConnection(bytes)
        return frames
    }

    /// Applies `change` to the stream's machine, copied out of the dictionary and back; nil when there is no such
    /// stream. `streams[id]?.change()` goes through the dictionary's `modify` accessor, whose coroutine frame for a
    /// value this size is heap-allocated: a `malloc` per call, twice per small call on each side (uprobe counts).
    mutating func updateStream<Result, Failure: Error>(
        _ id: StreamID, _ change: (inout StreamStateMachine) throws(Failure) -> Result
    ) throws(Failure) -> Result? {
        guard var stream = self.streams[id] else { return nil }
        let result = try change(&stream)
        self.streams[id] = stream
        return result
    }

    /// Sends a PING (the owner picks the opaque value and matches the `.pong` event).
    public func ping(_ value: UInt64) -> Frame { .ping(value) }

    /// Starts a graceful shutdown (`.noError`) or says why the connection closes. Graceful: the server will process
    /// streams up to the last one seen and refuse newer ones; a client opens no more. With an error code the
    /// connection closes at once and every stream ends.
    public mutating func goAway(_ code: GoAwayCode = .noError, message: String = "")
        -> ConnectionAction
    {
        guard !self.isClosed else { return .none }
        guard code == .noError else { return self.connectionError(code, message) }
        let goAway = GoAway(
            lastStreamID: self.role == .server ? self.lastStreamID : .connection, code: code,
            debugMessage: message)
        self.goAwaySent = goAway
        return ConnectionAction(frames: [.goAway(goAway)])
    }

    func checkHeaderSize(_ frame: Frame) throws(RPCError) {
        if case .headers(_, let headers, _) = frame, headers.payloadSizeBound <= self.peerSettings.maxHeaderBytes {
            return
        }
        let size: Int
        do {
            size = try FrameEncoder.payloadSize(of: frame)
        } catch {
            throw RPCError(code: .internal, message: error.message, cause: error)
        }
        guard size <= self.peerSettings.maxHeaderBytes else {
            throw RPCError(
                code: .resourceExhausted,
                message:
                    "headers of \(size) bytes exceed the peer's limit of \(self.peerSettings.maxHeaderBytes)")
        }
    }
}
