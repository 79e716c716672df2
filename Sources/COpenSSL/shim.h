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
