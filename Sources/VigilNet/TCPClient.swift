// The dialing side: a nonblocking connect, then the same TLSConnection as on the server, in the client role. The
// connect and the handshake both finish on the loop, so the caller never blocks; the async form waits for the
// handshake without holding a thread.
public import VigilPOSIX
public import VigilTLS

/// Opens client TLS connections.
public enum TCPClient {
    /// Starts connecting to `address` on `loop` and returns the connection at once (for callers that must not
    /// wait, such as a loop thread, and for handlers that drive everything from `connectionActive`). `makeHandler` runs on the loop
    /// before the connect finishes; failures after this returns (refused, handshake, timeout) reach the handler's
    /// `connectionClosed`. Throws only when no connection could be started at all (no socket, a refusal the
    /// kernel reported at once, a loop that is shut down).
    public static func startConnecting(
        to address: SocketAddress,
        tls: TLSContext,
        serverName: String,
        on loop: EventLoop,
        options: TLSConnection.Options = TLSConnection.Options(),
        makeHandler: @escaping @Sendable (TLSConnection) -> any ConnectionHandler
    ) throws(ConnectionError) -> TLSConnection {
        let connection = try self.makeConnection(to: address, tls: tls, serverName: serverName, on: loop, options)
        guard loop.execute({ connection.start(makeHandler) }) else {
            throw ConnectionError(.eventLoopShutdown, "\(loop.name) is shut down")
        }
        return connection
    }

    /// Connects and returns once the TLS handshake finished (after `connectionActive`), or throws why it did not.
    public static func connect(
        to address: SocketAddress,
        tls: TLSContext,
        serverName: String,
        on loop: EventLoop,
        options: TLSConnection.Options = TLSConnection.Options(),
        makeHandler: @escaping @Sendable (TLSConnection) -> any ConnectionHandler
    ) async throws(ConnectionError) -> TLSConnection {
        let connection = try self.makeConnection(to: address, tls: tls, serverName: serverName, on: loop, options)
        let outcome: ConnectionError? = await withCheckedContinuation { continuation in
            let accepted = loop.execute {
                connection.onActive = { continuation.resume(returning: $0) }
                connection.start(makeHandler)
            }
            if !accepted {
                continuation.resume(returning: ConnectionError(.eventLoopShutdown, "\(loop.name) is shut down"))
            }
        }
        if let outcome {
            throw outcome
        }
        return connection
    }

    private static func makeConnection(
        to address: SocketAddress,
        tls: TLSContext,
        serverName: String,
        on loop: EventLoop,
        _ options: TLSConnection.Options
    ) throws(ConnectionError) -> TLSConnection {
        let session: TLSSession
        do {
            session = try TLSSession(context: tls, serverName: serverName)
        } catch {
            throw ConnectionError(.tls, "cannot start a TLS session for \(serverName)", cause: error)
        }
        do throws(Errno) {
            let (socket, progress) = try Socket.connecting(to: address)
            try? socket.setNoDelay(true)
            return TLSConnection(
                socket: socket, tls: session, eventLoop: loop, options: options, connecting: progress.isWouldBlock)
        } catch {
            throw ConnectionError(.connectFailed, "cannot connect to \(address)", cause: error)
        }
    }
}
