// Host names for the command line ("--server localhost:7443"): the event loops only ever see resolved addresses,
// and resolution blocks (it may ask DNS), so it is a separate, explicitly blocking step callers take at startup.
import Glibc

/// A host name that could not be turned into addresses.
public struct AddressResolutionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// getaddrinfo's EAI_* code, or 0 when the text itself was malformed (no lookup was made).
    public var code: Int32
    public var message: String
    /// The errno behind an EAI_SYSTEM failure.
    public var cause: Errno?

    public var description: String { self.message }
}

extension SocketAddress {
    /// Resolves "host:port" or "[ipv6]:port"; an address literal comes back at once without a lookup.
    ///
    /// Blocks the calling thread for as long as the system resolver takes (seconds if DNS is unreachable): call
    /// it at startup or on a thread of its own, never on an event loop or the cooperative pool.
    public static func resolve(_ text: String) throws(AddressResolutionError) -> [SocketAddress] {
        if let literal = SocketAddress(text) {
            return [literal]
        }
        guard !text.utf8.contains(0), let colon = text.lastIndex(of: ":") else {
            throw AddressResolutionError(
                code: 0, message: "expected host:port, got \(text.debugDescription)", cause: nil)
        }
        let host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard let port = UInt16(portText), portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw AddressResolutionError(code: 0, message: "invalid port in \(text.debugDescription)", cause: nil)
        }
        return try self.resolve(host: host, port: port)
    }

    /// Resolves `host` to its TCP endpoints on `port`, in the resolver's preference order, without duplicates.
    public static func resolve(host: String, port: UInt16) throws(AddressResolutionError) -> [SocketAddress] {
        if let literal = SocketAddress(host: host, port: port) {
            return [literal]
        }
        guard !host.isEmpty, !host.utf8.contains(0) else {
            throw AddressResolutionError(code: 0, message: "invalid host name \(host.debugDescription)", cause: nil)
        }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, nil, &hints, &list)
        defer { freeaddrinfo(list) }
        guard code == 0 else {
            let cause = code == EAI_SYSTEM ? Errno.current : nil
            let reason = gai_strerror(code).map { String(cString: $0) } ?? "error \(code)"
            throw AddressResolutionError(code: code, message: "cannot resolve \(host): \(reason)", cause: cause)
        }
        var addresses: [SocketAddress] = []
        var entry = list
        while let current = entry {
            if let address = current.pointee.ai_addr,
                let found = Self(copying: address, length: current.pointee.ai_addrlen),
                !addresses.contains(found.withPort(port))
            {
                addresses.append(found.withPort(port))
            }
            entry = current.pointee.ai_next
        }
        guard !addresses.isEmpty else {
            throw AddressResolutionError(code: EAI_NONAME, message: "no IPv4 or IPv6 address for \(host)", cause: nil)
        }
        return addresses
    }

    /// Copies a `sockaddr` of `length` bytes into storage first, so a short or odd-family entry is never read
    /// past its end.
    init?(copying address: UnsafePointer<sockaddr>, length: socklen_t) {
        var storage = sockaddr_storage()
        let count = min(Int(length), MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutableBytes(of: &storage) { destination in
            destination.copyMemory(from: UnsafeRawBufferPointer(start: address, count: count))
        }
        self.init(storage: storage)
    }
}
