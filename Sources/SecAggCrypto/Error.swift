/// Errors thrown by the primitives module. Payloads never carry secret material.
public enum SecAggCryptoError: Error, Hashable, Sendable {
    /// AEAD decryption failed: wrong key, nonce, associated data, or a modified ciphertext.
    case authenticationFailure
    /// The requested HKDF output is longer than 255 · 32 bytes.
    case hkdfOutputTooLong(requested: Int, maximum: Int)
    /// Shares come from polynomials of different shapes, or more than t shares disagree.
    case inconsistentShares
    /// Two shares have the same x-coordinate.
    case duplicateShareIndex(index: UInt32)
    /// A key or byte string had the wrong length.
    case incorrectByteCount(actual: Int, expected: Int)
    /// A ciphertext is shorter than nonce plus tag.
    case invalidCiphertextByteCount(actual: Int, minimum: Int)
    /// A modulus or bit width outside the supported range.
    case invalidModulus(description: String)
    /// An X25519 public key of low order: the shared secret would be all zeros.
    case invalidPublicKey
    /// A signature that does not verify (or a malformed signing key).
    case invalidSignature
    /// A Shamir share value is not a field element (≥ p).
    case invalidShareValue(index: UInt32)
    /// Threshold must satisfy 1 ≤ t ≤ number of shares.
    case invalidThreshold(threshold: Int, shareCount: Int)
    /// The element count needs more keystream than one (seed, stream) pair provides (2^32 blocks).
    case maskLengthExceedsCounterSpace(elementCount: Int, maximum: Int)
    /// A Merkle tree (SPEC.md §2.7) needs 1 ≤ n ≤ 2^24 slots.
    case merkleSlotCountOutOfRange(slotCount: Int, maximum: Int)
    /// Fewer shares than the threshold.
    case notEnoughShares(count: Int, threshold: Int)
    /// libsodium could not be initialised.
    case sodiumInitializationFailed
    /// A libsodium call returned an unexpected failure code.
    case underlyingSodiumError(function: String, code: Int32)
    /// x = 0 is the secret's own coordinate and may never be a share index.
    case zeroShareIndex
}

extension SecAggCryptoError: CustomStringConvertible {
    /// A one-line description without secrets.
    public var description: String {
        switch self {
        case .authenticationFailure:
            "authentication failed (wrong key, nonce, associated data or tampered ciphertext)"
        case let .hkdfOutputTooLong(requested, maximum):
            "HKDF output of \(requested) bytes requested; maximum is \(maximum)"
        case .inconsistentShares:
            "the shares are not all points of one polynomial (mixed or corrupted shares)"
        case let .duplicateShareIndex(index):
            "duplicate share index \(index)"
        case let .incorrectByteCount(actual, expected):
            "expected \(expected) bytes, got \(actual)"
        case let .invalidCiphertextByteCount(actual, minimum):
            "ciphertext of \(actual) bytes is shorter than the minimum \(minimum)"
        case let .invalidModulus(description):
            "invalid modulus: \(description)"
        case .invalidPublicKey:
            "invalid X25519 public key (low order: all-zero shared secret)"
        case .invalidSignature:
            "invalid signature"
        case let .invalidShareValue(index):
            "share \(index) holds a value outside the field"
        case let .invalidThreshold(threshold, shareCount):
            "threshold \(threshold) is invalid for \(shareCount) shares"
        case let .maskLengthExceedsCounterSpace(elementCount, maximum):
            "mask of \(elementCount) elements exceeds the ChaCha20 counter space (maximum \(maximum))"
        case let .merkleSlotCountOutOfRange(slotCount, maximum):
            "a Merkle tree needs between 1 and \(maximum) slots, got \(slotCount)"
        case let .notEnoughShares(count, threshold):
            "\(count) shares are fewer than the threshold \(threshold)"
        case .sodiumInitializationFailed:
            "libsodium could not be initialised"
        case let .underlyingSodiumError(function, code):
            "libsodium \(function) failed with code \(code)"
        case .zeroShareIndex:
            "share index 0 is not allowed"
        }
    }
}
