// OpenSSL (libssl-dev) as one module. Function-like macros Swift cannot import are re-exposed as static inline
// functions here, so the Swift side never re-implements a macro by hand.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/params.h>
#include <openssl/core_names.h>
#include <openssl/sha.h>

// SSL_CTX_ctrl macros.
static inline int vigil_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline int vigil_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}
static inline long vigil_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
static inline long vigil_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
/// Takes ownership of `x509` on success.
static inline int vigil_SSL_CTX_add0_chain_cert(SSL_CTX *ctx, X509 *x509) {
    return (int)SSL_CTX_add0_chain_cert(ctx, x509);
}

// SSL_OP_* are cast expressions (SSL_OP_BIT), which Swift does not import.
static inline uint64_t vigil_SSL_OP_NO_COMPRESSION(void) { return SSL_OP_NO_COMPRESSION; }
static inline uint64_t vigil_SSL_OP_NO_RENEGOTIATION(void) { return SSL_OP_NO_RENEGOTIATION; }

// SSL_ctrl macros.
static inline int vigil_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

// BIO_ctrl macros.
static inline BUF_MEM *vigil_BIO_get_mem_ptr(BIO *bio) {
    BUF_MEM *memory = NULL;
    if (BIO_get_mem_ptr(bio, &memory) <= 0) return NULL;
    return memory;
}

// SHA-256's block function, for PBKDF2 (VigilTLS/Crypto/PBKDF2.swift). OpenSSL 3 deprecates the low-level digest
// calls in favour of EVP, but PBKDF2 through EVP copies an HMAC context per iteration and costs three times the CPU
// of two block transforms from precomputed keyed states (250 ms against 77 ms at 600,000 iterations here). Wrapped
// here so the deprecation stays inside this system header.
static inline void vigil_SHA256_init(SHA256_CTX *context) { SHA256_Init(context); }
static inline void vigil_SHA256_transform(SHA256_CTX *context, const unsigned char *block) {
    SHA256_Transform(context, block);
}
