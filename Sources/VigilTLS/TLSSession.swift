// One TLS connection as a byte pump: ciphertext from the network goes in, plaintext and ciphertext for the network
// come out. No sockets or file descriptors: the connection layer owns I/O and this type owns the SSL object, so
// the whole of TLS can be tested by pumping two sessions into each other in memory.
//
// Rules kept here so no caller has to know them: the thread's OpenSSL error queue is cleared before every SSL call
// and read right after it; after *every* SSL call (SSL_read included, since TLS 1.3 sends key updates at any time)
// the outgoing BIO is drained into `outgoing`; both directions are capped at the context's buffer limit.
import COpenSSL

/// A TLS 1.3 session over two OpenSSL memory BIOs.
///
/// Typical use: `feedCiphertext` what the socket read, `readPlaintext` (which also drives the handshake), send what
/// `takeCiphertext` returns; `writePlaintext` once `state` is `.established`; `shutdown()` to close.
///
/// `@unchecked Sendable`: a session has one owner at a time (a connection's event-loop thread) and may be handed
/// between threads, but it must never be used from two threads at once; it has no locks, by design, because it
/// sits on the hot path of every connection.
public final class TLSSession: @unchecked Sendable {
    public let context: TLSContext
    /// The host name or IP address a client session expects in the server's certificate; nil on a server.
    public let serverName: String?
    public private(set) var state: TLSSessionState = .handshaking

    private let ssl: OpaquePointer
    /// Owned by `ssl`; replaced (and the old one freed by OpenSSL) when an emptied BIO holds a large buffer.
    private var incomingBIO: OpaquePointer
    private var outgoingBIO: OpaquePointer
    /// Ciphertext for the network; `outgoing[outgoingStart...]` is what has not been taken yet.
    private var outgoing: [UInt8] = []
    private var outgoingStart = 0
    private var failure: TLSError?
    private let bufferLimit: Int

    /// Largest TLS 1.3 record payload; plaintext is read and sealed in pieces of at most this size.
    private static let recordSize = 16 * 1024
    /// Upper bound on what TLS 1.3 adds to one record: 5-byte header, 1-byte content type, 16-byte AEAD tag.
    private static let recordOverhead = 32

    /// A server session (`serverName` nil) or a client session that will verify `serverName` (a DNS name or an
    /// IP literal) against the server's certificate.
    public init(context: TLSContext, serverName: String? = nil) throws {
        switch context.role {
        case .server:
            guard serverName == nil else {
                throw TLSError(.invalidArgument, "a server session has no server name to verify")
            }
        case .client:
            guard let serverName, !serverName.isEmpty, !serverName.utf8.contains(0) else {
                throw TLSError(.invalidArgument, "a client session needs the server's host name or IP address")
            }
        }
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.context) else {
            throw TLSError.drainingQueue(.cryptoFailure, "cannot allocate an SSL object")
        }
        guard let incoming = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError.drainingQueue(.cryptoFailure, "cannot allocate a memory BIO")
        }
        guard let outgoing = BIO_new(BIO_s_mem()) else {
            BIO_free(incoming)
            SSL_free(ssl)
            throw TLSError.drainingQueue(.cryptoFailure, "cannot allocate a memory BIO")
        }
        SSL_set_bio(ssl, incoming, outgoing)
        if let serverName {
            SSL_set_connect_state(ssl)
            do {
                try Self.expectPeerName(serverName, on: ssl)
            } catch {
                SSL_free(ssl)
                throw error
            }
        } else {
            SSL_set_accept_state(ssl)
        }
        self.context = context
        self.serverName = serverName
        self.ssl = ssl
        self.incomingBIO = incoming
        self.outgoingBIO = outgoing
        self.bufferLimit = context.bufferLimit
    }

    deinit {
        SSL_free(self.ssl)  // frees both BIOs
    }

    /// IP literals are matched against the certificate's IP SANs, names against its DNS SANs; names also go out as
    /// SNI. Partial wildcards (`w*.example.com`) are refused.
    private static func expectPeerName(_ name: String, on ssl: OpaquePointer) throws {
        var literal = name
        if literal.hasPrefix("["), literal.hasSuffix("]") { literal = String(literal.dropFirst().dropLast()) }
        if let address = a2i_IPADDRESS(literal) {
            ASN1_OCTET_STRING_free(address)
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), literal) == 1 else {
                throw TLSError.drainingQueue(.invalidArgument, "OpenSSL refused the IP address \(literal)")
            }
            return
        }
        OpenSSLErrorQueue.clear()
        guard vigil_SSL_set_tlsext_host_name(ssl, name) == 1, SSL_set1_host(ssl, name) == 1 else {
            throw TLSError.drainingQueue(.invalidArgument, "OpenSSL refused the host name \(name)")
        }
        SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
    }

    // MARK: - State

    /// True once the handshake finished, the peer's certificate included; stays true through shutdown.
    public var isHandshakeComplete: Bool { SSL_is_init_finished(self.ssl) == 1 }

    /// OpenSSL's verdict on the peer's certificate. Meaningful on a client once the handshake finished or failed;
    /// a server does not ask for client certificates, so there it is always `.valid`.
    public var peerVerification: TLSCertificateVerification {
        TLSCertificateVerification(rawValue: SSL_get_verify_result(self.ssl))
    }

    /// The certificate the peer presented, if any (always, for a client past the server's Certificate message).
    public var peerCertificate: TLSCertificate? {
        guard let certificate = SSL_get1_peer_certificate(self.ssl) else { return nil }
        defer { X509_free(certificate) }
        return TLSCertificate(certificate)
    }

    /// The ALPN protocol both sides agreed on, or nil when either side did not use ALPN.
    public var negotiatedApplicationProtocol: String? {
        var data: UnsafePointer<UInt8>? = nil
        var length: UInt32 = 0
        SSL_get0_alpn_selected(self.ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(validating: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// The negotiated protocol, e.g. `TLSv1.3`, once the handshake finished.
    public var protocolVersion: String? {
        guard self.isHandshakeComplete else { return nil }
        return String(cString: SSL_get_version(self.ssl))
    }

    // MARK: - Input

    /// Hands the session bytes read from the network. They are only buffered here; `readPlaintext` (or
    /// `handshake`) processes them.
    ///
    /// Refused with `incomingBufferFull` when the session would then hold more undecrypted ciphertext than its
    /// buffer limit, and with `outgoingBufferFull` when ciphertext it produced is still waiting at the limit
    /// (processing more input could produce more). Nothing is buffered from a refused call.
    public func feedCiphertext(_ bytes: UnsafeRawBufferPointer) throws {
        try self.throwIfFailed()
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        guard self.state != .closed else {
            throw TLSError(.invalidState, "ciphertext arrived after the session closed")
        }
        let pending = MemoryBIO.pendingCount(self.incomingBIO)
        guard bytes.count <= self.bufferLimit - pending else {
            throw TLSError(
                .incomingBufferFull,
                "\(bytes.count) more bytes of ciphertext would exceed the \(self.bufferLimit)-byte limit "
                    + "(\(pending) bytes still undecrypted)"
            )
        }
        guard self.pendingCiphertextCount < self.bufferLimit else {
            throw TLSError(
                .outgoingBufferFull,
                "\(self.pendingCiphertextCount) bytes of ciphertext are waiting to be sent; take them first"
            )
        }
        OpenSSLErrorQueue.clear()
        guard BIO_write(self.incomingBIO, base, Int32(bytes.count)) == Int32(bytes.count) else {
            throw self.fail(TLSError.drainingQueue(.cryptoFailure, "cannot buffer incoming ciphertext"))
        }
    }

    /// Hands the session bytes read from the network; see `feedCiphertext(_: UnsafeRawBufferPointer)`.
    public func feedCiphertext(_ bytes: some Collection<UInt8>) throws {
        try bytes.withContiguousBytes { try self.feedCiphertext($0) }
    }

    /// Tells the session the network stream ended. Call it after reading all plaintext. Ending without the peer's
    /// close_notify could be a truncation attack, so that throws `unexpectedEndOfStream` (unless this side had
    /// already sent its own close_notify, when the peer need not answer).
    public func feedEndOfStream() throws {
        switch self.state {
        case .closed, .shutdownReceived, .failed:
            return
        case .shutdownSent:
            self.state = .closed
        case .handshaking:
            throw self.fail(TLSError(.unexpectedEndOfStream, "the peer closed the connection during the handshake"))
        case .established:
            throw self.fail(
                TLSError(.unexpectedEndOfStream, "the stream ended without close_notify; data may be truncated")
            )
        }
    }

    // MARK: - Handshake and plaintext

    /// Advances the handshake with whatever ciphertext was fed; a client's first call produces its ClientHello.
    /// `readPlaintext` calls this itself, so a connection only needs it to start a client.
    @discardableResult
    public func handshake() throws -> TLSSessionState {
        try self.throwIfFailed()
        guard self.state == .handshaking else { return self.state }
        switch try self.perform("SSL_do_handshake", { SSL_do_handshake($0) }) {
        case .success:
            self.state = .established
        case .wantRead:
            break
        case .peerClosed:
            throw self.fail(TLSError(.handshakeFailed, "the peer sent close_notify during the handshake"))
        }
        return self.state
    }

    /// Decrypts what has been fed and appends up to `maximumCount` plaintext bytes to `buffer`, driving the
    /// handshake first if needed. Returns how many bytes it appended: 0 means it needs more ciphertext, or the
    /// peer closed (`state` is then `.shutdownReceived` or `.closed`).
    @discardableResult
    public func readPlaintext(into buffer: inout [UInt8], maximumCount: Int = .max) throws -> Int {
        try self.throwIfFailed()
        if self.state == .handshaking {
            guard try self.handshake() == .established else { return 0 }
        }
        guard self.state == .established || self.state == .shutdownSent else { return 0 }
        var total = 0
        while total < maximumCount {
            let chunk = min(maximumCount - total, Self.recordSize)
            let (outcome, count) = try withUnsafeTemporaryAllocation(byteCount: chunk, alignment: 1) { scratch in
                var count = 0
                let outcome = try self.perform("SSL_read") { SSL_read_ex($0, scratch.baseAddress, chunk, &count) }
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<count]))
                return (outcome, count)
            }
            total += count
            switch outcome {
            case .success:
                continue
            case .wantRead:
                return total
            case .peerClosed:
                self.state = self.state == .shutdownSent ? .closed : .shutdownReceived
                return total
            }
        }
        return total
    }

    /// Decrypts what has been fed and returns up to `maximumCount` plaintext bytes; see `readPlaintext(into:)`.
    public func readPlaintext(maximumCount: Int = .max) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try self.readPlaintext(into: &bytes, maximumCount: maximumCount)
        return bytes
    }

    /// Plaintext bytes `writePlaintext` accepts right now without exceeding the outgoing limit.
    public var writablePlaintextCount: Int {
        let room = self.bufferLimit - self.pendingCiphertextCount
        let records = (room + Self.recordSize + Self.recordOverhead - 1) / (Self.recordSize + Self.recordOverhead)
        return max(0, room - records * Self.recordOverhead)
    }

    /// Encrypts all of `bytes` into the outgoing buffer, or nothing: when the ciphertext would not fit under the
    /// buffer limit it throws `outgoingBufferFull` and the session stays usable (take ciphertext, then retry).
    /// Valid once established, and after the peer's close_notify (TLS 1.3 allows the other half to keep writing).
    public func writePlaintext(_ bytes: UnsafeRawBufferPointer) throws {
        try self.throwIfFailed()
        guard self.state == .established || self.state == .shutdownReceived else {
            throw TLSError(.invalidState, "cannot write plaintext while the session is \(self.state)")
        }
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        guard bytes.count <= self.writablePlaintextCount else {
            throw TLSError(
                .outgoingBufferFull,
                "\(bytes.count) bytes of plaintext do not fit: \(self.pendingCiphertextCount) bytes are waiting "
                    + "to be sent and the limit is \(self.bufferLimit)"
            )
        }
        var written = 0
        let outcome = try self.perform("SSL_write") { SSL_write_ex($0, base, bytes.count, &written) }
        guard case .success = outcome, written == bytes.count else {
            throw self.fail(TLSError(.invalidState, "SSL_write wrote \(written) of \(bytes.count) bytes"))
        }
    }

    /// Encrypts all of `bytes` or nothing; see `writePlaintext(_: UnsafeRawBufferPointer)`.
    public func writePlaintext(_ bytes: some Collection<UInt8>) throws {
        try bytes.withContiguousBytes { try self.writePlaintext($0) }
    }

    /// Sends a TLS 1.3 KeyUpdate, asking the peer to update its keys too unless told not to. Long-lived
    /// connections use it to bound how much data one key protects.
    public func updateKeys(requestingPeerUpdate: Bool = true) throws {
        try self.throwIfFailed()
        guard self.state == .established else {
            throw TLSError(.invalidState, "keys can only be updated on an established session")
        }
        OpenSSLErrorQueue.clear()
        let kind = requestingPeerUpdate ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED
        guard SSL_key_update(self.ssl, kind) == 1 else {
            throw TLSError.drainingQueue(.invalidState, "OpenSSL refused a key update now")
        }
        // The update is only queued; a handshake call writes it out.
        _ = try self.perform("SSL_do_handshake") { SSL_do_handshake($0) }
    }

    /// Sends close_notify. The session then reads until the peer's close_notify (`.closed`), or the connection
    /// may simply be closed. Before the handshake finished there is nothing to close politely: the session just
    /// becomes `.closed`. Does nothing after a failure or a previous shutdown.
    public func shutdown() throws {
        switch self.state {
        case .failed, .closed, .shutdownSent:
            return
        case .handshaking:
            self.state = .closed
        case .established, .shutdownReceived:
            OpenSSLErrorQueue.clear()
            let result = SSL_shutdown(self.ssl)
            let error = result < 0 ? SSL_get_error(self.ssl, result) : SSL_ERROR_NONE
            self.drainOutgoingBIO()
            if result == 1 {
                self.state = .closed
            } else if result == 0 || error == SSL_ERROR_WANT_READ {
                self.state = .shutdownSent
            } else {
                throw self.fail(self.error(for: error, in: "SSL_shutdown"))
            }
        }
    }

    // MARK: - Output

    /// Ciphertext waiting to be sent to the peer.
    public var pendingCiphertextCount: Int { self.outgoing.count - self.outgoingStart }

    /// Removes and returns up to `maximumCount` bytes of ciphertext to send to the peer. Also valid after a
    /// failure: the alert that tells the peer why is in there.
    public func takeCiphertext(maximumCount: Int = .max) -> [UInt8] {
        let available = self.pendingCiphertextCount
        guard available > 0, maximumCount > 0 else { return [] }
        if self.outgoingStart == 0 && maximumCount >= available {
            // Hand the storage over instead of copying; an idle session keeps no buffer.
            let taken = self.outgoing
            self.outgoing = []
            return taken
        }
        let count = min(maximumCount, available)
        let taken = Array(self.outgoing[self.outgoingStart..<(self.outgoingStart + count)])
        self.consumeOutgoing(count)
        return taken
    }

    /// Lends the pending ciphertext to `send` (e.g. a non-blocking socket write) without copying it; `send` returns
    /// how many bytes it consumed, and those are dropped. `send` must not call back into this session.
    @discardableResult
    public func withPendingCiphertext(_ send: (UnsafeRawBufferPointer) throws -> Int) rethrows -> Int {
        let available = self.pendingCiphertextCount
        guard available > 0 else { return 0 }
        let start = self.outgoingStart
        let consumed = try self.outgoing.withUnsafeBytes { try send(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        precondition(consumed >= 0 && consumed <= available, "consumed \(consumed) of \(available) bytes")
        self.consumeOutgoing(consumed)
        return consumed
    }

    private func consumeOutgoing(_ count: Int) {
        self.outgoingStart += count
        if self.outgoingStart == self.outgoing.count {
            self.outgoing = []
            self.outgoingStart = 0
        }
    }

    // MARK: - OpenSSL calls

    private enum Outcome {
        case success
        case wantRead
        case peerClosed
    }

    /// Runs one SSL call with the error queue cleared before and read after, drains what it wrote, and turns its
    /// result into an outcome or a typed error (which also fails the session).
    private func perform(_ operation: String, _ call: (OpaquePointer) -> Int32) throws -> Outcome {
        // A memory BIO never refuses a write, so WANT_WRITE cannot repeat once the BIO is drained; bound it anyway.
        for _ in 0..<4 {
            OpenSSLErrorQueue.clear()
            let result = call(self.ssl)
            // SSL_get_error reads the thread's error queue: ask before anything else can touch it.
            let error = result > 0 ? SSL_ERROR_NONE : SSL_get_error(self.ssl, result)
            self.drainOutgoingBIO()
            switch error {
            case SSL_ERROR_NONE:
                return .success
            case SSL_ERROR_WANT_READ:
                return .wantRead
            case SSL_ERROR_WANT_WRITE:
                continue
            case SSL_ERROR_ZERO_RETURN:
                return .peerClosed
            default:
                throw self.fail(self.error(for: error, in: operation))
            }
        }
        throw self.fail(TLSError(.invalidState, "\(operation) kept asking to write"))
    }

    /// Names the failure of an SSL call, most specific first: a refused certificate, a version mismatch, an alert
    /// from the peer, a stream that is not TLS, then a generic handshake or protocol failure.
    private func error(for sslError: Int32, in operation: String) -> TLSError {
        let entries = OpenSSLErrorQueue.drain()
        let texts = entries.map(\.text)
        let reasons = entries.filter { $0.library == ERR_LIB_SSL }.map(\.reason)
        let verification = self.peerVerification
        if self.context.role == .client && (!verification.isValid || reasons.contains(SSL_R_CERTIFICATE_VERIFY_FAILED)) {
            return TLSError(
                .certificateVerificationFailed,
                "the server's certificate was refused: \(verification)",
                openSSLErrors: texts,
                verification: verification
            )
        }
        if reasons.contains(where: Self.versionReasons.contains) {
            return TLSError(
                .unsupportedProtocolVersion,
                "no protocol version in common with the peer (TLS 1.3 is required)",
                openSSLErrors: texts
            )
        }
        if let alert = entries.first(where: { $0.library == ERR_LIB_SSL && $0.reason >= SSL_AD_REASON_OFFSET }) {
            return TLSError(.alertReceived, "the peer sent a fatal alert: \(alert.reasonText)", openSSLErrors: texts)
        }
        if sslError == SSL_ERROR_SYSCALL && entries.isEmpty {
            return TLSError(.unexpectedEndOfStream, "\(operation) met the end of the stream", openSSLErrors: texts)
        }
        let detail = entries.last?.reasonText ?? "SSL error \(sslError)"
        if self.state == .handshaking && !reasons.contains(where: Self.recordReasons.contains) {
            return TLSError(.handshakeFailed, "the handshake failed: \(detail)", openSSLErrors: texts)
        }
        return TLSError(.protocolViolation, "the peer's bytes are not valid TLS: \(detail)", openSSLErrors: texts)
    }

    private static let versionReasons: Set<Int32> = [
        SSL_R_UNSUPPORTED_PROTOCOL, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION, SSL_R_NO_PROTOCOLS_AVAILABLE,
    ]

    /// Reasons meaning "this is not a TLS record stream" rather than "this handshake did not work out".
    private static let recordReasons: Set<Int32> = [
        SSL_R_WRONG_VERSION_NUMBER, SSL_R_PACKET_LENGTH_TOO_LONG, SSL_R_HTTP_REQUEST, SSL_R_UNKNOWN_PROTOCOL,
        SSL_R_UNEXPECTED_RECORD, SSL_R_RECORD_LENGTH_MISMATCH, SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC,
        SSL_R_BAD_RECORD_TYPE, SSL_R_BAD_PACKET_LENGTH, SSL_R_LENGTH_TOO_SHORT, SSL_R_ENCRYPTED_LENGTH_TOO_LONG,
        SSL_R_RECORD_TOO_SMALL, SSL_R_UNEXPECTED_MESSAGE,
    ]

    private func fail(_ error: TLSError) -> TLSError {
        self.state = .failed
        self.failure = error
        return error
    }

    private func throwIfFailed() throws {
        if let failure = self.failure { throw failure }
    }

    // MARK: - BIO upkeep

    private func drainOutgoingBIO() {
        guard MemoryBIO.pendingCount(self.outgoingBIO) > 0 else { return }
        if self.outgoingStart > 0 {
            self.outgoing.removeFirst(self.outgoingStart)
            self.outgoingStart = 0
        }
        MemoryBIO.readAll(self.outgoingBIO, appendingTo: &self.outgoing)
    }

    /// Frees OpenSSL's record buffers (16 KiB+ each way), oversized memory BIOs and the outgoing buffer when
    /// nothing is waiting in them; they come back on the next read or write. For connections that have gone
    /// quiet: most are, most of the time (10,000 idle connections hold ~20 KB each with their buffers freed).
    ///
    /// Not done after every read and write: OpenSSL wipes (OPENSSL_cleanse) every buffer it frees or outgrows, so
    /// a busy connection that dropped and regrew them spent 6 to 13 % of its CPU wiping (perf, 64 KiB messages).
    public func releaseIdleBuffers() {
        _ = SSL_free_buffers(self.ssl)  // 0 (and nothing freed) while a record is partly read or written
        if MemoryBIO.pendingCount(self.incomingBIO) == 0,
            MemoryBIO.capacity(self.incomingBIO) > MemoryBIO.retainedCapacityLimit,
            let fresh = BIO_new(BIO_s_mem())
        {
            SSL_set0_rbio(self.ssl, fresh)  // frees the emptied, oversized BIO
            self.incomingBIO = fresh
        }
        if MemoryBIO.pendingCount(self.outgoingBIO) == 0,
            MemoryBIO.capacity(self.outgoingBIO) > MemoryBIO.retainedCapacityLimit,
            let fresh = BIO_new(BIO_s_mem())
        {
            SSL_set0_wbio(self.ssl, fresh)
            self.outgoingBIO = fresh
        }
        if self.pendingCiphertextCount == 0 {
            self.outgoing = []
            self.outgoingStart = 0
        }
    }

    /// Bytes of buffer the session holds beyond OpenSSL's own record buffers: for tests of idle memory.
    public var retainedBufferCapacity: Int {
        MemoryBIO.capacity(self.incomingBIO) + MemoryBIO.capacity(self.outgoingBIO) + self.outgoing.capacity
    }
}
