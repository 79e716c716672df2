// The two byte paths of a connection. In: read until the kernel has nothing more (or the turn's budget is spent),
// feed TLS, collect all plaintext and hand it over once. Out: writes only append plaintext; once per turn it is
// sealed into records and sent with one send call, the rest waiting for EPOLLOUT, which is registered only while
// output is pending (a level-triggered loop would otherwise wake on every turn).
import VigilPOSIX
import VigilTLS

extension TLSConnection {
    // MARK: - Input

    /// Reads what the socket has, up to the turn's budget. `force` reads even while reading is paused: the
    /// socket hung up or has an error, which epoll reports on every turn until someone reads it.
    func readNow(force: Bool) {
        guard self.phase == .handshaking || self.phase == .active, !self.sawEndOfStream else { return }
        guard force || (self.readingEnabled && !self.inputBlockedByOutput) else { return }
        let buffer = self.eventLoop.readBuffer
        let chunk = min(buffer.count, self.tlsCapacity / 2)
        var budget = self.options.readBytesPerTurn
        var plaintext: [UInt8] = []
        var endOfStream = false
        do {
            reading: while budget > 0 {
                if self.tls.pendingCiphertextCount >= self.tlsCapacity * 3 / 4 {
                    // TLS would refuse input until its output is sent; reading now would lose the bytes.
                    self.inputBlockedByOutput = true
                    break reading
                }
                let wanted = min(chunk, budget)
                let target = UnsafeMutableRawBufferPointer(rebasing: buffer[..<wanted])
                switch try self.socket.read(into: target) {
                case .wouldBlock:
                    break reading
                case .processed(0):
                    endOfStream = true
                    break reading
                case .processed(let count):
                    budget -= count
                    if self.options.idleTimeout != nil { self.lastActivity = self.eventLoop.clock.now }
                    try self.tls.feedCiphertext(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                    try self.tls.readPlaintext(into: &plaintext)
                    // A short read drained the socket; epoll is level-triggered, so asking again would only
                    // return EAGAIN (a syscall per read turn) and bytes arriving later are reported anew.
                    if count < wanted { break reading }
                }
            }
        } catch let error as Errno {
            self.fail(ConnectionError(.io, "read failed", cause: error))
            return
        } catch {
            self.fail(Self.tlsFailure(error))
            return
        }
        if self.phase == .handshaking && self.tls.isHandshakeComplete {
            self.becomeActive()
        }
        if !plaintext.isEmpty && self.phase == .active {
            self.handler?.received(plaintext, on: self)
        }
        guard self.phase != .closed else { return }
        if self.tls.pendingCiphertextCount > 0 {
            self.scheduleFlush()
        }
        let state = self.tls.state
        if !self.inputClosed && (state == .shutdownReceived || state == .closed) {
            self.inputClosed = true
            self.handler?.inputClosed(self)
            guard self.phase != .closed else { return }
        }
        if endOfStream {
            self.handleEndOfStream()
            guard self.phase != .closed else { return }
        }
        self.updateInterest()
    }

    /// The peer's FIN. Without its close_notify first this could be a truncation attack, so it is an error; after
    /// it, the connection closes cleanly as soon as pending output is delivered (TCP half-close allows that).
    private func handleEndOfStream() {
        self.sawEndOfStream = true
        do {
            try self.tls.feedEndOfStream()
        } catch {
            self.fail(Self.tlsFailure(error))
            return
        }
        if self.hasPendingOutput {
            self.closeWhenFlushed = true
            self.scheduleFlush()
        } else {
            self.finish(nil)
        }
    }

    // MARK: - Output

    /// Queues plaintext; it leaves at the end of this loop turn together with everything else written in it.
    /// Dropped once the connection is closed or its output was closed.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        self.eventLoop.assertInEventLoop()
        guard self.phase != .closed, !self.outputClosing, !bytes.isEmpty else { return }
        var bytes = bytes
        if bytes.count >= Self.directSealThreshold && self.phase == .active
            && self.pendingPlaintext.count == self.pendingStart
        {
            // Large writes with nothing queued ahead go straight into TLS: batching gains nothing for them (they
            // fill whole records anyway), and it saves copying them into the pending buffer first.
            let count = min(bytes.count, self.sealingRoom)
            if count >= Self.directSealThreshold {
                do {
                    try self.tls.writePlaintext(UnsafeRawBufferPointer(rebasing: bytes[..<count]))
                } catch {
                    self.fail(Self.tlsFailure(error))
                    return
                }
                bytes = UnsafeRawBufferPointer(rebasing: bytes[count...])
            }
        }
        self.pendingPlaintext.append(contentsOf: bytes)
        self.scheduleFlush()
        self.updateWritability()
    }

    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { self.write($0) }
    }

    public func write(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { self.write($0) }
    }

    var hasPendingOutput: Bool {
        self.tls.pendingCiphertextCount > 0
            || (self.phase == .active && self.pendingPlaintext.count > self.pendingStart)
            || (self.phase == .active && self.outputClosing && !self.closeNotifySent)
    }

    func scheduleFlush() {
        guard !self.flushScheduled, self.phase != .closed else { return }
        self.flushScheduled = true
        self.eventLoop.scheduleEndOfTurn(self)
    }

    /// Seals pending plaintext and sends: one send per round, a new round only while the kernel took everything
    /// and more is waiting, at most four rounds (about 512 KiB) per turn so one fast connection cannot starve
    /// the loop's others.
    func flushNow() {
        guard self.phase == .handshaking || self.phase == .active else { return }
        do {
            for _ in 0..<4 {
                if self.phase == .active {
                    try self.sealPendingPlaintext()
                    if self.outputClosing && !self.closeNotifySent && self.pendingPlaintext.count == self.pendingStart {
                        try self.tls.shutdown()
                        self.closeNotifySent = true
                    }
                }
                let waiting = self.tls.pendingCiphertextCount
                guard waiting > 0 else { break }
                let sent = try self.tls.withPendingCiphertext { (bytes) throws -> Int in
                    try self.socket.send(bytes).value ?? 0
                }
                if sent > 0 && self.options.idleTimeout != nil { self.lastActivity = self.eventLoop.clock.now }
                if sent < waiting || !self.hasPendingOutput { break }
            }
        } catch let error as Errno {
            self.fail(ConnectionError(.io, "send failed", cause: error))
            return
        } catch {
            self.fail(Self.tlsFailure(error))
            return
        }
        if self.inputBlockedByOutput && self.tls.pendingCiphertextCount < self.tlsCapacity / 2 {
            self.inputBlockedByOutput = false
        }
        if self.closeNotifySent && self.tls.pendingCiphertextCount == 0 {
            if !self.writeShutdown {
                self.writeShutdown = true
                try? self.socket.shutdown(.write)
            }
            if self.closeWhenFlushed || self.sawEndOfStream {
                self.finish(nil)
                return
            }
        } else if self.sawEndOfStream && self.closeWhenFlushed && !self.hasPendingOutput {
            self.finish(nil)
            return
        }
        self.updateWritability()
        self.updateInterest()
    }

    /// Moves plaintext into TLS while its outgoing buffer is under half full, leaving room for the protocol's
    /// own messages (tickets, key updates) so that feeding input is never refused because of our output.
    private func sealPendingPlaintext() throws {
        let available = self.pendingPlaintext.count - self.pendingStart
        guard available > 0 else { return }
        let count = min(available, self.sealingRoom)
        guard count > 0 else { return }
        let start = self.pendingStart
        try self.pendingPlaintext.withUnsafeBytes { bytes in
            try self.tls.writePlaintext(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + count)]))
        }
        self.pendingStart += count
        if self.pendingStart == self.pendingPlaintext.count {
            self.pendingPlaintext.removeAll(keepingCapacity: self.pendingPlaintext.capacity <= 64 * 1024)
            self.pendingStart = 0
        } else if self.pendingStart >= self.pendingPlaintext.count / 2 {
            self.pendingPlaintext.removeFirst(self.pendingStart)
            self.pendingStart = 0
        }
    }

    /// One full TLS record: below it, copying into the pending buffer and sealing once per turn is cheaper.
    static let directSealThreshold = 16 * 1024

    /// Plaintext TLS may take now while its outgoing buffer stays under half full.
    private var sealingRoom: Int {
        max(0, min(self.tls.writablePlaintextCount, self.tlsCapacity / 2 - self.tls.pendingCiphertextCount))
    }

    private func updateWritability() {
        let pending = self.pendingWriteCount
        if self.writable && pending > self.options.highWaterMark {
            self.writable = false
            self.handler?.writabilityChanged(self)
        } else if !self.writable && pending <= self.options.lowWaterMark {
            self.writable = true
            self.handler?.writabilityChanged(self)
        }
    }

    /// Brings the epoll registration in line with what the connection waits for.
    func updateInterest() {
        guard self.phase != .closed, let registration = self.registration else { return }
        var desired: Epoll.Interest = []
        if self.phase == .connecting {
            desired = .writable
        } else {
            if self.readingEnabled && !self.inputBlockedByOutput && !self.sawEndOfStream {
                desired.formUnion([.readable, .readHangup])
            }
            if self.hasPendingOutput {
                desired.insert(.writable)
            }
        }
        guard desired != self.interest else { return }
        do throws(Errno) {
            try self.eventLoop.modify(registration, self.socket.fileDescriptor, interest: desired)
            self.interest = desired
        } catch {
            self.fail(ConnectionError(.io, "cannot update the epoll registration", cause: error))
        }
    }
}
