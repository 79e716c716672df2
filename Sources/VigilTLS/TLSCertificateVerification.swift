// The outcome of checking a peer's certificate, as a value callers can compare, so a refused connection says
// "hostname mismatch" or "certificate has expired" instead of a bare handshake failure.
import COpenSSL

/// OpenSSL's verdict on the peer's certificate chain and name (an `X509_V_*` code).
public struct TLSCertificateVerification: Sendable, Hashable, CustomStringConvertible {
    /// The `X509_V_*` code; kept raw so verdicts without a named static still compare and print.
    public let rawValue: Int

    public init(rawValue: Int) { self.rawValue = rawValue }

    /// True only for a chain that verified, including its validity window and the expected name.
    public var isValid: Bool { self.rawValue == Int(X509_V_OK) }

    public static let valid = TLSCertificateVerification(rawValue: Int(X509_V_OK))
    public static let certificateExpired = TLSCertificateVerification(rawValue: Int(X509_V_ERR_CERT_HAS_EXPIRED))
    public static let certificateNotYetValid = TLSCertificateVerification(
        rawValue: Int(X509_V_ERR_CERT_NOT_YET_VALID)
    )
    public static let hostnameMismatch = TLSCertificateVerification(rawValue: Int(X509_V_ERR_HOSTNAME_MISMATCH))
    public static let ipAddressMismatch = TLSCertificateVerification(rawValue: Int(X509_V_ERR_IP_ADDRESS_MISMATCH))
    /// The chain leads to an issuer that is not among the trust roots.
    public static let untrustedIssuer = TLSCertificateVerification(
        rawValue: Int(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
    )
    /// The peer presented a self-signed certificate that is not among the trust roots.
    public static let untrustedSelfSignedCertificate = TLSCertificateVerification(
        rawValue: Int(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT)
    )
    /// The chain ends in a self-signed root that is not among the trust roots.
    public static let untrustedRootInChain = TLSCertificateVerification(
        rawValue: Int(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)
    )

    /// OpenSSL's sentence for the code, e.g. "hostname mismatch".
    public var description: String {
        String(cString: X509_verify_cert_error_string(self.rawValue))
    }
}
