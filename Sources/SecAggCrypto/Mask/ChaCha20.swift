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

/// A handle on the keystream backend masks use (OpenSSL's ChaCha20 when it was found at run time and passed
/// the start-up self-test against libsodium, else libsodium; ``MaskPrg/keystreamBackend``), for callers that
/// draw long keystreams in pieces, such as the distributed-DP noise stream. The bytes are RFC 8439's whichever
/// backend runs. One thread at a time.
package final class KeystreamContext {
    private let raw: UnsafeMutableRawPointer?

    /// A context on the faster backend when there is one.
    package init() {
        Sodium.initialize()
        raw = CSodiumShims_fast_chacha20_context_new()
    }

    deinit {
        if let raw { CSodiumShims_fast_chacha20_context_free(raw) }
    }

    /// Fills `buffer` with the keystream of `key` and the 12-byte `nonce` from block `initialCounter` (the
    /// caller keeps within the counter space). Returns false on a backend failure or wrong sizes.
    package func fill(_ buffer: UnsafeMutableRawBufferPointer, key: SecretBytes, nonce: [UInt8], initialCounter: UInt32)
        -> Bool
    {
        guard key.byteCount == ChaCha20.keyByteCount, nonce.count == ChaCha20.nonceByteCount else { return false }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return true }
        let status = key.withUnsafeBytes { k in
            nonce.withUnsafeBytes { n in
                CSodiumShims_chacha20_ietf_keystream_with(
                    raw, base, buffer.count, n.baseAddress, initialCounter, k.baseAddress)
            }
        }
        return status == 0
    }
}
