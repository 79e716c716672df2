// Keyset page tokens. A token carries the sort key and id of the last row of its page, so the next page starts
// right after it (`WHERE (key, id) < (?, ?)`): stable while rows arrive, no OFFSET scan. Clients must not forge or
// reuse one with another filter (it would skip or repeat rows silently), so each token is authenticated with
// HMAC-SHA256 over its keys *and* the listing's scope (kind, order, direction, every filter value), which the token
// does not carry: a token presented with another filter or order fails the check like a tampered one.
//
// Format: base64url( version 1 | key count n | n big-endian Int64 keys | HMAC-SHA256 (32 bytes) ).
import VigilTLS

struct PageTokenCodec: Sendable {
    private static let version: UInt8 = 1
    private static let maximumKeys = 4
    private let hmac: HMACSHA256

    init(key: [UInt8]) throws(StoreError) {
        guard key.count >= 32 else { throw StoreError(.invalidArgument, "page token keys must have 32 bytes or more") }
        do {
            self.hmac = try HMACSHA256(key: key)
        } catch {
            throw StoreError(
                .internal, "cannot key the page token HMAC", cause: DescribedError(description: "\(error)"))
        }
    }

    /// The token continuing after a row whose sort key is `keys`, valid only for `scope`.
    func makeToken(keys: [Int64], scope: PageScope) -> String {
        precondition(keys.count <= Self.maximumKeys, "too many keys")
        var body: [UInt8] = [Self.version, UInt8(keys.count)]
        for key in keys { body.append(contentsOf: ByteWriter.bigEndian(key)) }
        body.append(contentsOf: self.hmac.authenticationCode(for: body + scope.bytes))
        return Base64URL.encode(body)
    }

    /// The keys of `token`, checked against `scope`; nil for an empty token (the first page).
    func readToken(_ token: String, scope: PageScope, keyCount: Int) throws(StoreError) -> [Int64]? {
        if token.isEmpty { return nil }
        let invalid = StoreError(.invalidPageToken, "the page token is invalid or belongs to another listing")
        guard token.utf8.count <= 128, let bytes = Base64URL.decode(token.utf8) else { throw invalid }
        let bodyCount = 2 + 8 * keyCount
        guard bytes.count == bodyCount + HMACSHA256.byteCount, bytes[0] == Self.version, Int(bytes[1]) == keyCount
        else { throw invalid }
        let body = Array(bytes[0..<bodyCount])
        let code = bytes[bodyCount...]
        guard self.hmac.isValidAuthenticationCode(code, for: body + scope.bytes) else { throw invalid }
        return (0..<keyCount).map { index in ByteWriter.readBigEndian(body, at: 2 + 8 * index) }
    }
}

/// The canonical bytes of what a listing is: kind, order, direction and filters. Two listings get the same bytes
/// exactly when they return the same rows in the same order.
struct PageScope: Sendable {
    private(set) var bytes: [UInt8] = []

    init(kind: UInt8, order: UInt8, ascending: Bool) {
        self.bytes = [kind, order, ascending ? 1 : 0]
    }

    /// Adds a set of enum values (sorted and deduplicated, as the query treats them).
    mutating func add(ranks: [Int32]) {
        let unique = Set(ranks).sorted()
        self.bytes.append(UInt8(truncatingIfNeeded: unique.count))
        for rank in unique { self.bytes.append(contentsOf: ByteWriter.bigEndian(Int64(rank))) }
    }

    mutating func add(_ text: String?) {
        guard let text else {
            self.bytes.append(0)
            return
        }
        self.bytes.append(1)
        self.bytes.append(contentsOf: ByteWriter.bigEndian(Int64(text.utf8.count)))
        self.bytes.append(contentsOf: text.utf8)
    }

    mutating func add(_ value: Int64?) {
        guard let value else {
            self.bytes.append(0)
            return
        }
        self.bytes.append(1)
        self.bytes.append(contentsOf: ByteWriter.bigEndian(value))
    }
}

enum ByteWriter {
    static func bigEndian(_ value: Int64) -> [UInt8] {
        let bits = UInt64(bitPattern: value)
        return (0..<8).map { index in UInt8(truncatingIfNeeded: bits >> (56 - 8 * UInt64(index))) }
    }

    /// Reads 8 bytes at `offset`; the caller has checked the length.
    static func readBigEndian(_ bytes: [UInt8], at offset: Int) -> Int64 {
        var bits: UInt64 = 0
        for index in 0..<8 { bits = bits << 8 | UInt64(bytes[offset + index]) }
        return Int64(bitPattern: bits)
    }
}
