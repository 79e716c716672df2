// The peer's certificate as plain Swift values, so callers can log who they talked to or pin a certificate
// without touching OpenSSL types.
import COpenSSL

/// A certificate presented by the peer.
public struct TLSCertificate: Sendable, Hashable {
    /// The DER encoding, e.g. for pinning by hash.
    public let derBytes: [UInt8]
    /// The subject in OpenSSL's one-line form, e.g. `/CN=localhost`.
    public let subject: String

    /// Copies what it needs out of `certificate`; does not take ownership.
    init?(_ certificate: OpaquePointer) {
        let length = i2d_X509(certificate, nil)
        guard length > 0 else { return nil }
        self.derBytes = [UInt8](unsafeUninitializedCapacity: Int(length)) { storage, count in
            var cursor = storage.baseAddress
            count = Int(max(0, i2d_X509(certificate, &cursor)))
        }
        self.subject = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 512) { buffer in
            guard let base = buffer.baseAddress, X509_NAME_oneline(X509_get_subject_name(certificate), base, 512) != nil
            else { return "" }
            return String(cString: base)
        }
    }
}
