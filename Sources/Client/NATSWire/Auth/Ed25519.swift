import COpenSSL

/// Ed25519 through OpenSSL's libcrypto: the signature of NKey authentication.
enum Ed25519 {
    /// The public key of a 32-byte private key (seed).
    static func publicKey(seed: [UInt8]) throws(NATSError) -> [UInt8] {
        try withKey(seed) { key throws(NATSError) in
            var publicKey = [UInt8](repeating: 0, count: 32)
            var length = 32
            guard EVP_PKEY_get_raw_public_key(key, &publicKey, &length) == 1, length == 32 else {
                throw NATSError(.invalidArgument, "cannot derive the Ed25519 public key")
            }
            return publicKey
        }
    }

    /// The 64-byte signature of `message`.
    static func sign(_ message: [UInt8], seed: [UInt8]) throws(NATSError) -> [UInt8] {
        try withKey(seed) { key throws(NATSError) in
            guard let context = EVP_MD_CTX_new() else { throw NATSError(.invalidArgument, "out of memory") }
            defer { EVP_MD_CTX_free(context) }
            var signature = [UInt8](repeating: 0, count: 64)
            var length = 64
            guard EVP_DigestSignInit(context, nil, nil, nil, key) == 1,
                EVP_DigestSign(context, &signature, &length, message, message.count) == 1, length == 64
            else { throw NATSError(.invalidArgument, "Ed25519 signing failed") }
            return signature
        }
    }

    /// 32 random bytes from OpenSSL's CSPRNG, for a new key.
    static func randomSeed() throws(NATSError) -> [UInt8] {
        var seed = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&seed, 32) == 1 else { throw NATSError(.invalidArgument, "no random bytes") }
        return seed
    }

    private static func withKey<T>(
        _ seed: [UInt8], _ body: (OpaquePointer) throws(NATSError) -> T
    ) throws(NATSError) -> T {
        guard seed.count == 32, let key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, seed, 32) else {
            throw NATSError(.invalidArgument, "an Ed25519 seed is 32 bytes")
        }
        defer { EVP_PKEY_free(key) }
        return try body(key)
    }
}
