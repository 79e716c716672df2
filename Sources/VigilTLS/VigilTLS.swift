// VigilTLS: TLS 1.3 over OpenSSL memory BIOs, and the crypto primitives the service needs.
