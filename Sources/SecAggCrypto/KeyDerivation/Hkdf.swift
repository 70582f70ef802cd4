internal import CSodium

/// HKDF-SHA256 (RFC 5869) built on libsodium's HMAC-SHA256 (libsodium 1.0.18 has no HKDF API).
public enum Hkdf {
    /// SHA-256 output size.
    public static let hashByteCount = 32
    /// The largest output HKDF-Expand can produce: 255 blocks.
    public static let maximumOutputByteCount = 255 * 32

    /// HKDF-Extract: PRK = HMAC-SHA256(key: salt, message: IKM). An empty salt means 32 zero bytes.
    public static func extract(salt: [UInt8], inputKeyMaterial: SecretBytes) throws(SecAggCryptoError)
        -> SecretBytes
    {
        try Sodium.ensureInitialized()
        let key = salt.isEmpty ? [UInt8](repeating: 0, count: hashByteCount) : salt
        return inputKeyMaterial.withUnsafeBytes { ikm in
            SecretBytes(byteCount: hashByteCount) { out in
                hmac(key: key, parts: [ikm], into: out)
            }
        }
    }

    /// HKDF-Expand: T(i) = HMAC(PRK, T(i-1) || info || i), output the first `outputByteCount` bytes.
    public static func expand(pseudoRandomKey: SecretBytes, info: [UInt8], outputByteCount: Int)
        throws(SecAggCryptoError) -> SecretBytes
    {
        guard outputByteCount >= 0, outputByteCount <= maximumOutputByteCount else {
            throw .hkdfOutputTooLong(requested: outputByteCount, maximum: maximumOutputByteCount)
        }
        try Sodium.ensureInitialized()
        var prk = pseudoRandomKey.unsafeExportedBytes()
        defer { secureZero(&prk) }
        return SecretBytes(byteCount: outputByteCount) { out in
            var previous = [UInt8](repeating: 0, count: hashByteCount)
            defer { secureZero(&previous) }
            var produced = 0
            var counter: UInt8 = 1
            var previousCount = 0
            while produced < outputByteCount {
                var block = [UInt8](repeating: 0, count: hashByteCount)
                defer { secureZero(&block) }
                previous.withUnsafeBytes { prev in
                    info.withUnsafeBytes { infoBytes in
                        withUnsafeBytes(of: counter) { c in
                            block.withUnsafeMutableBytes { b in
                                hmac(
                                    key: prk,
                                    parts: [UnsafeRawBufferPointer(rebasing: prev[0..<previousCount]), infoBytes, c],
                                    into: b)
                            }
                        }
                    }
                }
                let take = min(hashByteCount, outputByteCount - produced)
                for i in 0..<take { out[produced + i] = block[i] }
                produced += take
                previous = block
                previousCount = hashByteCount
                counter &+= 1
            }
        }
    }

    /// Extract then expand.
    public static func deriveKey(
        inputKeyMaterial: SecretBytes, salt: [UInt8], info: [UInt8], outputByteCount: Int
    ) throws(SecAggCryptoError) -> SecretBytes {
        let prk = try extract(salt: salt, inputKeyMaterial: inputKeyMaterial)
        return try expand(pseudoRandomKey: prk, info: info, outputByteCount: outputByteCount)
    }

    /// HMAC-SHA256 of `message` under `key` (any lengths). Exposed for the Wycheproof HMAC suite.
    public static func hmacSha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Sodium.initialize()
        var out = [UInt8](repeating: 0, count: hashByteCount)
        message.withUnsafeBytes { m in
            out.withUnsafeMutableBytes { o in hmac(key: key, parts: [m], into: o) }
        }
        return out
    }

    /// SHA-256 of `message` (libsodium `crypto_hash_sha256`). Public data only.
    public static func sha256(_ message: [UInt8]) -> [UInt8] {
        Sodium.initialize()
        var out = [UInt8](repeating: 0, count: hashByteCount)
        _ = crypto_hash_sha256(&out, message, UInt64(message.count))
        return out
    }

    private static func hmac(key: [UInt8], parts: [UnsafeRawBufferPointer], into out: UnsafeMutableRawBufferPointer) {
        var state = crypto_auth_hmacsha256_state()
        defer { withUnsafeMutableBytes(of: &state) { sodium_memzero($0.baseAddress, $0.count) } }
        _ = crypto_auth_hmacsha256_init(&state, key, key.count)
        for part in parts where part.count > 0 {
            _ = crypto_auth_hmacsha256_update(
                &state, part.bytePointer, UInt64(part.count))
        }
        _ = crypto_auth_hmacsha256_final(&state, out.bytePointer)
    }
}

/// A streaming SHA-256 hasher over public data (transcripts, session ids, digests of long outputs).
public struct Sha256Hasher {
    private var state = crypto_hash_sha256_state()

    /// A fresh hasher.
    public init() {
        Sodium.initialize()
        _ = crypto_hash_sha256_init(&state)
    }

    /// Absorbs `bytes`.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        _ = crypto_hash_sha256_update(&state, bytes.bytePointer, UInt64(bytes.count))
    }

    /// Absorbs `bytes`.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Writes the 32-byte digest to `out` (at least 32 bytes) without allocating; the hasher must not be used
    /// afterwards. (A copy of a hasher taken before is independent: hash a common prefix once, copy per message.)
    package mutating func finalize(into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= 32, "SHA-256 digest buffer too small")
        _ = crypto_hash_sha256_final(&state, out.bytePointer)
    }

    /// The digest; the hasher must not be used afterwards.
    public mutating func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        _ = crypto_hash_sha256_final(&state, &out)
        return out
    }
}
