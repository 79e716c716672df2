// PEM is how certificates and keys arrive (files, environment, tests) and how generated ones leave. Parsing and
// writing live here so contexts and the certificate generator share one careful implementation, including the
// rule that an encrypted key is refused instead of OpenSSL prompting on the terminal for a passphrase.
import COpenSSL

/// Conversions between PEM bytes and OpenSSL `X509` / `EVP_PKEY` objects. Returned objects are owned by the caller.
enum PEM {
    /// The passphrase callback for every PEM read: none. Without it OpenSSL would prompt on the controlling
    /// terminal, which would hang a server; an encrypted key fails to load instead.
    static let refusePassphrase: @convention(c) (
        UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?
    ) -> Int32 = { _, _, _, _ in 0 }

    /// Every certificate in `bytes`, in order (leaf first for a chain). Throws if there is none.
    static func readCertificates(_ bytes: UnsafeRawBufferPointer, what: String) throws -> [OpaquePointer] {
        OpenSSLErrorQueue.clear()
        return try MemoryBIO.withReadOnly(bytes) { bio in
            var certificates: [OpaquePointer] = []
            while let certificate = PEM_read_bio_X509(bio, nil, self.refusePassphrase, nil) {
                certificates.append(certificate)
            }
            // Running out of PEM blocks is reported as "no start line": the normal end after at least one.
            let last = ERR_peek_last_error()
            if !certificates.isEmpty && ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE {
                OpenSSLErrorQueue.clear()
                return certificates
            }
            for certificate in certificates { X509_free(certificate) }
            throw TLSError.drainingQueue(.invalidConfiguration, "\(what) holds no readable PEM certificate")
        }
    }

    /// The first private key in `bytes`.
    static func readPrivateKey(_ bytes: UnsafeRawBufferPointer, what: String) throws -> OpaquePointer {
        OpenSSLErrorQueue.clear()
        return try MemoryBIO.withReadOnly(bytes) { bio in
            guard let key = PEM_read_bio_PrivateKey(bio, nil, self.refusePassphrase, nil) else {
                throw TLSError.drainingQueue(
                    .invalidConfiguration,
                    "\(what) holds no readable PEM private key (encrypted keys are not supported)"
                )
            }
            return key
        }
    }

    /// `certificate` as a PEM block.
    static func write(certificate: OpaquePointer) throws -> [UInt8] {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO.make()
        defer { BIO_free(bio) }
        guard PEM_write_bio_X509(bio, certificate) == 1 else {
            throw TLSError.drainingQueue(.cryptoFailure, "cannot write a certificate as PEM")
        }
        return MemoryBIO.readAll(bio)
    }

    /// `key` as an unencrypted PKCS#8 PEM block.
    static func write(privateKey key: OpaquePointer) throws -> [UInt8] {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO.make()
        defer { BIO_free(bio) }
        guard PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) == 1 else {
            throw TLSError.drainingQueue(.cryptoFailure, "cannot write a private key as PEM")
        }
        return MemoryBIO.readAll(bio)
    }
}
