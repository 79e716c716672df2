// A plain TCP peer for the tests that must misbehave below TLS: send garbage, say nothing, or vanish. Every wait
// polls a private epoll with a zero timeout between short sleeps, so nothing blocks the cooperative pool.
import VigilPOSIX
import VigilTesting

struct RawPeer {
    let socket: Socket
    private let epoll: Epoll

    /// Connects to `address` and waits for the connect to finish.
    init(connectingTo address: SocketAddress) async throws {
        let (socket, progress) = try Socket.connecting(to: address)
        self.socket = socket
        self.epoll = try Epoll()
        try self.epoll.add(socket.fileDescriptor, interest: [.writable], data: 1)
        if progress.isWouldBlock {
            try await self.waitFor("the connect to finish")
            try socket.finishConnect()
        }
        try self.epoll.modify(socket.fileDescriptor, interest: [.readable], data: 1)
    }

    private func waitFor(_ what: String) async throws {
        let events = Epoll.EventBuffer(capacity: 1)
        try await eventually(what) { try self.epoll.wait(into: events, timeout: .zero) > 0 }
    }

    func send(_ bytes: [UInt8]) throws {
        guard case .processed(let count) = try self.socket.send(bytes), count == bytes.count else {
            throw TimedOut(what: "room in the send buffer")
        }
    }

    /// Reads until the server closes the connection (end of stream or reset); returns what arrived before.
    func readUntilClosed() async throws -> [UInt8] {
        var received: [UInt8] = []
        try await eventually("the server to close the connection") {
            do {
                switch try self.socket.read(maximumCount: 64 * 1024) {
                case .wouldBlock:
                    return false
                case .processed(let bytes):
                    received += bytes
                    return bytes.isEmpty
                }
            } catch let error as Errno where error == .connectionReset {
                return true
            }
        }
        return received
    }
}
