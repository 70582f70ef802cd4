internal import CSodium

/// Ed25519 signatures (RFC 8032) over libsodium's `crypto_sign_*`, for the active-adversary variant.
public enum Ed25519 {
    /// Public key size.
    public static let publicKeyByteCount = 32
    /// Seed (private key) size.
    public static let seedByteCount = 32
    /// Signature size.
    public static let signatureByteCount = 64

    /// A signing key; its seed and expanded secret are zeroised when released.
    public struct PrivateKey: Sendable {
        let secretKey: SecretBytes  // libsodium's 64-byte seed || public key form
        /// The verification key.
        public let publicKey: PublicKey

        /// A fresh key from the system CSPRNG.
        public init() {
            var rng = SystemRandomGenerator()
            self.init(using: &rng)
        }

        /// A key whose 32-byte seed comes from `rng`.
        public init(using rng: inout some RandomByteGenerator) {
            let seed = SecretBytes(randomByteCount: Ed25519.seedByteCount, using: &rng)
            self.init(validSeed: seed)
        }

        /// A key from its 32-byte seed.
        public init(seed: SecretBytes) throws(SecAggCryptoError) {
            guard seed.byteCount == Ed25519.seedByteCount else {
                throw .incorrectByteCount(actual: seed.byteCount, expected: Ed25519.seedByteCount)
            }
            try Sodium.ensureInitialized()
            self.init(validSeed: seed)
        }

        private init(validSeed seed: SecretBytes) {
            Sodium.initialize()
            var publicBytes = [UInt8](repeating: 0, count: Ed25519.publicKeyByteCount)
            secretKey = SecretBytes(byteCount: 64) { sk in
                seed.withUnsafeBytes { s in
                    _ = crypto_sign_seed_keypair(
                        &publicBytes, sk.bytePointer,
                        s.bytePointer)
                }
            }
            publicKey = PublicKey(unchecked: publicBytes)
        }

        /// The detached 64-byte signature of `message`.
        public func signature(for message: [UInt8]) -> [UInt8] {
            var signature = [UInt8](repeating: 0, count: Ed25519.signatureByteCount)
            secretKey.withUnsafeBytes { sk in
                _ = crypto_sign_detached(
                    &signature, nil, message, UInt64(message.count), sk.bytePointer)
            }
            return signature
        }
    }

    /// A verification key.
    public struct PublicKey: Hashable, Sendable {
        /// The 32 encoded bytes.
        public let rawRepresentation: [UInt8]

        /// Decodes a key (length only; libsodium rejects small-order and non-canonical keys at verification).
        public init(rawRepresentation: [UInt8]) throws(SecAggCryptoError) {
            guard rawRepresentation.count == Ed25519.publicKeyByteCount else {
                throw .incorrectByteCount(actual: rawRepresentation.count, expected: Ed25519.publicKeyByteCount)
            }
            self.rawRepresentation = rawRepresentation
        }

        init(unchecked bytes: [UInt8]) {
            rawRepresentation = bytes
        }

        /// True when `signature` is a valid signature of `message` under this key.
        public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
            guard signature.count == Ed25519.signatureByteCount else { return false }
            Sodium.initialize()
            return crypto_sign_verify_detached(signature, message, UInt64(message.count), rawRepresentation) == 0
        }

        /// Throws ``SecAggCryptoError/invalidSignature`` unless the signature verifies.
        public func verify(_ signature: [UInt8], for message: [UInt8]) throws(SecAggCryptoError) {
            guard isValidSignature(signature, for: message) else { throw .invalidSignature }
        }
    }
}
