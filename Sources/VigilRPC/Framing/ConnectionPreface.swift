// The first bytes each side sends, before any frame. They exist so that a peer speaking something else (HTTP, TLS
// inside TLS, an old Vigil) is told so in the first round trip instead of failing later on garbage frames.

/// The connection preface: `VIGIL\r\n` then one version byte (docs/PROTOCOL.md, "Connection preface").
public enum ConnectionPreface {
    /// The 7 magic bytes, `56 49 47 49 4C 0D 0A`: readable in a packet dump, and a line an HTTP/1 server rejects.
    public static let magic: [UInt8] = Array("VIGIL\r\n".utf8)
    /// The protocol version this build speaks.
    public static let version: UInt8 = 1
    /// Magic plus version: 8 bytes.
    public static let bytes: [UInt8] = Self.magic + [Self.version]
    public static let count = 8
}
