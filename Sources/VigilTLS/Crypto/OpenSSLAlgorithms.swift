// OpenSSL 3 looks algorithms up in its provider registry on every implicit use (EVP_sha256(), HMAC()), which costs
// more than hashing a short message. Fetching once per process and sharing the result removes that cost.
import COpenSSL

/// A fetched `EVP_MD` or `EVP_MAC`, kept for the life of the process.
///
/// `@unchecked Sendable`: fetched algorithm objects are immutable and reference-counted atomically; OpenSSL
/// documents them as shareable between threads.
struct FetchedAlgorithm: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// The algorithms this module uses, fetched on first use.
enum OpenSSLAlgorithms {
    static let sha256: FetchedAlgorithm = {
        guard let digest = EVP_MD_fetch(nil, "SHA256", nil) else { fatalError("OpenSSL has no SHA256 digest") }
        return FetchedAlgorithm(pointer: digest)
    }()

    static let hmac: FetchedAlgorithm = {
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { fatalError("OpenSSL has no HMAC") }
        return FetchedAlgorithm(pointer: mac)
    }()
}
