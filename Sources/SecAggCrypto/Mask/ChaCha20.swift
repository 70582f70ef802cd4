internal import CSodiumShims

/// The raw ChaCha20 keystream (RFC 8439 §2.4, 96-bit nonce, 32-bit block counter).
///
/// The mask PRG (``MaskPrg``) and the test generator (``DeterministicRandomGenerator``) are built on it;
/// it is public so the RFC 8439 vectors can be checked with arbitrary nonces and counters.
public enum ChaCha20 {
    /// Key size.
    public static let keyByteCount = 32
    /// Nonce size (IETF variant).
    public static let nonceByteCount = 12
    /// Block size.
    public static let blockByteCount = 64

    /// `byteCount` keystream bytes for `key` and `nonce`, starting at block `initialCounter`.
    /// Throws when the request would run past block 2^32 − 1 (the counter never wraps).
    public static func keystream(key: SecretBytes, nonce: [UInt8], initialCounter: UInt32, byteCount: Int)
        throws(SecAggCryptoError) -> [UInt8]
    {
        guard key.byteCount == keyByteCount else {
            throw .incorrectByteCount(actual: key.byteCount, expected: keyByteCount)
        }
        guard nonce.count == nonceByteCount else {
            throw .incorrectByteCount(actual: nonce.count, expected: nonceByteCount)
        }
        let available = Int((UInt64(1) << 32) - UInt64(initialCounter)) * blockByteCount
        guard byteCount >= 0, byteCount <= available else {
            throw .maskLengthExceedsCounterSpace(elementCount: byteCount, maximum: available)
        }
        try Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: byteCount)
        guard byteCount > 0 else { return out }
        let status = key.withUnsafeBytes { k in
            nonce.withUnsafeBytes { n in
                out.withUnsafeMutableBytes { o in
                    CSodiumShims_chacha20_ietf_keystream(
                        o.baseAddress, byteCount, n.baseAddress, initialCounter, k.baseAddress)
                }
            }
        }
        guard status == 0 else {
            throw .underlyingSodiumError(function: "crypto_stream_chacha20_ietf_xor_ic", code: status)
        }
        return out
    }
}
