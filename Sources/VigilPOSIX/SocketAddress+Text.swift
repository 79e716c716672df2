// "host:port" text in both directions. Parsing is strict (no spaces, no leading "+", IPv6 only in brackets, no
// embedded NUL) because a lenient parser lets a typo in a flag bind somewhere unexpected.
import Glibc

extension SocketAddress: LosslessStringConvertible {
    /// Parses "a.b.c.d:port" or "[ipv6]:port" (address literals only; names like "localhost" give nil).
    ///
    /// IPv6 must be bracketed: "::1:80" could mean port 80 of ::1 or the address ::1:80. Zone suffixes ("%eth0")
    /// are not accepted. The port is 0–65535 written with decimal digits only.
    public init?(_ description: String) {
        let text = Substring(description)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                return nil
            }
            let host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), let port = Self.parsePort(rest.dropFirst()) else {
                return nil
            }
            guard let address = Self.parseIPv6(host, port: port) else {
                return nil
            }
            self = address
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                return nil
            }
            let host = text[..<colon]
            guard let port = Self.parsePort(text[text.index(after: colon)...]),
                let address = Self.parseIPv4(host, port: port)
            else {
                return nil
            }
            self = address
        }
    }

    /// Builds an address from a literal host without brackets ("127.0.0.1", "::1", "[::1]") and a port.
    public init?(host: String, port: UInt16) {
        var host = Substring(host)
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count >= 2 {
            host = host.dropFirst().dropLast()
        }
        guard let address = Self.parseIPv4(host, port: port) ?? Self.parseIPv6(host, port: port) else {
            return nil
        }
        self = address
    }

    /// "127.0.0.1:7443" or "[::1]:7443"; what `init?(_:)` reads back.
    public var description: String {
        switch self.family {
        case .ipv4: "\(self.hostDescription):\(self.port)"
        case .ipv6: "[\(self.hostDescription)]:\(self.port)"
        }
    }

    /// The address alone: "127.0.0.1", or "::1" without brackets; a nonzero IPv6 scope is appended as "%N".
    public var hostDescription: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch self.storage {
        case .ipv4(var address):
            _ = inet_ntop(AF_INET, &address.sin_addr, &buffer, socklen_t(buffer.count))
        case .ipv6(var address):
            _ = inet_ntop(AF_INET6, &address.sin6_addr, &buffer, socklen_t(buffer.count))
        }
        let host = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if case .ipv6 = self.storage {
            let scope = self.scopeID
            return scope == 0 ? host : "\(host)%\(scope)"
        }
        return host
    }

    private static func parsePort(_ text: Substring) -> UInt16? {
        guard !text.isEmpty, text.utf8.count <= 5, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        return UInt16(text)
    }

    /// inet_pton takes a C string, so a NUL inside the text would silently cut it short: reject those first.
    private static func isPlainText(_ host: Substring) -> Bool {
        !host.isEmpty && !host.utf8.contains(0)
    }

    private static func parseIPv4(_ host: Substring, port: UInt16) -> SocketAddress? {
        guard self.isPlainText(host) else {
            return nil
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        let parsed = String(host).withCString { inet_pton(AF_INET, $0, &address.sin_addr) }
        return parsed == 1 ? SocketAddress(address) : nil
    }

    private static func parseIPv6(_ host: Substring, port: UInt16) -> SocketAddress? {
        guard self.isPlainText(host) else {
            return nil
        }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        let parsed = String(host).withCString { inet_pton(AF_INET6, $0, &address.sin6_addr) }
        return parsed == 1 ? SocketAddress(address) : nil
    }
}
