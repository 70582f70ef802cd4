internal import CSodium

/// The purposes a share ciphertext can carry; part of the associated data.
public enum SharePurpose: UInt8, Sendable, CaseIterable {
    /// Shares of the sender's masking key and self-mask seed, client → server → client (ShareKeys).
    case keyShares = 1
}

/// Associated data of a share ciphertext (SPEC.md §5):
/// "secagg/v1/share-aead" || sessionId (32 bytes) || LE32(sender) || LE32(recipient) || purpose (1 byte).
/// Binding sender and recipient stops reflection and swapping; the session id stops cross-session replay.
public struct ShareAssociatedData: Hashable, Sendable {
    /// The label that starts the associated data.
    public static let label = "secagg/v1/share-aead"

    /// The session the ciphertext belongs to.
    public var sessionId: [UInt8]
    /// Index of the client that encrypted.
    public var sender: UInt32
    /// Index of the client that may decrypt.
    public var recipient: UInt32
    /// What the plaintext is.
    public var purpose: SharePurpose

    /// Creates the associated data.
    public init(sessionId: [UInt8], sender: UInt32, recipient: UInt32, purpose: SharePurpose) {
        self.sessionId = sessionId
        self.sender = sender
        self.recipient = recipient
        self.purpose = purpose
    }

    /// The encoded bytes.
    public var bytes: [UInt8] {
        var out = Array(Self.label.utf8)
        out += sessionId
        appendLittleEndian(sender, to: &out)
        appendLittleEndian(recipient, to: &out)
        out.append(purpose.rawValue)
        return out
    }
}

/// XChaCha20-Poly1305-IETF (libsodium `crypto_aead_xchacha20poly1305_ietf_*`).
/// A sealed box is nonce (24 bytes) || ciphertext || tag (16 bytes).
public enum Aead {
    /// Key size.
    public static let keyByteCount = 32
    /// Nonce size (random nonces are safe at 192 bits).
    public static let nonceByteCount = 24
    /// Poly1305 tag size.
    public static let tagByteCount = 16

    /// Encrypts with a random nonce from `rng`.
    public static func seal(
        _ plaintext: [UInt8], key: SecretBytes, associatedData: [UInt8], using rng: inout some RandomByteGenerator
    ) throws(SecAggCryptoError) -> [UInt8] {
        let nonce = rng.bytes(count: nonceByteCount)
        return try seal(plaintext, key: key, nonce: nonce, associatedData: associatedData)
    }

    /// Encrypts with the given nonce (vectors and tests; never reuse a nonce under one key).
    public static func seal(
        _ plaintext: [UInt8], key: SecretBytes, nonce: [UInt8], associatedData: [UInt8]
    ) throws(SecAggCryptoError) -> [UInt8] {
        guard key.byteCount == keyByteCount else {
            throw .incorrectByteCount(actual: key.byteCount, expected: keyByteCount)
        }
        guard nonce.count == nonceByteCount else {
            throw .incorrectByteCount(actual: nonce.count, expected: nonceByteCount)
        }
        try Sodium.ensureInitialized()
        var out = nonce + [UInt8](repeating: 0, count: plaintext.count + tagByteCount)
        var produced: UInt64 = 0
        let status = key.withUnsafeBytes { k in
            out.withUnsafeMutableBufferPointer { o in
                crypto_aead_xchacha20poly1305_ietf_encrypt(
                    o.baseAddress.unsafelyUnwrapped + nonceByteCount, &produced,
                    plaintext, UInt64(plaintext.count), associatedData, UInt64(associatedData.count),
                    nil, nonce, k.bytePointer)
            }
        }
        guard status == 0 else {
            throw .underlyingSodiumError(function: "crypto_aead_xchacha20poly1305_ietf_encrypt", code: status)
        }
        return out
    }

    /// Decrypts a sealed box; any change to key, nonce, associated data or ciphertext fails.
    public static func open(
        _ sealedBox: [UInt8], key: SecretBytes, associatedData: [UInt8]
    ) throws(SecAggCryptoError) -> SecretBytes {
        guard key.byteCount == keyByteCount else {
            throw .incorrectByteCount(actual: key.byteCount, expected: keyByteCount)
        }
        let minimum = nonceByteCount + tagByteCount
        guard sealedBox.count >= minimum else {
            throw .invalidCiphertextByteCount(actual: sealedBox.count, minimum: minimum)
        }
        try Sodium.ensureInitialized()
        let plaintextCount = sealedBox.count - minimum
        var status: Int32 = 0
        let plaintext = SecretBytes(byteCount: plaintextCount) { out in
            key.withUnsafeBytes { k in
                sealedBox.withUnsafeBufferPointer { box in
                    let base = box.baseAddress.unsafelyUnwrapped
                    var produced: UInt64 = 0
                    status = crypto_aead_xchacha20poly1305_ietf_decrypt(
                        out.bytePointer, &produced, nil,
                        base + nonceByteCount, UInt64(box.count - nonceByteCount),
                        associatedData, UInt64(associatedData.count), base,
                        k.bytePointer)
                }
            }
        }
        guard status == 0 else { throw .authenticationFailure }
        return plaintext
    }
}
