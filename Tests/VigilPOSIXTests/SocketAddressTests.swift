import Testing
import VigilPOSIX

@Suite("SocketAddress")
struct SocketAddressTests {
    @Test(
        "parses host:port literals and prints them canonically",
        arguments: [
            ("127.0.0.1:80", SocketAddress.Family.ipv4, UInt16(80), "127.0.0.1:80"),
            ("0.0.0.0:0", .ipv4, 0, "0.0.0.0:0"),
            ("255.255.255.255:65535", .ipv4, 65535, "255.255.255.255:65535"),
            ("10.1.2.3:0080", .ipv4, 80, "10.1.2.3:80"),
            ("[::1]:7443", .ipv6, 7443, "[::1]:7443"),
            ("[::]:1", .ipv6, 1, "[::]:1"),
            ("[2001:db8::1]:443", .ipv6, 443, "[2001:db8::1]:443"),
            ("[2001:0DB8:0000:0000:0000:0000:0000:0001]:443", .ipv6, 443, "[2001:db8::1]:443"),
            ("[::ffff:127.0.0.1]:80", .ipv6, 80, "[::ffff:127.0.0.1]:80"),
        ]
    )
    func parsesValid(text: String, family: SocketAddress.Family, port: UInt16, canonical: String) throws {
        let address = try #require(SocketAddress(text))
        #expect(address.family == family)
        #expect(address.port == port)
        #expect(address.description == canonical)
        #expect(SocketAddress(address.description) == address)
    }

    @Test(
        "rejects anything that is not an address literal with a port",
        arguments: [
            "", ":", "127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:65536", "127.0.0.1:99999", "127.0.0.1:123456",
            "127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1:8 0", "127.0.0.1:80 ", " 127.0.0.1:80", "127.0.0.1 :80",
            "256.0.0.1:80", "1.2.3:80", "1.2.3.4.5:80", "1.2.3.4:1e3", "1.2.3.4:0x50", "localhost:80",
            "::1:80", "::1", "[::1]", "[::1]:", "[::1]80", "[::1", "::1]:80", "[::1]:80:80", "[[::1]]:80",
            "[127.0.0.1]:80", "[fe80::1%eth0]:80", "[]:80",
            "１２７.0.0.1:80", "127.0.0.1:٨٠",
        ]
    )
    func rejectsInvalid(text: String) {
        #expect(SocketAddress(text) == nil, "accepted \(text.debugDescription)")
    }

    /// Separate from the table so test logs never print a raw NUL.
    @Test("rejects a NUL inside the host, which C parsing would silently cut the text at")
    func rejectsEmbeddedNUL() {
        #expect(SocketAddress("127.0.0.1\u{0}x:80") == nil)
        #expect(SocketAddress("[::1\u{0}]:80") == nil)
        #expect(SocketAddress(host: "::1\u{0}junk", port: 80) == nil)
    }

    @Test(
        "builds from a bare host and a port",
        arguments: [("127.0.0.1", "127.0.0.1:9"), ("::1", "[::1]:9"), ("[::1]", "[::1]:9")]
    )
    func buildsFromHost(host: String, expected: String) throws {
        let address = try #require(SocketAddress(host: host, port: 9))
        #expect(address.description == expected)
    }

    @Test("rejects bare hosts that are not literals", arguments: ["", "localhost", "[", "[]", "1.2.3.4:5", "::1%lo"])
    func rejectsBadHost(host: String) {
        #expect(SocketAddress(host: host, port: 9) == nil)
    }

    @Test("named constructors, equality and loopback test agree with the parser")
    func namedConstructors() throws {
        #expect(SocketAddress.ipv4Loopback(port: 5) == SocketAddress("127.0.0.1:5"))
        #expect(SocketAddress.ipv4Any(port: 5) == SocketAddress("0.0.0.0:5"))
        #expect(SocketAddress.ipv6Loopback(port: 5) == SocketAddress("[::1]:5"))
        #expect(SocketAddress.ipv6Any(port: 5) == SocketAddress("[::]:5"))
        #expect(SocketAddress.ipv4(bytes: (192, 168, 0, 1), port: 1).description == "192.168.0.1:1")
        #expect(SocketAddress.ipv4Loopback(port: 5) != SocketAddress.ipv4Loopback(port: 6))
        #expect(SocketAddress.ipv4Loopback(port: 5).withPort(6) == SocketAddress.ipv4Loopback(port: 6))
        #expect(Set([SocketAddress.ipv4Loopback(port: 1), SocketAddress("127.0.0.1:1")!]).count == 1)
        #expect(SocketAddress.ipv4Loopback(port: 1).isLoopback)
        #expect(try #require(SocketAddress("127.9.9.9:1")).isLoopback)
        #expect(SocketAddress.ipv6Loopback(port: 1).isLoopback)
        #expect(!SocketAddress.ipv4Any(port: 1).isLoopback)
        #expect(!SocketAddress.ipv6Any(port: 1).isLoopback)
        #expect(try #require(SocketAddress("[::1]:1")).addressBytes == [UInt8](repeating: 0, count: 15) + [1])
        #expect(SocketAddress.ipv6Loopback(port: 1).hostDescription == "::1")
    }

    @Test("resolving a literal needs no lookup and keeps the port")
    func resolveLiteral() throws {
        #expect(try SocketAddress.resolve("127.0.0.1:7443") == [.ipv4Loopback(port: 7443)])
        #expect(try SocketAddress.resolve("[::1]:1") == [.ipv6Loopback(port: 1)])
        #expect(try SocketAddress.resolve(host: "::1", port: 2) == [.ipv6Loopback(port: 2)])
    }

    @Test("resolving localhost gives loopback addresses on the requested port")
    func resolveLocalhost() throws {
        let addresses = try SocketAddress.resolve("localhost:7443")
        #expect(!addresses.isEmpty)
        #expect(addresses.allSatisfy { $0.isLoopback && $0.port == 7443 })
        #expect(Set(addresses).count == addresses.count)
    }

    @Test(
        "resolving malformed text fails before any lookup",
        arguments: ["localhost", "localhost:", "localhost:65536", "localhost:+1", ":80", "local\u{0}host:80"]
    )
    func resolveMalformed(text: String) {
        #expect(throws: AddressResolutionError.self) { try SocketAddress.resolve(text) }
    }

    @Test("reads back the port the kernel chose for a :0 listener")
    func kernelAddress() throws {
        let listener = try Socket.listening(on: .ipv4Loopback(port: 0))
        let address = try listener.localAddress()
        #expect(address.port != 0)
        #expect(address == SocketAddress("127.0.0.1:\(address.port)"))
    }
}
