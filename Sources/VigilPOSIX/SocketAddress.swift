// An IPv4 or IPv6 address plus port, as a plain value: parsed from the "host:port" text users type in flags and
// config, printed back the same way, and converted to and from the kernel's sockaddr structures only inside this
// module. Host names are not resolved here; parsing never blocks.
import Glibc

/// An IPv4 or IPv6 endpoint (address literal and port).
public struct SocketAddress: Sendable {
    /// The address family, for callers that must treat IPv4 and IPv6 differently (e.g. when picking a wildcard).
    public enum Family: Sendable, Hashable {
        case ipv4
        case ipv6
    }

    /// The kernel structures themselves, so `withSockAddr` is a plain pointer cast with no conversion per call.
    enum Storage {
        case ipv4(sockaddr_in)
        case ipv6(sockaddr_in6)
    }

    let storage: Storage

    init(_ address: sockaddr_in) {
        self.storage = .ipv4(address)
    }

    init(_ address: sockaddr_in6) {
        self.storage = .ipv6(address)
    }

    public var family: Family {
        switch self.storage {
        case .ipv4: .ipv4
        case .ipv6: .ipv6
        }
    }

    /// The port in host byte order; 0 asks the kernel to pick a free one when binding.
    public var port: UInt16 {
        switch self.storage {
        case .ipv4(let address): UInt16(bigEndian: address.sin_port)
        case .ipv6(let address): UInt16(bigEndian: address.sin6_port)
        }
    }

    /// The same address with another port, e.g. to connect to what a `:0` listener was given.
    public func withPort(_ port: UInt16) -> SocketAddress {
        switch self.storage {
        case .ipv4(var address):
            address.sin_port = port.bigEndian
            return SocketAddress(address)
        case .ipv6(var address):
            address.sin6_port = port.bigEndian
            return SocketAddress(address)
        }
    }

    /// The address bytes in network order: 4 for IPv4, 16 for IPv6.
    public var addressBytes: [UInt8] {
        switch self.storage {
        case .ipv4(var address):
            withUnsafeBytes(of: &address.sin_addr) { Array($0) }
        case .ipv6(var address):
            withUnsafeBytes(of: &address.sin6_addr) { Array($0) }
        }
    }

    /// The IPv6 scope (interface index) of a link-local address; 0 otherwise and for IPv4.
    public var scopeID: UInt32 {
        switch self.storage {
        case .ipv4: 0
        case .ipv6(let address): address.sin6_scope_id
        }
    }

    /// True for 127.0.0.0/8 and ::1, so a server can warn when it is not reachable from other hosts.
    public var isLoopback: Bool {
        let bytes = self.addressBytes
        switch self.family {
        case .ipv4: return bytes.first == 127
        case .ipv6: return bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1
        }
    }

    /// 127.0.0.1 on `port`.
    public static func ipv4Loopback(port: UInt16) -> SocketAddress {
        self.ipv4(bytes: (127, 0, 0, 1), port: port)
    }

    /// 0.0.0.0 on `port`: every IPv4 interface.
    public static func ipv4Any(port: UInt16) -> SocketAddress {
        self.ipv4(bytes: (0, 0, 0, 0), port: port)
    }

    /// ::1 on `port`.
    public static func ipv6Loopback(port: UInt16) -> SocketAddress {
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        withUnsafeMutableBytes(of: &address.sin6_addr) { $0[15] = 1 }
        return SocketAddress(address)
    }

    /// :: on `port`: every IPv6 interface (and IPv4 too, unless the system sets IPV6_V6ONLY by default).
    public static func ipv6Any(port: UInt16) -> SocketAddress {
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        return SocketAddress(address)
    }

    /// An IPv4 address from its four bytes in the order they are written (a.b.c.d).
    public static func ipv4(bytes: (UInt8, UInt8, UInt8, UInt8), port: UInt16) -> SocketAddress {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        withUnsafeMutableBytes(of: &address.sin_addr) { raw in
            raw[0] = bytes.0
            raw[1] = bytes.1
            raw[2] = bytes.2
            raw[3] = bytes.3
        }
        return SocketAddress(address)
    }
}

// MARK: - Equality

extension SocketAddress: Hashable {
    /// Compares family, address bytes, port and scope only: the kernel structures carry padding (`sin_zero`) that
    /// must not make two equal endpoints differ.
    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        lhs.family == rhs.family && lhs.port == rhs.port && lhs.scopeID == rhs.scopeID
            && lhs.addressBytes == rhs.addressBytes
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.family)
        hasher.combine(self.port)
        hasher.combine(self.scopeID)
        hasher.combine(self.addressBytes)
    }
}

// MARK: - Kernel structures

extension SocketAddress {
    /// Reads what `accept`, `getsockname` or `getpeername` wrote; nil for families other than IPv4 and IPv6
    /// (e.g. a Unix socket), which this module does not model.
    init?(storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            self = withUnsafeBytes(of: &storage) { SocketAddress($0.loadUnaligned(as: sockaddr_in.self)) }
        case AF_INET6:
            self = withUnsafeBytes(of: &storage) { SocketAddress($0.loadUnaligned(as: sockaddr_in6.self)) }
        default:
            return nil
        }
    }

    /// Lends the address to a C call as `sockaddr*` plus its length.
    func withSockAddr<Result, Failure: Error>(
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        switch self.storage {
        case .ipv4(var address):
            return try withUnsafePointer(to: &address) { (pointer) throws(Failure) in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (raw) throws(Failure) in
                    try body(raw, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .ipv6(var address):
            return try withUnsafePointer(to: &address) { (pointer) throws(Failure) in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (raw) throws(Failure) in
                    try body(raw, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }

    /// Lets a C call fill a `sockaddr_storage` (accept, getsockname) and turns the result into an address.
    static func capture(
        _ call: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) throws(Errno) -> Void
    ) throws(Errno) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        try withUnsafeMutablePointer(to: &storage) { (pointer) throws(Errno) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(Errno) in
                try call(address, &length)
            }
        }
        guard let address = SocketAddress(storage: storage) else {
            throw Errno(rawValue: EAFNOSUPPORT)
        }
        return address
    }
}
