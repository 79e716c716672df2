// One SSL_CTX per configuration: certificates, keys and trust are parsed once here, and every connection's
// TLSSession is cheap to create from it. This is also where the module's fixed policy is applied: TLS 1.3 only,
// no compression, no renegotiation, buffers released when idle, no session resumption.
import COpenSSL

/// A configured OpenSSL `SSL_CTX`, shared by all sessions of one side (server or client).
///
/// `@unchecked Sendable`: the `SSL_CTX` is only mutated inside `init`; afterwards sessions only call `SSL_new` on
/// it, which OpenSSL documents as safe from many threads at once.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    public let role: TLSConfiguration.Role
    /// Kept from the configuration for the sessions; the key material is not kept.
    let bufferLimit: Int
    /// Server ALPN list in wire format, followed by a zero byte; the selection callback reads it through its `arg`.
    private let serverProtocols: UnsafeMutableRawBufferPointer?

    public init(configuration: TLSConfiguration) throws {
        guard configuration.bufferLimit >= TLSConfiguration.minimumBufferLimit else {
            throw TLSError(
                .invalidConfiguration,
                "buffer limit \(configuration.bufferLimit) is below one TLS record "
                    + "(\(TLSConfiguration.minimumBufferLimit) bytes)"
            )
        }
        let protocols = try Self.wireFormat(configuration.applicationProtocols)

        OpenSSLErrorQueue.clear()
        let method = configuration.role == .server ? TLS_server_method() : TLS_client_method()
        guard let context = SSL_CTX_new(method) else {
            throw TLSError.drainingQueue(.cryptoFailure, "cannot allocate an SSL_CTX")
        }
        var serverProtocols: UnsafeMutableRawBufferPointer? = nil
        do {
            try Self.applyPolicy(context, configuration)
            switch configuration.role {
            case .server:
                try Self.configureServer(context, configuration)
                if !protocols.isEmpty {
                    let list = UnsafeMutableRawBufferPointer.allocate(byteCount: protocols.count + 1, alignment: 1)
                    list.copyBytes(from: protocols + [0])
                    serverProtocols = list
                    SSL_CTX_set_alpn_select_cb(context, selectApplicationProtocol, list.baseAddress)
                }
            case .client:
                try Self.configureClient(context, configuration)
                if !protocols.isEmpty {
                    // The one OpenSSL setter that returns 0 on success.
                    guard SSL_CTX_set_alpn_protos(context, protocols, UInt32(protocols.count)) == 0 else {
                        throw TLSError.drainingQueue(.invalidConfiguration, "OpenSSL refused the ALPN list")
                    }
                }
            }
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        self.context = context
        self.role = configuration.role
        self.bufferLimit = configuration.bufferLimit
        self.serverProtocols = serverProtocols
    }

    deinit {
        // Sessions retain their context, so no SSL object can still reach the ALPN list when this runs.
        SSL_CTX_free(self.context)
        self.serverProtocols?.deallocate()
    }

    private static func applyPolicy(_ context: OpaquePointer, _ configuration: TLSConfiguration) throws {
        guard vigil_SSL_CTX_set_min_proto_version(context, configuration.minimumProtocolVersion) == 1,
            vigil_SSL_CTX_set_max_proto_version(context, configuration.maximumProtocolVersion) == 1
        else {
            throw TLSError.drainingQueue(.invalidConfiguration, "OpenSSL refused the protocol version range")
        }
        SSL_CTX_set_options(context, vigil_SSL_OP_NO_COMPRESSION() | vigil_SSL_OP_NO_RENEGOTIATION())
        // Not SSL_MODE_RELEASE_BUFFERS: it frees (and OPENSSL_cleanse-wipes) the 16 KiB+ record buffers every time
        // a read drains them, which on a busy stream is every few records (6 % of the server's CPU receiving 64 KiB
        // messages). Idle connections free them instead through `TLSSession.releaseIdleBuffers`, which the server
        // calls for a connection that received nothing for a tick.
        // Clients never resume (each connection is a full handshake), so tickets and a server-side cache would be
        // bytes on the wire and memory per connection for nothing.
        _ = vigil_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
        _ = SSL_CTX_set_num_tickets(context, 0)
        SSL_CTX_set_default_passwd_cb(context, PEM.refusePassphrase)
    }

    private static func configureServer(_ context: OpaquePointer, _ configuration: TLSConfiguration) throws {
        guard let chain = configuration.certificateChain, let key = configuration.privateKey else {
            throw TLSError(.invalidConfiguration, "a server needs a certificate chain and its private key")
        }
        guard configuration.trustRoots == nil else {
            throw TLSError(.invalidConfiguration, "servers do not verify client certificates; trust roots unused")
        }
        switch chain {
        case .file(let path):
            guard SSL_CTX_use_certificate_chain_file(context, path) == 1 else {
                throw TLSError.drainingQueue(.invalidConfiguration, "cannot load a certificate chain from \(path)")
            }
        case .bytes(let bytes):
            try bytes.withUnsafeBytes { try self.useCertificateChain(context, pem: $0) }
        }
        let loaded: Int32
        switch key {
        case .file(let path):
            loaded = SSL_CTX_use_PrivateKey_file(context, path, SSL_FILETYPE_PEM)
        case .bytes(let bytes):
            let privateKey = try bytes.withUnsafeBytes { try PEM.readPrivateKey($0, what: "the private key") }
            defer { EVP_PKEY_free(privateKey) }
            loaded = SSL_CTX_use_PrivateKey(context, privateKey)
        }
        guard loaded == 1 else {
            let entries = OpenSSLErrorQueue.drain()
            let mismatch = entries.contains {
                $0.library == ERR_LIB_X509
                    && ($0.reason == X509_R_KEY_VALUES_MISMATCH || $0.reason == X509_R_KEY_TYPE_MISMATCH)
            }
            throw TLSError(
                mismatch ? .privateKeyMismatch : .invalidConfiguration,
                mismatch ? "the private key does not match the certificate" : "cannot load the private key",
                openSSLErrors: entries.map(\.text)
            )
        }
        // Same-type keys that differ are not always caught while loading; this check compares the public halves.
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw TLSError.drainingQueue(.privateKeyMismatch, "the private key does not match the certificate")
        }
    }

    /// The in-memory twin of `SSL_CTX_use_certificate_chain_file`: first block is the leaf, the rest its chain.
    private static func useCertificateChain(_ context: OpaquePointer, pem: UnsafeRawBufferPointer) throws {
        var certificates = try PEM.readCertificates(pem, what: "the certificate chain")
        defer { for certificate in certificates { X509_free(certificate) } }
        guard SSL_CTX_use_certificate(context, certificates[0]) == 1 else {
            throw TLSError.drainingQueue(.invalidConfiguration, "OpenSSL refused the certificate")
        }
        while certificates.count > 1 {
            let intermediate = certificates.removeLast()
            // add0 takes ownership on success only.
            guard vigil_SSL_CTX_add0_chain_cert(context, intermediate) == 1 else {
                X509_free(intermediate)
                throw TLSError.drainingQueue(.invalidConfiguration, "OpenSSL refused an intermediate certificate")
            }
        }
    }

    private static func configureClient(_ context: OpaquePointer, _ configuration: TLSConfiguration) throws {
        guard configuration.certificateChain == nil, configuration.privateKey == nil else {
            throw TLSError(.invalidConfiguration, "client certificates are not supported")
        }
        guard let trustRoots = configuration.trustRoots else {
            throw TLSError(.invalidConfiguration, "a client needs trust roots to verify the server")
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        switch trustRoots {
        case .system:
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw TLSError.drainingQueue(.invalidConfiguration, "cannot load the system trust store")
            }
        case .certificates(.file(let path)):
            guard SSL_CTX_load_verify_file(context, path) == 1 else {
                throw TLSError.drainingQueue(.invalidConfiguration, "cannot load trust roots from \(path)")
            }
        case .certificates(.bytes(let bytes)):
            let certificates = try bytes.withUnsafeBytes { try PEM.readCertificates($0, what: "the trust roots") }
            defer { for certificate in certificates { X509_free(certificate) } }
            let store = SSL_CTX_get_cert_store(context)
            for certificate in certificates {
                guard X509_STORE_add_cert(store, certificate) == 1 else {
                    throw TLSError.drainingQueue(.invalidConfiguration, "OpenSSL refused a trust root")
                }
            }
        }
    }

    /// ALPN's wire format: each name prefixed by its one-byte length.
    private static func wireFormat(_ protocols: [String]) throws -> [UInt8] {
        var wire: [UInt8] = []
        for name in protocols {
            let bytes = Array(name.utf8)
            guard !bytes.isEmpty, bytes.count <= 255 else {
                throw TLSError(.invalidConfiguration, "ALPN protocol names must be 1 to 255 bytes")
            }
            wire.append(UInt8(bytes.count))
            wire += bytes
        }
        return wire
    }
}

/// The server's ALPN choice: its own preference order, and a fatal `no_application_protocol` alert for a client that
/// offers ALPN but none of the server's protocols (RFC 7301 §3.2), instead of continuing without a protocol.
private func selectApplicationProtocol(
    _ ssl: OpaquePointer?,
    _ selected: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    _ selectedLength: UnsafeMutablePointer<UInt8>?,
    _ offered: UnsafePointer<UInt8>?,
    _ offeredLength: UInt32,
    _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let selected, let selectedLength, let offered, let argument else { return SSL_TLSEXT_ERR_ALERT_FATAL }
    let server = argument.assumingMemoryBound(to: UInt8.self)
    var serverLength = 0
    while server[serverLength] != 0 { serverLength += 1 + Int(server[serverLength]) }
    let outcome = selected.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 1) { choice in
        SSL_select_next_proto(choice, selectedLength, server, UInt32(serverLength), offered, offeredLength)
    }
    return outcome == OPENSSL_NPN_NEGOTIATED ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_ALERT_FATAL
}
