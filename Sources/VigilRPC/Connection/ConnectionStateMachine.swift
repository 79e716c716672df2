// The rules of one connection (docs/PROTOCOL.md §1–§6, §11) as a pure value, beside StreamStateMachine which owns
// each stream's rules. Frames go in, `ConnectionAction`s come out; the owner (the in-process transport now, the epoll
// connection later) does the I/O, so every rule is tested without sockets or time.
//
// Owned here and nowhere else: SETTINGS ordering and acknowledgement, rising stream ids, the concurrency limit, the
// connection's flow-control windows (both directions), PING/PONG, GOAWAY draining, and the guarantee that every
// stream the application saw open is reported closed exactly once. And the flood budgets (FloodLimits): frames
// that are valid but make us work for nothing end the connection with ENHANCE_YOUR_CALM once a peer overdoes them.

/// The state of one connection, seen from one endpoint.
public struct ConnectionStateMachine: Sendable {
    public typealias Role = StreamStateMachine.Role

    public let role: Role
    /// What we advertise: the limits we enforce once the peer has acknowledged them.
    public let localSettings: ConnectionSettings
    /// The peer's limits on what we send; the defaults until its SETTINGS arrive.
    public private(set) var peerSettings: ConnectionSettings = .defaults

    var sentSettings = false
    public private(set) var receivedSettings = false
    public private(set) var localSettingsAcknowledged = false

    var streams: [StreamID: StreamStateMachine] = [:]
    /// The highest stream id opened: by the client (client side) or seen (server side). Ids below it that are not in
    /// `streams` have ended; their late frames are ignored.
    public internal(set) var lastStreamID: StreamID = .connection

    /// What we may still send on the connection; may go negative after the peer's SETTINGS.
    public internal(set) var connectionSendWindow = ConnectionSettings.defaults
        .initialConnectionWindow
    /// What the peer may still send on the connection.
    public private(set) var connectionReceiveWindow = ConnectionSettings.defaults
        .initialConnectionWindow
    /// Connection credit consumed and not yet returned (batched like stream credit).
    var pendingConnectionCredit = 0
    /// Per stream, flow-controlled bytes of the message being reassembled, owed back once it is read. A message
    /// larger than half the stream window is credited as it arrives instead (else, with up to half the window read
    /// and not yet credited, it could never complete: `StreamStateMachine.largestHeldMessage`), so what a stream
    /// buffers is bounded by its window plus one such message, itself bounded by `max_message_bytes`.
    var partialCredit: [StreamID: Int] = [:]
    var largeMessage: Set<StreamID> = []
    /// Per stream, credit of whole messages delivered to the application and not yet `consumed`. While it is
    /// nonzero the frames of a large message are owed instead of credited on arrival: otherwise a sender of
    /// messages larger than the window could queue any number of them behind a slow reader (each owing only its
    /// last frame). Once the reader catches up, the owed part is released and the rest is credited on arrival.
    var unreadCredit: [StreamID: Int] = [:]

    public internal(set) var goAwaySent: GoAway?
    public private(set) var goAwayReceived: GoAway?
    /// True after a connection error or an error GOAWAY: nothing more is received or sent.
    public private(set) var isClosed = false

    /// What is left of the peer's budgets for useless work (PINGs, empty frames, rapid resets).
    public internal(set) var floodLimits: FloodLimits

    public init(
        role: Role, localSettings: ConnectionSettings = .defaults, floodLimits: FloodLimits = .default
    ) {
        self.role = role
        self.localSettings = localSettings
        self.floodLimits = floodLimits
    }

    /// The limits in force on what we receive: the defaults until the peer acknowledged ours (it may have sent
    /// under the defaults before that).
    public var enforcedLocalSettings: ConnectionSettings {
        self.localSettingsAcknowledged ? self.localSettings : .defaults
    }

    /// How many streams are open now.
    public var openStreamCount: Int { self.streams.count }

    /// Streams open now, in id order.
    public var openStreamIDs: [StreamID] { self.streams.keys.sorted() }

    /// A stream's windows, for invariant checks and diagnostics.
    public func windows(of id: StreamID) -> (send: Int, receive: Int)? {
        self.streams[id].map { ($0.sendWindow, $0.receiveWindow) }
    }

    /// True when a GOAWAY went either way and every stream it allowed has finished: the owner may close.
    public var isDrained: Bool {
        self.isClosed
            || ((self.goAwaySent != nil || self.goAwayReceived != nil) && self.streams.isEmpty)
    }

    // MARK: Receiving

    /// Applies one frame from the peer. `now` feeds the flood budgets' clock; nil reads the continuous clock, and
    /// only when a frame spends from a budget (tests pass instants to stay deterministic).
    public mutating func receive(_ frame: Frame, at now: ContinuousClock.Instant? = nil) -> ConnectionAction {
        guard !self.isClosed else { return .none }
        if let kind = self.floodCost(of: frame), !self.spend(kind, at: now) {
            return self.calm(kind, after: frame.type)
        }
        if !self.receivedSettings {
            guard case .settings = frame else {
                return self.connectionError(.protocolError, "first frame is \(frame.type), not SETTINGS")
            }
        }
        switch frame {
        case .settings(let settings):
            return self.receiveSettings(settings)
        case .settingsAck:
            return self.receiveSettingsAck()
        case .ping(let value):
            return ConnectionAction(frames: [.pong(value)])
        case .pong(let value):
            return ConnectionAction(events: [.pong(value)])
        case .goAway(let goAway):
            return self.receiveGoAway(goAway)
        case .windowUpdate(let id, let increment) where id.isConnection:
            let before = self.connectionSendWindow
            guard before + Int(increment) <= ConnectionSettings.maxWindow else {
                return self.connectionError(.flowControlError, "connection window credited past 2^31 - 1")
            }
            self.connectionSendWindow = before + Int(increment)
            return ConnectionAction(events: [.writable(nil)])
        case .headers, .data, .trailers, .reset, .windowUpdate:
            return self.receiveStreamFrame(frame)
        }
    }

    /// Applies a decoder's refusal: a connection error closes everything; a stream error ends that one stream, and
    /// the refused DATA bytes still count against (and are credited back to) the connection window.
    public mutating func receiveError(_ error: FrameError, at now: ContinuousClock.Instant? = nil)
        -> ConnectionAction
    {
        guard !self.isClosed else { return .none }
        switch error.consequence {
        case .closeConnection(let code):
            return self.connectionError(code, error.message)
        case .endStream(let id, let code):
            // A stream refused for its own fault (headers too large or invalid, a message over the limit) was
            // answered for nothing: the same budget as a rapid reset, or a flood of them would be free.
            if self.role == .server, !self.spend(.streamReset, at: now) {
                return self.calm(.streamReset, after: nil)
            }
            var action = ConnectionAction()
            if error.flowControlledBytes > 0 {
                guard self.chargeConnection(error.flowControlledBytes) else {
                    return self.connectionError(.flowControlError, "DATA beyond the connection window")
                }
                action.frames += self.creditConnection(error.flowControlledBytes)
            }
            if self.streams[id] != nil {
                self.endStream(id, code, error.message, into: &action)
            } else if self.role == .server && id > self.lastStreamID {
                // HEADERS we could not accept opened the id: refuse the call without showing it to the application.
                self.lastStreamID = id
                action.frames.append(self.endFrame(id, code, error.message))
            }
            return action
        }
    }

    mutating func receiveSettings(_ settings: ConnectionSettings) -> ConnectionAction {
        guard !self.receivedSettings else {
            return self.connectionError(.protocolError, "second SETTINGS frame")
        }
        self.receivedSettings = true
        let streamDelta = settings.initialStreamWindow - self.peerSettings.initialStreamWindow
        let connectionDelta =
            settings.initialConnectionWindow - self.peerSettings.initialConnectionWindow
        self.peerSettings = settings
        var action = ConnectionAction(frames: [.settingsAck], events: [.peerSettings(settings)])
        guard self.connectionSendWindow + connectionDelta <= ConnectionSettings.maxWindow else {
            return self.connectionError(
                .flowControlError, "connection window past 2^31 - 1 after SETTINGS")
        }
        self.connectionSendWindow += connectionDelta
        for id in self.streams.keys.sorted() where streamDelta != 0 {
            switch self.streams[id]?.peerInitialWindowChanged(by: streamDelta) {
            case .connectionError(let code, let message): return self.connectionError(code, message)
            default: break
            }
        }
        action.events.append(.writable(nil))
        return action
    }

    mutating func receiveSettingsAck() -> ConnectionAction {
        guard self.sentSettings, !self.localSettingsAcknowledged else {
            return self.connectionError(.protocolError, "SETTINGS ACK without SETTINGS to acknowledge")
        }
        self.localSettingsAcknowledged = true
        // The peer now sends under our values: what it assumed so far was the default.
        let defaults = ConnectionSettings.defaults
        self.connectionReceiveWindow +=
            self.localSettings.initialConnectionWindow - defaults.initialConnectionWindow
        let streamDelta = self.localSettings.initialStreamWindow - defaults.initialStreamWindow
        if streamDelta != 0 {
            for id in self.streams.keys { self.streams[id]?.localInitialWindowChanged(by: streamDelta) }
        }
        return .none
    }

    mutating func receiveGoAway(_ goAway: GoAway) -> ConnectionAction {
        self.goAwayReceived = goAway
        var action = ConnectionAction()
        if self.role == .client {
            for id in self.streams.keys.sorted() where id > goAway.lastStreamID {
                self.forget(id)
                action.events.append(
                    .streamClosed(id, .failed(.unavailable, "not processed: the server is going away")))
            }
        }
        action.events.append(.goAway(goAway))
        if goAway.code != .noError {
            let closing = self.connectionError(
                goAway.code, "peer sent GOAWAY \(goAway.code): \(goAway.debugMessage)")
            action.events += closing.events
        }
        return action
    }

    mutating func receiveStreamFrame(_ frame: Frame) -> ConnectionAction {
        let id = frame.streamID
        var cost = 0
        if case .data(_, let data) = frame {
            cost = data.flowControlledLength
            guard self.chargeConnection(cost) else {
                return self.connectionError(
                    .flowControlError, "\(cost) DATA bytes beyond the connection window")
            }
        }
        if self.streams[id] != nil {
            return self.routeToStream(id, frame, cost: cost)
        }
        if case .headers(_, let headers, let endStream) = frame, self.role == .server,
            id > self.lastStreamID
        {
            return self.openPeerStream(id, headers, endStream: endStream)
        }
        guard id <= self.lastStreamID else {
            return self.connectionError(.protocolError, "\(frame.type) on never-opened \(id)")
        }
        if case .headers = frame, self.role == .server {
            return self.connectionError(.protocolError, "HEADERS on \(id), not above the last stream id")
        }
        // A frame in flight for a stream that has ended: DATA goes back to the connection window at once.
        return ConnectionAction(frames: self.creditConnection(cost))
    }

    mutating func openPeerStream(_ id: StreamID, _ headers: CallHeaders, endStream: Bool)
        -> ConnectionAction
    {
        self.lastStreamID = id
        if let goAway = self.goAwaySent, id > goAway.lastStreamID {
            return ConnectionAction(frames: [self.endFrame(id, .unavailable, "not processed: going away")]
            )
        }
        guard self.streams.count < self.enforcedLocalSettings.maxConcurrentStreams else {
            return ConnectionAction(frames: [
                self.endFrame(id, .unavailable, "too many concurrent streams")
            ])
        }
        self.streams[id] = StreamStateMachine(
            id: id, role: .server, localSettings: self.enforcedLocalSettings,
            peerSettings: self.peerSettings)
        return self.routeToStream(id, .headers(id, headers, endStream: endStream), cost: 0)
    }

    /// Hands a frame to its stream and turns the stream's answer into connection terms. DATA that does not complete
    /// a message is credited on arrival (it sits in the stream's reassembly buffer, bounded by the message limit).
    mutating func routeToStream(_ id: StreamID, _ frame: Frame, cost: Int) -> ConnectionAction {
        guard var stream = self.streams[id] else { return .none }
        let result = stream.receive(frame)
        self.streams[id] = stream
        var action = ConnectionAction()
        var owed = cost
        if case .windowUpdate = frame, case .none = result {
            // The stream machine reports only a window leaving zero; a sender can also be waiting on a small positive
            // window (a message's first frame needs room for its 4-byte prefix), so every credit may unblock it.
            action.events.append(.writable(id))
        }
        if case .data(_, let data) = frame, data.isPacked {
            self.largeMessage.remove(id)
        } else if case .data(_, let data) = frame, let length = data.messageLength {
            if Int(length) + 4 > stream.largestHeldMessage {
                self.largeMessage.insert(id)
            } else {
                self.largeMessage.remove(id)
            }
        }
        switch result {
        case .none:
            if cost > 0 {
                if self.largeMessage.contains(id) && self.unreadCredit[id, default: 0] == 0 {
                    action.frames += self.consumed(cost, on: id)
                } else {
                    self.partialCredit[id, default: 0] += cost
                }
            }
            owed = 0
        case .headers(let headers, let endStream):
            if self.role == .server {
                action.events.append(.streamOpened(id, headers, endStream: endStream))
            } else {
                action.events.append(.initialMetadata(id, headers.metadata))
            }
        case .message(let bytes, _, let endStream):
            let credit = cost + (self.partialCredit.removeValue(forKey: id) ?? 0)
            self.unreadCredit[id, default: 0] += credit
            action.events.append(.message(id, bytes, credit: credit, endStream: endStream))
            owed = 0
        case .messages(let messages, let endStream):
            // A PACKED frame follows no partial message, so it owes exactly its messages' own credit.
            self.unreadCredit[id, default: 0] += cost
            action.events.append(.messages(id, messages, endStream: endStream))
            owed = 0
        case .endOfStream:
            action.events.append(.endOfStream(id))
        case .trailers(let trailers):
            self.forget(id)
            action.events.append(.streamClosed(id, .trailers(trailers)))
        case .reset(let code):
            self.forget(id)
            action.events.append(.streamClosed(id, .reset(code)))
        case .resumeSending:
            action.events.append(.writable(id))
        case .ignore:
            break
        case .streamError(let code, let message):
            self.endStream(id, code, message, into: &action)
        case .connectionError(let code, let message):
            return self.connectionError(code, message)
        }
        if owed > 0 { action.frames += self.creditConnection(owed) }
        return action
    }

    // MARK: Ending

    /// Ends an open stream from this side: TRAILERS (server) or RST_STREAM (client) with the status, and the event.
    mutating func endStream(
        _ id: StreamID, _ code: Status.Code, _ message: String, into action: inout ConnectionAction
    ) {
        guard self.forget(id) else { return }
        action.frames.append(self.endFrame(id, code, message))
        action.events.append(.streamClosed(id, .failed(code, message)))
    }

    func endFrame(_ id: StreamID, _ code: Status.Code, _ message: String) -> Frame {
        switch self.role {
        case .server: .trailers(id, CallTrailers(status: Status(code: code, message: message)))
        case .client: .reset(id, code)
        }
    }

    /// Closes the connection: GOAWAY, then every open stream ends (UNAVAILABLE above the last processed id, where a
    /// retry is safe, INTERNAL otherwise), then the connection event.
    mutating func connectionError(_ code: GoAwayCode, _ message: String) -> ConnectionAction {
        guard !self.isClosed else { return .none }
        self.isClosed = true
        let last = self.role == .server ? self.lastStreamID : .connection
        let goAway = GoAway(lastStreamID: last, code: code, debugMessage: message)
        var action = ConnectionAction(frames: [.goAway(goAway)])
        self.goAwaySent = goAway
        let processed = self.goAwayReceived?.lastStreamID ?? StreamID(StreamID.maxRawValue)
        for id in self.streams.keys.sorted() {
            let status: Status.Code = id > processed ? .unavailable : .internal
            action.events.append(.streamClosed(id, .failed(status, "connection closed: \(message)")))
        }
        self.streams = [:]
        self.partialCredit = [:]
        self.largeMessage = []
        self.unreadCredit = [:]
        action.events.append(.connectionClosed(code, message))
        return action
    }

    /// Removes a stream; the bytes of a message it was reassembling were discarded, so they return to the
    /// connection (with the next batch of credit). False when the stream was not open.
    @discardableResult
    mutating func forget(_ id: StreamID) -> Bool {
        if let owed = self.partialCredit.removeValue(forKey: id) {
            self.pendingConnectionCredit += owed
        }
        self.largeMessage.remove(id)
        self.unreadCredit[id] = nil
        return self.streams.removeValue(forKey: id) != nil
    }

    // MARK: Connection flow control

    /// Spends connection receive credit; false when the peer sent beyond it.
    mutating func chargeConnection(_ bytes: Int) -> Bool {
        guard bytes <= self.connectionReceiveWindow else { return false }
        self.connectionReceiveWindow -= bytes
        return true
    }

    /// Returns connection credit, batched until half the initial window is owed.
    mutating func creditConnection(_ bytes: Int) -> [Frame] {
        guard bytes > 0, !self.isClosed else { return [] }
        self.pendingConnectionCredit += bytes
        let threshold = self.enforcedLocalSettings.initialConnectionWindow / 2
        guard self.pendingConnectionCredit >= max(threshold, 1) else { return [] }
        let increment = min(
            self.pendingConnectionCredit, ConnectionSettings.maxWindow - self.connectionReceiveWindow)
        guard increment > 0 else { return [] }
        self.pendingConnectionCredit -= increment
        self.connectionReceiveWindow += increment
        return [.windowUpdate(.connection, increment: UInt32(increment))]
    }
}
