// Shared plumbing for tests over real loopback sockets: every wait goes through epoll with a deadline, so a bug
// shows up as a failed test within seconds instead of a hung test run.
import Testing
import VigilPOSIX

/// Thrown when something the test waited for did not happen in time.
struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(self.what)" }
}

/// A generous deadline for anything loopback: far above normal latency, far below a hung CI job.
let testTimeout = Duration.seconds(5)

/// Waits until `descriptor` reports one of `interest`; returns the reported flags.
@discardableResult
func waitFor(
    _ descriptor: FileDescriptor,
    _ interest: Epoll.Interest,
    timeout: Duration = testTimeout,
    what: String = "readiness"
) throws -> Epoll.Flags {
    let epoll = try Epoll()
    try epoll.add(descriptor, interest: interest, data: 7)
    let events = Epoll.EventBuffer(capacity: 4)
    guard try epoll.wait(into: events, timeout: timeout) == 1, let event = events.first else {
        throw TimedOut(what: what)
    }
    #expect(event.data == 7)
    return event.flags
}

/// Accepts one connection, waiting for it to arrive.
func acceptOne(from listener: Socket) throws -> Socket {
    let clock = ContinuousClock()
    let deadline = clock.now + testTimeout
    while clock.now < deadline {
        if case .processed(let socket) = try listener.accept() {
            return socket
        }
        try waitFor(listener.fileDescriptor, .readable, timeout: deadline - clock.now, what: "a connection")
    }
    throw TimedOut(what: "a connection")
}

/// A listener on 127.0.0.1 with a kernel-chosen port, a connected client and the server's end of it.
struct ConnectedPair {
    let listener: Socket
    let client: Socket
    let server: Socket

    init(on address: SocketAddress = .ipv4Loopback(port: 0)) throws {
        self.listener = try Socket.listening(on: address)
        let (client, progress) = try Socket.connecting(to: try self.listener.localAddress())
        if progress.isWouldBlock {
            try waitFor(client.fileDescriptor, .writable, what: "the connect to finish")
            try client.finishConnect()
        }
        self.client = client
        self.server = try acceptOne(from: self.listener)
    }
}

/// Reads until `count` bytes arrived, end of stream, or the deadline.
func readBytes(_ count: Int, from socket: Socket) throws -> [UInt8] {
    let clock = ContinuousClock()
    let deadline = clock.now + testTimeout
    var received: [UInt8] = []
    while received.count < count {
        guard clock.now < deadline else {
            throw TimedOut(what: "\(count) bytes (got \(received.count))")
        }
        switch try socket.read(maximumCount: count - received.count) {
        case .processed(let bytes) where bytes.isEmpty:
            return received
        case .processed(let bytes):
            received += bytes
        case .wouldBlock:
            try waitFor(socket.fileDescriptor, .readable, timeout: deadline - clock.now, what: "bytes")
        }
    }
    return received
}

/// Sends all of `bytes`, waiting for room when the socket buffer is full.
func sendAll(_ bytes: [UInt8], to socket: Socket) throws {
    var sent = 0
    while sent < bytes.count {
        switch try socket.send(bytes[sent...]) {
        case .processed(let count):
            sent += count
        case .wouldBlock:
            try waitFor(socket.fileDescriptor, .writable, what: "room to send")
        }
    }
}
