// Certificates minted at run time: a development server can start without an operator-provided certificate, and
// tests can build exactly the trust situations they need (valid, expired, wrong name, unknown issuer) with no files
// checked in that would expire. ECDSA P-256 keys, X.509 v3, SHA-256 signatures.
import COpenSSL

/// A freshly generated self-signed certificate and its private key, in PEM. It is marked as a CA, so a client can
/// trust it directly as its own root, and it can sign leaf certificates (`issueLeafCertificate`).
public struct SelfSignedCertificate: Sendable {
    /// A name the certificate is valid for.
    public enum SubjectAlternativeName: Sendable, Hashable {
        case dnsName(String)
        case ipAddress(String)
    }

    /// A certificate signed by a `SelfSignedCertificate`, with its key; not a CA.
    public struct Leaf: Sendable {
        public let certificatePEM: [UInt8]
        public let privateKeyPEM: [UInt8]
        /// The leaf followed by its issuer: what a server presents.
        public let certificateChainPEM: [UInt8]
    }

    public static let defaultSubjectAlternativeNames: [SubjectAlternativeName] = [
        .dnsName("localhost"), .ipAddress("127.0.0.1"),
    ]

    public let certificatePEM: [UInt8]
    public let privateKeyPEM: [UInt8]

    public var certificatePEMString: String { String(decoding: self.certificatePEM, as: UTF8.self) }
    public var privateKeyPEMString: String { String(decoding: self.privateKeyPEM, as: UTF8.self) }

    /// Mints a key and a certificate valid for `subjectAlternativeNames` from `now + notBefore` to `now + notAfter`.
    /// Both offsets may be negative: `notAfter: .seconds(-60)` makes an already expired certificate for tests.
    public init(
        commonName: String = "localhost",
        subjectAlternativeNames: [SubjectAlternativeName] = SelfSignedCertificate.defaultSubjectAlternativeNames,
        notBefore: Duration = .seconds(-3600),
        notAfter: Duration = .seconds(365 * 24 * 3600)
    ) throws {
        let key = try Self.generateKey()
        defer { EVP_PKEY_free(key) }
        let certificate = try Self.makeCertificate(
            commonName: commonName,
            subjectAlternativeNames: subjectAlternativeNames,
            notBefore: notBefore,
            notAfter: notAfter,
            isAuthority: true,
            subjectKey: key,
            issuer: nil
        )
        defer { X509_free(certificate) }
        self.certificatePEM = try PEM.write(certificate: certificate)
        self.privateKeyPEM = try PEM.write(privateKey: key)
    }

    /// Mints a key and a leaf certificate signed by this certificate: for chains, and for "unknown issuer" tests.
    public func issueLeafCertificate(
        commonName: String = "localhost",
        subjectAlternativeNames: [SubjectAlternativeName] = SelfSignedCertificate.defaultSubjectAlternativeNames,
        notBefore: Duration = .seconds(-3600),
        notAfter: Duration = .seconds(365 * 24 * 3600)
    ) throws -> Leaf {
        let issuerCertificates = try self.certificatePEM.withUnsafeBytes {
            try PEM.readCertificates($0, what: "the issuer certificate")
        }
        defer { for certificate in issuerCertificates { X509_free(certificate) } }
        let issuerKey = try self.privateKeyPEM.withUnsafeBytes { try PEM.readPrivateKey($0, what: "the issuer key") }
        defer { EVP_PKEY_free(issuerKey) }
        let key = try Self.generateKey()
        defer { EVP_PKEY_free(key) }
        let certificate = try Self.makeCertificate(
            commonName: commonName,
            subjectAlternativeNames: subjectAlternativeNames,
            notBefore: notBefore,
            notAfter: notAfter,
            isAuthority: false,
            subjectKey: key,
            issuer: (issuerCertificates[0], issuerKey)
        )
        defer { X509_free(certificate) }
        let certificatePEM = try PEM.write(certificate: certificate)
        return Leaf(
            certificatePEM: certificatePEM,
            privateKeyPEM: try PEM.write(privateKey: key),
            certificateChainPEM: certificatePEM + self.certificatePEM
        )
    }

    private static func generateKey() throws -> OpaquePointer {
        OpenSSLErrorQueue.clear()
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
            throw TLSError.drainingQueue(.cryptoFailure, "cannot create an EC key generation context")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_group_name(context, "P-256") == 1,
            EVP_PKEY_generate(context, &key) == 1, let key
        else {
            throw TLSError.drainingQueue(.cryptoFailure, "cannot generate a P-256 key")
        }
        return key
    }

    /// Builds and signs a certificate for `subjectKey`; self-signed when `issuer` is nil. The caller frees it.
    private static func makeCertificate(
        commonName: String,
        subjectAlternativeNames: [SubjectAlternativeName],
        notBefore: Duration,
        notAfter: Duration,
        isAuthority: Bool,
        subjectKey: OpaquePointer,
        issuer: (certificate: OpaquePointer, key: OpaquePointer)?
    ) throws -> OpaquePointer {
        guard !commonName.isEmpty, commonName.utf8.count <= 64, !commonName.utf8.contains(0) else {
            throw TLSError(.invalidArgument, "a common name must be 1 to 64 bytes without NUL")
        }
        let alternativeNames = try Self.extensionValue(subjectAlternativeNames)
        OpenSSLErrorQueue.clear()
        guard let certificate = X509_new() else {
            throw TLSError.drainingQueue(.cryptoFailure, "cannot allocate a certificate")
        }
        do {
            // Serial numbers must be positive and unique per issuer: 63 random bits.
            let serial = SecureRandom.bytes(8).reduce(0) { $0 << 8 | Int64($1) } & Int64.max
            let subjectName = X509_get_subject_name(certificate)
            guard X509_set_version(certificate, Int(X509_VERSION_3)) == 1,
                ASN1_INTEGER_set_int64(X509_get_serialNumber(certificate), max(serial, 1)) == 1,
                X509_gmtime_adj(X509_getm_notBefore(certificate), Int(notBefore.components.seconds)) != nil,
                X509_gmtime_adj(X509_getm_notAfter(certificate), Int(notAfter.components.seconds)) != nil,
                X509_set_pubkey(certificate, subjectKey) == 1,
                X509_NAME_add_entry_by_txt(subjectName, "CN", MBSTRING_ASC, commonName, -1, -1, 0) == 1,
                X509_set_issuer_name(certificate, issuer.map { X509_get_subject_name($0.certificate) } ?? subjectName)
                    == 1
            else {
                throw TLSError.drainingQueue(.cryptoFailure, "cannot fill in the certificate")
            }
            var extensionContext = X509V3_CTX()
            X509V3_set_ctx(&extensionContext, issuer?.certificate ?? certificate, certificate, nil, nil, 0)
            var extensions: [(Int32, String)] = [
                (NID_basic_constraints, isAuthority ? "critical,CA:TRUE" : "critical,CA:FALSE"),
                (
                    NID_key_usage,
                    isAuthority ? "critical,digitalSignature,keyCertSign,cRLSign" : "critical,digitalSignature"
                ),
                (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid"),
            ]
            if !isAuthority { extensions.append((NID_ext_key_usage, "serverAuth,clientAuth")) }
            if !alternativeNames.isEmpty { extensions.append((NID_subject_alt_name, alternativeNames)) }
            for (nid, value) in extensions {
                guard let x509Extension = X509V3_EXT_conf_nid(nil, &extensionContext, nid, value) else {
                    throw TLSError.drainingQueue(.cryptoFailure, "cannot build the extension \(value)")
                }
                defer { X509_EXTENSION_free(x509Extension) }
                guard X509_add_ext(certificate, x509Extension, -1) == 1 else {
                    throw TLSError.drainingQueue(.cryptoFailure, "cannot add the extension \(value)")
                }
            }
            guard X509_sign(certificate, issuer?.key ?? subjectKey, EVP_sha256()) > 0 else {
                throw TLSError.drainingQueue(.cryptoFailure, "cannot sign the certificate")
            }
            return certificate
        } catch {
            X509_free(certificate)
            throw error
        }
    }

    /// The subjectAltName extension in OpenSSL's config syntax (`DNS:localhost,IP:127.0.0.1`). Names are checked
    /// first, since a comma or colon in a name would otherwise smuggle in another entry.
    private static func extensionValue(_ names: [SubjectAlternativeName]) throws -> String {
        try names.map { name in
            switch name {
            case .dnsName(let dnsName):
                let allowed = dnsName.utf8.allSatisfy { byte in
                    (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                        || byte == 0x2D || byte == 0x2E || byte == 0x2A
                }
                guard !dnsName.isEmpty, dnsName.utf8.count <= 253, allowed else {
                    throw TLSError(.invalidArgument, "\(dnsName) is not a DNS name (letters, digits, '-', '.', '*')")
                }
                return "DNS:" + dnsName
            case .ipAddress(let address):
                guard !address.utf8.contains(0), let parsed = a2i_IPADDRESS(address) else {
                    throw TLSError(.invalidArgument, "\(address) is not an IPv4 or IPv6 address")
                }
                ASN1_OCTET_STRING_free(parsed)
                return "IP:" + address
            }
        }.joined(separator: ",")
    }
}
