/// The key derivations of the protocol (SPEC.md §3). Each one is HKDF-SHA256 with the session id as
/// salt and an ASCII label followed by little-endian party indices as info, so keys for different
/// purposes, pairs and sessions are independent even when they come from the same X25519 secret.
public enum KeyDerivation {
    /// Output size of every derived key or seed.
    public static let derivedKeyByteCount = 32

    /// The HKDF info labels, versioned with the spec.
    public enum Label: String, CaseIterable, Sendable {
        /// Seed of the pairwise mask PRG(s_uv).
        case pairwiseMaskSeed = "secagg/v1/pairwise-mask-seed"
        /// Key of the AEAD that carries Shamir shares from u to v.
        case shareEncryptionKey = "secagg/v1/share-encryption-key"
    }

    /// info = label || LE32(min(u, v)) || LE32(max(u, v)): symmetric in the pair.
    public static func info(label: Label, _ u: UInt32, _ v: UInt32) -> [UInt8] {
        var info = Array(label.rawValue.utf8)
        appendLittleEndian(min(u, v), to: &info)
        appendLittleEndian(max(u, v), to: &info)
        return info
    }

    /// The 32-byte pairwise mask seed s_uv for the pair {u, v} in the session.
    public static func pairwiseMaskSeed(
        sharedSecret: X25519.SharedSecret, sessionId: [UInt8], _ u: UInt32, _ v: UInt32
    ) throws(SecAggCryptoError) -> SecretBytes {
        try sharedSecret.hkdfDerivedKey(
            salt: sessionId, info: info(label: .pairwiseMaskSeed, u, v), outputByteCount: derivedKeyByteCount)
    }

    /// The 32-byte share-encryption key c_uv for the pair {u, v} in the session.
    public static func shareEncryptionKey(
        sharedSecret: X25519.SharedSecret, sessionId: [UInt8], _ u: UInt32, _ v: UInt32
    ) throws(SecAggCryptoError) -> SecretBytes {
        try sharedSecret.hkdfDerivedKey(
            salt: sessionId, info: info(label: .shareEncryptionKey, u, v), outputByteCount: derivedKeyByteCount)
    }
}

/// Appends the little-endian bytes of `value`.
@inlinable
package func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    var v = value.littleEndian
    withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
}
