// HMAC-SHA256 for session tokens: checked on every request, so keying must not be paid per call. The key is set
// once into a template context; each call reuses an idle keyed copy (re-initialising it with the stored key is
// two block copies) and only duplicates the template when all copies are busy on other threads.
import COpenSSL
import Synchronization

/// HMAC-SHA256 (RFC 2104) with a key fixed at creation; safe to share between threads.
///
/// `@unchecked Sendable`: `template` is written only in `init`; afterwards it is only read, by
/// `EVP_MAC_CTX_dup`. Working contexts are used by one call at a time: a call owns a context from taking it out of
/// `idle` until it puts it back.
public final class HMACSHA256: @unchecked Sendable {
    public static let byteCount = 32
    /// Enough idle contexts for the threads that verify tokens at once; beyond that, copies are made and freed.
    private static let maximumIdleContexts = 8

    /// An `EVP_MAC_CTX` moving between the idle list and the one call using it.
    ///
    /// `@unchecked Sendable`: whoever holds the value owns the context exclusively (the list, or one call).
    private struct WorkingContext: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private let template: OpaquePointer
    private let idle: Mutex<[WorkingContext]>

    /// Prepares a context keyed with `key` (any length; keys longer than 64 bytes are hashed, as RFC 2104 says).
    public init(key: some Collection<UInt8>) throws {
        OpenSSLErrorQueue.clear()
        guard let context = EVP_MAC_CTX_new(OpenSSLAlgorithms.hmac.pointer) else {
            throw TLSError.drainingQueue(.cryptoFailure, "cannot allocate an HMAC context")
        }
        let keyed = key.withContiguousBytes { key in
            "digest".withCString { name in
                "SHA256".withCString { digest in
                    var parameters = [
                        OSSL_PARAM_construct_utf8_string(name, UnsafeMutablePointer(mutating: digest), 0),
                        OSSL_PARAM_construct_end(),
                    ]
                    // An empty key still needs a non-null pointer.
                    var empty: UInt8 = 0
                    return withUnsafePointer(to: &empty) { emptyKey in
                        EVP_MAC_init(
                            context,
                            key.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? emptyKey,
                            key.count,
                            &parameters
                        )
                    }
                }
            }
        }
        guard keyed == 1 else {
            EVP_MAC_CTX_free(context)
            throw TLSError.drainingQueue(.cryptoFailure, "cannot key HMAC-SHA256")
        }
        self.template = context
        self.idle = Mutex([])
    }

    deinit {
        EVP_MAC_CTX_free(self.template)
        self.idle.withLock { contexts in
            for context in contexts { EVP_MAC_CTX_free(context.pointer) }
        }
    }

    /// The 32-byte MAC of `message`.
    public func authenticationCode(for message: UnsafeRawBufferPointer) -> [UInt8] {
        let context = self.takeContext()
        defer { self.returnContext(context) }
        return [UInt8](unsafeUninitializedCapacity: Self.byteCount) { output, initialized in
            var length = 0
            OpenSSLErrorQueue.clear()
            // A null key re-initialises with the key already set, without re-deriving the padded key blocks.
            // These calls fail only when OpenSSL cannot allocate; no MAC can be produced then.
            guard EVP_MAC_init(context, nil, 0, nil) == 1,
                EVP_MAC_update(context, message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count) == 1,
                EVP_MAC_final(context, output.baseAddress, &length, Self.byteCount) == 1,
                length == Self.byteCount
            else {
                fatalError("HMAC-SHA256 failed: \(OpenSSLErrorQueue.drain().map(\.text))")
            }
            initialized = Self.byteCount
        }
    }

    /// The 32-byte MAC of `message` (an array, a slice, a string's `utf8`).
    public func authenticationCode(for message: some Collection<UInt8>) -> [UInt8] {
        message.withContiguousBytes { self.authenticationCode(for: $0) }
    }

    /// True when `code` is the MAC of `message`, compared in constant time.
    public func isValidAuthenticationCode(_ code: some Collection<UInt8>, for message: some Collection<UInt8>) -> Bool {
        ConstantTime.equals(self.authenticationCode(for: message), code)
    }

    /// The MAC of `message` under `key`, for one-off use; keep an `HMACSHA256` to MAC many messages with one key.
    public static func authenticationCode(
        key: some Collection<UInt8>,
        message: some Collection<UInt8>
    ) throws -> [UInt8] {
        try HMACSHA256(key: key).authenticationCode(for: message)
    }

    private func takeContext() -> OpaquePointer {
        if let context = self.idle.withLock({ $0.popLast() }) { return context.pointer }
        OpenSSLErrorQueue.clear()
        guard let context = EVP_MAC_CTX_dup(self.template) else {
            fatalError("cannot copy the HMAC context: \(OpenSSLErrorQueue.drain().map(\.text))")
        }
        return context
    }

    private func returnContext(_ context: OpaquePointer) {
        let kept = self.idle.withLock { contexts in
            guard contexts.count < Self.maximumIdleContexts else { return false }
            contexts.append(WorkingContext(pointer: context))
            return true
        }
        if !kept { EVP_MAC_CTX_free(context) }
    }
}
