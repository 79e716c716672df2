// The rules of one stream (docs/PROTOCOL.md §4, §5.1, §6) as a pure value: frames go in, actions come out, and the
// connection performs them. Nothing here does I/O or knows about time, so every rule is tested without sockets,
// and the same machine serves the network and the in-process transport.
//
// It owns the stream's half of flow control (the connection's windows belong to the connection) and reassembles
// messages from DATA frames. Connection-wide rules (ids increasing, concurrency limits) are the connection's.

/// The state of one stream, seen from one endpoint.
public struct StreamStateMachine: Sendable {
    /// Which end of the call this endpoint is.
    public enum Role: Sendable, Hashable {
        case client
        case server
    }

    /// What the connection must do after a received frame.
    public enum Action: Sendable, Hashable {
        /// Nothing for the application (part of a message arrived, or the peer's window grew while we had credit).
        case none
        /// Call headers: the server's new call, or the client's initial metadata from the server.
        case headers(CallHeaders, endStream: Bool)
        /// A whole message. Credit `flowControlledBytes` back with `consumed(_:)` once the application has taken it.
        case message([UInt8], flowControlledBytes: Int, endStream: Bool)
        /// Whole messages from one PACKED frame, in order; each owes its length plus 4 bytes of credit.
        case messages([[UInt8]], endStream: Bool)
        /// The peer half-closed without a message in the frame.
        case endOfStream
        /// The server ended the call (client only). The stream is closed.
        case trailers(CallTrailers)
        /// The peer reset the stream; the call ends with this code. The stream is closed.
        case reset(Status.Code)
        /// Our send window went from empty to positive: resume sending queued DATA.
        case resumeSending
        /// A frame for a stream that has already ended: drop it (DATA bytes go back to the connection window).
        case ignore
        /// End this stream with this status (server: TRAILERS; client: RST_STREAM) and report it. The stream is
        /// closed.
        case streamError(Status.Code, String)
        /// Close the connection with GOAWAY.
        case connectionError(GoAwayCode, String)
    }

    enum Inbound: Sendable, Hashable {
        /// The peer has sent nothing yet.
        case idle
        /// The peer's frames are flowing; whether its HEADERS and any DATA have arrived yet.
        case open(headersSeen: Bool, dataSeen: Bool)
        /// The peer half-closed (END_STREAM).
        case halfClosed
    }

    public let id: StreamID
    public let role: Role
    var inbound: Inbound = .idle
    /// True once we have sent HEADERS (client) or any response frame (server), and until we half-close.
    var outboundOpen: Bool
    var outboundHeadersSent = false
    var outboundDataSent = false
    /// True once the stream ended (TRAILERS, RST_STREAM or a stream error): it ends exactly once.
    public private(set) var isClosed = false

    /// The message being reassembled: its declared length and the bytes so far.
    var assembly: (length: Int, bytes: [UInt8])?

    /// Credit the peer still has on this stream (what we granted minus what it sent).
    public private(set) var receiveWindow: Int
    /// Credit we still have: what the peer granted minus what we sent. May be negative after a SETTINGS change.
    public private(set) var sendWindow: Int
    /// Bytes the application consumed and we have not yet credited back.
    var pendingCredit = 0
    let initialReceiveWindow: Int

    /// The largest message (prefix included) whose frames may wait, uncredited, until the whole message is read.
    /// Credit goes back in batches of half the window, so up to half of it may be read and not yet credited; a
    /// larger message could then never get the credit to finish, and its frames are credited as they arrive.
    var largestHeldMessage: Int { self.initialReceiveWindow - self.initialReceiveWindow / 2 }

    /// A stream as it starts: for a server, when the client's HEADERS arrives (pass it to `receive` next); for a
    /// client, before it sends its HEADERS (pass them to `send`). Windows start at our and the peer's
    /// `initial_stream_window`.
    public init(id: StreamID, role: Role, localSettings: ConnectionSettings, peerSettings: ConnectionSettings) {
        self.id = id
        self.role = role
        self.outboundOpen = role == .server
        self.receiveWindow = localSettings.initialStreamWindow
        self.initialReceiveWindow = localSettings.initialStreamWindow
        self.sendWindow = peerSettings.initialStreamWindow
    }

    // MARK: Receiving

    /// Applies a frame the peer sent on this stream.
    public mutating func receive(_ frame: Frame) -> Action {
        guard !self.isClosed else { return .ignore }
        switch frame {
        case .headers(_, let headers, let endStream): return self.receiveHeaders(headers, endStream: endStream)
        case .data(_, let data): return self.receiveData(data)
        case .trailers(_, let trailers):
            guard self.role == .client else { return self.fail(.internal, "TRAILERS from the client") }
            guard self.assembly == nil else { return self.fail(.internal, "TRAILERS inside a message") }
            self.isClosed = true
            return .trailers(trailers)
        case .reset(_, let code):
            self.isClosed = true
            return .reset(code)
        case .windowUpdate(_, let increment):
            let before = self.sendWindow
            guard before + Int(increment) <= ConnectionSettings.maxWindow else {
                return .connectionError(.flowControlError, "\(self.id) window credited past 2^31 - 1")
            }
            self.sendWindow = before + Int(increment)
            return before <= 0 && self.sendWindow > 0 ? .resumeSending : .none
        case .ping, .pong, .goAway, .settings, .settingsAck:
            return .connectionError(.internalError, "connection frame routed to \(self.id)")
        }
    }

    mutating func receiveHeaders(_ headers: CallHeaders, endStream: Bool) -> Action {
        switch (self.role, self.inbound) {
        case (.server, .idle):
            guard !headers.methodPath.isEmpty else { return self.fail(.internal, "call HEADERS without a method") }
            self.inbound = endStream ? .halfClosed : .open(headersSeen: true, dataSeen: false)
            return .headers(headers, endStream: endStream)
        case (.client, .idle), (.client, .open(headersSeen: false, dataSeen: false)):
            guard !endStream, headers.methodPath.isEmpty, headers.timeout == nil else {
                return self.fail(.internal, "server HEADERS with a method, timeout or END_STREAM")
            }
            self.inbound = .open(headersSeen: true, dataSeen: false)
            return .headers(headers, endStream: false)
        default:
            return self.fail(.internal, "HEADERS out of order on \(self.id)")
        }
    }

    mutating func receiveData(_ data: DataFrame) -> Action {
        let cost = data.flowControlledLength
        // Flow control first: credit is spent whatever becomes of the frame.
        guard cost <= self.receiveWindow else {
            return .connectionError(.flowControlError, "\(cost) DATA bytes beyond the \(self.id) window")
        }
        self.receiveWindow -= cost
        switch self.inbound {
        case .idle where self.role == .server:
            return .connectionError(.protocolError, "DATA before HEADERS on \(self.id)")
        case .halfClosed:
            return self.fail(.internal, "DATA after END_STREAM on \(self.id)")
        default:
            break
        }
        self.inbound = .open(headersSeen: self.role == .server || self.inboundHeadersSeen, dataSeen: true)

        if data.isPacked {
            guard self.assembly == nil else {
                return .connectionError(.protocolError, "PACKED DATA inside a message on \(self.id)")
            }
            if data.endStream { self.inbound = .halfClosed }
            return .messages(data.packedMessages, endStream: data.endStream)
        }
        var completed: [UInt8]?
        if let length = data.messageLength {
            guard self.assembly == nil else {
                return .connectionError(.protocolError, "BEGIN_MESSAGE inside a message on \(self.id)")
            }
            if data.endMessage {
                completed = data.bytes
            } else {
                // Reserve what the window lets the peer send, not what it declares: a declared length costs the
                // peer nothing until it sends the bytes.
                var bytes: [UInt8] = []
                bytes.reserveCapacity(min(Int(length), self.initialReceiveWindow))
                bytes.append(contentsOf: data.bytes)
                self.assembly = (Int(length), bytes)
            }
        } else if var assembly = self.assembly {
            self.assembly = nil
            guard assembly.bytes.count + data.bytes.count <= assembly.length else {
                return .connectionError(.protocolError, "message on \(self.id) longer than its length prefix")
            }
            assembly.bytes.append(contentsOf: data.bytes)
            if data.endMessage {
                guard assembly.bytes.count == assembly.length else {
                    return .connectionError(.protocolError, "message on \(self.id) shorter than its length prefix")
                }
                completed = assembly.bytes
            } else {
                self.assembly = assembly
            }
        } else if data.endMessage || !data.bytes.isEmpty {
            return .connectionError(.protocolError, "DATA continues no message on \(self.id)")
        }

        if data.endStream {
            guard self.assembly == nil else {
                return .connectionError(.protocolError, "END_STREAM inside a message on \(self.id)")
            }
            self.inbound = .halfClosed
        }
        if let completed {
            return .message(completed, flowControlledBytes: completed.count + 4, endStream: data.endStream)
        }
        return data.endStream ? .endOfStream : .none
    }

    var inboundHeadersSeen: Bool {
        if case .open(let headersSeen, _) = self.inbound { return headersSeen }
        return false
    }

    /// Ends the stream with a stream error.
    mutating func fail(_ code: Status.Code, _ message: String) -> Action {
        self.isClosed = true
        return .streamError(code, message)
    }

    // MARK: Sending

    /// Checks and records a frame this endpoint is about to send on the stream. Throws, recording nothing, when
    /// the frame would break the protocol: out of order, or DATA beyond the send window (wait for `.resumeSending`).
    public mutating func send(_ frame: Frame) throws(FrameError) {
        func refuse(_ message: String) -> FrameError {
            FrameError(.invalidStreamState, .endStream(self.id, .internal), message)
        }
        guard !self.isClosed else { throw refuse("\(frame.type) on ended \(self.id)") }
        switch frame {
        case .headers(_, let headers, let endStream):
            switch self.role {
            case .client:
                guard !self.outboundHeadersSent, !headers.methodPath.isEmpty else {
                    throw refuse("client HEADERS must come once, first, with a method")
                }
                self.outboundOpen = !endStream
            case .server:
                guard !self.outboundHeadersSent, !self.outboundDataSent, !endStream else {
                    throw refuse("server HEADERS must come once, before DATA, without END_STREAM")
                }
            }
            self.outboundHeadersSent = true
        case .data(_, let data):
            guard self.outboundOpen, self.role == .server || self.outboundHeadersSent else {
                throw refuse("DATA on \(self.id) before HEADERS or after END_STREAM")
            }
            guard data.flowControlledLength <= self.sendWindow else {
                throw FrameError(
                    .windowOverflow,
                    .endStream(self.id, .internal),
                    "\(data.flowControlledLength) DATA bytes beyond the send window of \(self.sendWindow)"
                )
            }
            self.sendWindow -= data.flowControlledLength
            self.outboundDataSent = true
            if data.endStream { self.outboundOpen = false }
        case .trailers:
            guard self.role == .server else { throw refuse("clients never send TRAILERS") }
            self.isClosed = true
        case .reset:
            self.isClosed = true
        case .windowUpdate:
            break
        case .ping, .pong, .goAway, .settings, .settingsAck:
            throw refuse("\(frame.type) is a connection frame")
        }
    }

    // MARK: Flow control

    /// Records that the application consumed `byteCount` flow-controlled bytes (a message's `flowControlledBytes`),
    /// and returns the WINDOW_UPDATE to send once half the initial window is owed: crediting as the application
    /// reads, not as bytes arrive, is what makes a slow reader slow its sender. Nil while the credit is batched or
    /// the peer will send nothing more.
    public mutating func consumed(_ byteCount: Int) -> Frame? {
        self.pendingCredit += byteCount
        guard !self.isClosed, self.inbound != .halfClosed, self.pendingCredit >= self.initialReceiveWindow / 2,
            self.pendingCredit > 0
        else { return nil }
        let increment = min(self.pendingCredit, ConnectionSettings.maxWindow - self.receiveWindow)
        guard increment > 0 else { return nil }
        self.pendingCredit -= increment
        self.receiveWindow += increment
        return .windowUpdate(self.id, increment: UInt32(increment))
    }

    /// Applies a change of the peer's `initial_stream_window` (its SETTINGS arriving after the stream opened).
    public mutating func peerInitialWindowChanged(by delta: Int) -> Action {
        let before = self.sendWindow
        guard before + delta <= ConnectionSettings.maxWindow else {
            return .connectionError(.flowControlError, "\(self.id) window past 2^31 - 1 after SETTINGS")
        }
        self.sendWindow = before + delta
        return before <= 0 && self.sendWindow > 0 ? .resumeSending : .none
    }

    /// Applies our own `initial_stream_window` taking effect (the peer acknowledged our SETTINGS after this stream
    /// opened under the default): the peer adds the same difference to its send window, so we must accept it.
    public mutating func localInitialWindowChanged(by delta: Int) {
        self.receiveWindow += delta
    }

    /// True while we may still send DATA (after HEADERS for a client, until END_STREAM or the end of the stream).
    public var canSendData: Bool {
        !self.isClosed && self.outboundOpen && (self.role == .server || self.outboundHeadersSent)
    }

    /// True while the peer may still send DATA.
    public var peerCanSendData: Bool { !self.isClosed && self.inbound != .halfClosed }
}
