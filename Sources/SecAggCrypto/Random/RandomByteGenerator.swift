internal import CSodiumShims

/// A source of random bytes. Every randomized API in this package takes one, defaulting to
/// ``SystemRandomGenerator``, so tests and vectors can inject ``DeterministicRandomGenerator``.
public protocol RandomByteGenerator {
    /// Fills `buffer` with random bytes.
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer)
}

extension RandomByteGenerator {
    /// The next `T`, read from `T.bitWidth / 8` bytes in little-endian order.
    public mutating func next<T: FixedWidthInteger & UnsignedInteger>(_: T.Type = T.self) -> T {
        var value: T = 0
        withUnsafeMutableBytes(of: &value) { fill($0) }
        return T(littleEndian: value)
    }

    /// `count` random bytes.
    public mutating func bytes(count: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        result.withUnsafeMutableBytes { fill($0) }
        return result
    }

    /// A uniform value in `0..<bound` (rejection sampling, no modulo bias). `bound` must be positive.
    public mutating func next(below bound: UInt64) -> UInt64 {
        guard bound > 1 else { return 0 }
        let bits = UInt64.bitWidth - (bound - 1).leadingZeroBitCount
        let mask: UInt64 = bits == 64 ? .max : (1 << UInt64(bits)) - 1
        while true {
            let candidate = next(UInt64.self) & mask
            if candidate < bound { return candidate }
        }
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double {
        Double(next(UInt64.self) >> 11) * 0x1p-53
    }
}

/// libsodium's CSPRNG (`randombytes_buf`).
public struct SystemRandomGenerator: RandomByteGenerator, Sendable {
    /// Creates a handle to the system CSPRNG.
    public init() {
        Sodium.initialize()
    }

    /// Fills `buffer` from `randombytes_buf`.
    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count > 0 else { return }
        CSodiumShims_randombytes(buffer.baseAddress, buffer.count)
    }
}

/// A seeded, reproducible generator for tests and known-answer vectors: the ChaCha20 (RFC 8439)
/// keystream for key = seed, nonce = ASCII "SecAgg-DRBG1", counter starting at 0, consumed byte by byte
/// (SPEC.md §2.3). Cryptographically strong, but never use a fixed seed outside tests.
public struct DeterministicRandomGenerator: RandomByteGenerator, @unchecked Sendable {
    /// The seed size in bytes.
    public static let seedByteCount = 32
    /// The 12-byte nonce, ASCII "SecAgg-DRBG1".
    public static let nonce: [UInt8] = Array("SecAgg-DRBG1".utf8)

    private let seed: SecretBytes
    private var block = [UInt8](repeating: 0, count: 64)
    private var blockOffset = 64
    private var counter: UInt32 = 0

    /// A generator from a 32-byte seed.
    public init(seed: [UInt8]) throws(SecAggCryptoError) {
        guard seed.count == Self.seedByteCount else {
            throw .incorrectByteCount(actual: seed.count, expected: Self.seedByteCount)
        }
        try Sodium.ensureInitialized()
        self.seed = SecretBytes(copying: seed)
    }

    /// A generator whose seed is `label` as UTF-8, zero-padded or
    /// truncated to 32 bytes. For tests only.
    public init(testLabel label: String) {
        var bytes = Array(label.utf8.prefix(32))
        bytes += [UInt8](repeating: 0, count: 32 - bytes.count)
        Sodium.initialize()
        seed = SecretBytes(copying: bytes)
    }

    /// Fills `buffer` with the next keystream bytes.
    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var written = 0
        while written < buffer.count {
            if blockOffset == 64 {
                refill()
            }
            let take = min(64 - blockOffset, buffer.count - written)
            for i in 0..<take {
                buffer[written + i] = block[blockOffset + i]
            }
            blockOffset += take
            written += take
        }
    }

    private mutating func refill() {
        let nonce = Self.nonce
        let counterValue = counter
        seed.withUnsafeBytes { key in
            block.withUnsafeMutableBytes { out in
                nonce.withUnsafeBytes { n in
                    // Cannot fail for a 64-byte request with valid key and nonce sizes.
                    _ = CSodiumShims_chacha20_ietf_keystream(
                        out.baseAddress, 64, n.baseAddress, counterValue, key.baseAddress)
                }
            }
        }
        counter &+= 1
        blockOffset = 0
    }
}
