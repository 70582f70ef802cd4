internal import CSodium
internal import CSodiumShims

/// X25519 key agreement (RFC 7748) over libsodium's `crypto_scalarmult`.
public enum X25519 {
    /// Bytes in a key or shared secret.
    public static let keyByteCount = 32

    /// A private key; its bytes are zeroised when released.
    public struct PrivateKey: Sendable {
        let secret: SecretBytes

        /// The matching public key.
        public let publicKey: PublicKey

        /// A fresh key from the system CSPRNG.
        public init() {
            var rng = SystemRandomGenerator()
            self.init(using: &rng)
        }

        /// A key drawn from `rng` (32 bytes; clamping is applied by the scalar multiplication).
        public init(using rng: inout some RandomByteGenerator) {
            let secret = SecretBytes(randomByteCount: X25519.keyByteCount, using: &rng)
            // A 32-byte scalar always yields a public key; the base point is not low order.
            self.init(validatedSecret: secret)
        }

        /// A key from its 32-byte representation.
        public init(rawRepresentation: SecretBytes) throws(SecAggCryptoError) {
            guard rawRepresentation.byteCount == X25519.keyByteCount else {
                throw .incorrectByteCount(actual: rawRepresentation.byteCount, expected: X25519.keyByteCount)
            }
            try Sodium.ensureInitialized()
            self.init(validatedSecret: rawRepresentation)
        }

        private init(validatedSecret secret: SecretBytes) {
            Sodium.initialize()
            self.secret = secret
            var publicBytes = [UInt8](repeating: 0, count: X25519.keyByteCount)
            secret.withUnsafeBytes { s in
                publicBytes.withUnsafeMutableBufferPointer { p in
                    _ = crypto_scalarmult_base(p.baseAddress.unsafelyUnwrapped, s.bytePointer)
                }
            }
            publicKey = PublicKey(unchecked: publicBytes)
        }

        /// The 32-byte private scalar (secret).
        public var rawRepresentation: SecretBytes { secret }

        /// The shared secret X25519(self, peer). Throws ``SecAggCryptoError/invalidPublicKey`` when the
        /// result is all zeros (a low-order peer key), as RFC 7748 §6.1 allows and our protocol requires.
        public func sharedSecret(with peer: PublicKey) throws(SecAggCryptoError) -> SharedSecret {
            var status: Int32 = 0
            let shared = SecretBytes(byteCount: X25519.keyByteCount) { out in
                secret.withUnsafeBytes { s in
                    status = crypto_scalarmult(out.bytePointer, s.bytePointer, peer.rawRepresentation)
                }
            }
            guard status == 0 else { throw .invalidPublicKey }
            return SharedSecret(secret: shared)
        }

        /// X25519(self, peer) for every peer, in order: the values ``sharedSecret(with:)`` gives one by
        /// one, and the same error for the first low-order peer. With ``X25519/BatchBackend/avx512ifma``
        /// (the default where it is preferred, see ``X25519/batchBackend``) the agreements run eight at a
        /// time in SIMD lanes: one private key, many peers, as for a client and its neighbours or the
        /// server and a dropped client's neighbours. An unavailable backend falls back to libsodium.
        public func sharedSecrets(with peers: [PublicKey], backend: BatchBackend = X25519.batchBackend)
            throws(SecAggCryptoError) -> [SharedSecret]
        {
            guard peers.count > 1, backend == .avx512ifma, CSodiumShims_x25519_batch_available() != 0 else {
                return try peers.map { (peer) throws(SecAggCryptoError) in try sharedSecret(with: peer) }
            }
            let n = X25519.keyByteCount
            var points = [UInt8]()
            points.reserveCapacity(n * peers.count)
            for peer in peers { points += peer.rawRepresentation }
            // Every output passes through this buffer: zeroised before it is released.
            let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: n * peers.count, alignment: 16)
            defer {
                sodium_memzero(raw.baseAddress, raw.count)
                raw.deallocate()
            }
            let status = secret.withUnsafeBytes { s in
                points.withUnsafeBytes { p in
                    CSodiumShims_x25519_batch(raw.baseAddress, s.baseAddress, p.baseAddress, peers.count)
                }
            }
            guard status == 0 else {
                return try peers.map { (peer) throws(SecAggCryptoError) in try sharedSecret(with: peer) }
            }
            var out: [SharedSecret] = []
            out.reserveCapacity(peers.count)
            for i in 0..<peers.count {
                let start = raw.baseAddress.unsafelyUnwrapped + i * n
                // All zeros: a low-order peer (libsodium's crypto_scalarmult fails on exactly these).
                guard sodium_is_zero(start.assumingMemoryBound(to: UInt8.self), n) == 0 else {
                    throw .invalidPublicKey
                }
                out.append(
                    SharedSecret(
                        secret: SecretBytes(byteCount: n) { dst in
                            dst.baseAddress.unsafelyUnwrapped.copyMemory(from: start, byteCount: n)
                        }))
            }
            return out
        }
    }

    /// An implementation of ``PrivateKey/sharedSecrets(with:backend:)``.
    public enum BatchBackend: String, Sendable, CaseIterable, CustomStringConvertible {
        /// Eight agreements at a time with AVX-512 IFMA (x86-64), usable only after a start-up self-test
        /// reproduced libsodium on the RFC 7748 vector and on random and edge-case points.
        case avx512ifma
        /// libsodium's `crypto_scalarmult`, one agreement at a time.
        case libsodium

        /// The raw value.
        public var description: String { rawValue }

        /// Whether this machine can run it.
        public var isAvailable: Bool { self == .libsodium || CSodiumShims_x25519_batch_available() != 0 }
    }

    /// The default backend of ``PrivateKey/sharedSecrets(with:backend:)``: AVX-512 IFMA where it is
    /// available, in optimized builds (unoptimized, it runs ten times slower than libsodium) and unless
    /// `SECAGG_X25519_BACKEND=libsodium`; otherwise libsodium.
    public static var batchBackend: BatchBackend {
        CSodiumShims_x25519_batch_preferred() != 0 ? .avx512ifma : .libsodium
    }

    /// A public key: 32 bytes, the u-coordinate in little-endian order (RFC 7748 §5).
    public struct PublicKey: Hashable, Sendable {
        /// The encoded key.
        public let rawRepresentation: [UInt8]

        /// Decodes a public key; only the length is checked here (low-order keys are rejected at key
        /// agreement, where the all-zero result is detected).
        public init(rawRepresentation: [UInt8]) throws(SecAggCryptoError) {
            guard rawRepresentation.count == X25519.keyByteCount else {
                throw .incorrectByteCount(actual: rawRepresentation.count, expected: X25519.keyByteCount)
            }
            self.rawRepresentation = rawRepresentation
        }

        init(unchecked bytes: [UInt8]) {
            rawRepresentation = bytes
        }

        /// True when every agreement with this key gives the all-zero secret: u (top bit ignored, RFC 7748 §5) is
        /// the coordinate of a point of order dividing 8 on the curve or 4 on the twist: 0, 1, p − 1, the two
        /// points of order 8, or the aliases p and p + 1 (the list libsodium rejects). A clamped scalar is a
        /// multiple of 8 below the large prime factor of either group's order, so the result is zero for exactly
        /// these (the tests check the equivalence against libsodium). Public data: not constant time.
        public var hasSmallOrder: Bool {
            X25519.smallOrderCoordinates.contains { blocked in
                blocked.indices.allSatisfy { i in
                    (i == 31 ? rawRepresentation[i] & 0x7f : rawRepresentation[i]) == blocked[i]
                }
            }
        }
    }

    /// The u-coordinates of small order, little-endian, top bit clear (see ``PublicKey/hasSmallOrder``).
    static let smallOrderCoordinates: [[UInt8]] = {
        let p: [UInt8] = [0xed] + [UInt8](repeating: 0xff, count: 30) + [0x7f]
        var pMinusOne = p
        pMinusOne[0] = 0xec
        var pPlusOne = p
        pPlusOne[0] = 0xee
        return [
            [UInt8](repeating: 0, count: 32),
            [1] + [UInt8](repeating: 0, count: 31),
            [
                0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
                0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
            ],
            [
                0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
                0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57,
            ],
            pMinusOne, p, pPlusOne,
        ]
    }()

    /// The raw X25519 output. Never use it directly as a key: derive keys with ``Hkdf``.
    public struct SharedSecret: Sendable, Equatable {
        /// The 32 secret bytes.
        public let secret: SecretBytes

        /// Derives a key with HKDF-SHA256 (``Hkdf/deriveKey(inputKeyMaterial:salt:info:outputByteCount:)``).
        public func hkdfDerivedKey(salt: [UInt8], info: [UInt8], outputByteCount: Int) throws(SecAggCryptoError)
            -> SecretBytes
        {
            try Hkdf.deriveKey(inputKeyMaterial: secret, salt: salt, info: info, outputByteCount: outputByteCount)
        }
    }
}
