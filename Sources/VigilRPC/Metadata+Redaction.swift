// Metadata carries credentials (`authorization: Bearer …`), and descriptions end up in logs. This file decides,
// in one place, which values a description may show: a value is hidden when its key names a secret or when the
// value itself looks like a credential, whatever its key.

extension Metadata: CustomStringConvertible, CustomDebugStringConvertible {
    /// Key fragments that mark a secret (`x-api-key`, `refresh-token`, `session-id`, ...).
    static let sensitiveKeyFragments = [
        "auth", "token", "secret", "password", "passwd", "api-key", "apikey", "cookie", "session", "credential",
        "signature", "private",
    ]

    /// `[key: value, ...]` with secrets shown as `<redacted>` and binary values as their length only.
    public var description: String {
        let items = self.map { entry -> String in
            let shown: String
            switch entry.value {
            case .binary(let bytes): shown = "<\(bytes.count) bytes>"
            case .string(let text):
                shown = Self.isSensitive(key: entry.key, value: text) ? "<redacted>" : text.debugDescription
            }
            return "\(entry.key): \(shown)"
        }
        return "[" + items.joined(separator: ", ") + "]"
    }

    public var debugDescription: String { "Metadata(\(self.description))" }

    /// True when a description must not show the value.
    public static func isSensitive(key: String, value: String) -> Bool {
        let key = key.lowercased()
        if Self.sensitiveKeyFragments.contains(where: { key.contains($0) }) { return true }
        return Self.looksLikeCredential(value)
    }

    /// HTTP authentication schemes and JWTs, wherever they appear.
    static func looksLikeCredential(_ value: String) -> Bool {
        let lowered = value.lowercased()
        for scheme in ["bearer ", "basic ", "digest ", "token "] where lowered.hasPrefix(scheme) { return true }
        // A JWT: three base64url segments, the first a JSON object (`{"` encodes as `eyJ`).
        if value.hasPrefix("eyJ") && value.utf8.lazy.filter({ $0 == UInt8(ascii: ".") }).count == 2 { return true }
        return false
    }
}
