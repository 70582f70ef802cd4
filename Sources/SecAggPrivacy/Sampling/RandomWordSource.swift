public import SecAggCrypto

/// A stream of uniform 64-bit words, consumed strictly in order. Every sampler of this module draws only
/// through ``nextWord()`` (SPEC.md §15.2), so the same stream gives the same samples in any implementation.
public protocol RandomWordSource {
    /// The next word: 8 bytes of the stream read as a little-endian integer.
    mutating func nextWord() -> UInt64
}

/// The noise stream of a client: the ChaCha20 keystream `DRBG(seed)` of SPEC.md §2.6 (key = seed, nonce
/// "SecAgg-DRBG1", counter from 0) read 8 bytes at a time, buffered in 16 KiB blocks (through the faster
/// keystream backend masks use, when the machine has one). It produces exactly the
/// words a ``DeterministicRandomGenerator`` with the same seed gives 8 bytes at a time, faster.
///
/// A class, so that copies share one position (a copy never replays noise), whose buffer of future noise
/// randomness is zeroed when it is released. Its state lives behind constant pointers, so reading a word
/// involves no dynamic exclusivity check.
public final class NoiseStream: RandomWordSource {
    /// Seed size in bytes.
    public static let seedByteCount = 32
    private static let blockWordCount = 2048

    private let key: SecretBytes
    private let context = KeystreamContext()
    private let words: UnsafeMutablePointer<UInt64>
    /// [0]: the next word's index in the buffer; [1]: the next block counter.
    private let state: UnsafeMutablePointer<Int>

    /// A stream from a 32-byte seed.
    public convenience init(seed: [UInt8]) throws(PrivacyError) {
        guard seed.count == Self.seedByteCount else {
            throw .invalidParameter(name: "seed", reason: "must be \(Self.seedByteCount) bytes, got \(seed.count)")
        }
        self.init(checkedSeed: SecretBytes(copying: seed))
    }

    /// A stream seeded with 32 bytes from `rng` (the system CSPRNG in production).
    public convenience init(using rng: inout some RandomByteGenerator) {
        var seed = rng.bytes(count: Self.seedByteCount)
        defer { for i in seed.indices { seed[i] = 0 } }
        self.init(checkedSeed: SecretBytes(copying: seed))
    }

    private init(checkedSeed: SecretBytes) {
        key = checkedSeed
        words = .allocate(capacity: Self.blockWordCount)
        words.initialize(repeating: 0, count: Self.blockWordCount)
        state = .allocate(capacity: 2)
        state[0] = Self.blockWordCount
        state[1] = 0
    }

    deinit {
        words.update(repeating: 0, count: Self.blockWordCount)
        words.deallocate()
        state.deallocate()
    }

    /// The next little-endian word of the keystream.
    @inline(__always)
    public func nextWord() -> UInt64 {
        var index = state[0]
        if index == Self.blockWordCount {
            refill()
            index = 0
        }
        state[0] = index + 1
        return UInt64(littleEndian: words[index])
    }

    private func refill() {
        let byteCount = Self.blockWordCount * 8
        // 256 blocks per refill; 2^32 blocks (256 GiB) are far beyond any use here.
        let buffer = UnsafeMutableRawBufferPointer(start: words, count: byteCount)
        let counter = UInt32(truncatingIfNeeded: state[1])
        if !context.fill(buffer, key: key, nonce: DeterministicRandomGenerator.nonce, initialCounter: counter) {
            // Cannot fail for these sizes; libsodium as a last resort rather than a trap.
            let bytes =
                (try? ChaCha20.keystream(
                    key: key, nonce: DeterministicRandomGenerator.nonce, initialCounter: counter, byteCount: byteCount))
                ?? [UInt8](repeating: 0, count: byteCount)
            buffer.copyBytes(from: bytes)
        }
        state[1] += byteCount / ChaCha20.blockByteCount
        state[0] = 0
    }
}

/// Words from any ``RandomByteGenerator``, 8 bytes at a time in order (for injected generators in tests).
public struct GeneratorWordSource<Generator: RandomByteGenerator>: RandomWordSource {
    /// The wrapped generator.
    public var generator: Generator

    /// Wraps `generator`.
    public init(_ generator: Generator) { self.generator = generator }

    /// The next 8 bytes as a little-endian word.
    public mutating func nextWord() -> UInt64 { generator.next(UInt64.self) }
}

// MARK: Exact uniform and Bernoulli draws (SPEC.md §15.2)

extension RandomWordSource {
    /// A uniform integer in 0..<n (n ≥ 1): 0 without a draw when n = 1; otherwise, with w = bitlen(n − 1),
    /// the low w bits of the next word until one is below n (the `below` of SPEC.md §2.6).
    @inline(__always)
    mutating func below(_ n: UInt64) -> UInt64 {
        if n <= 1 { return 0 }
        let bits = UInt64.bitWidth - (n - 1).leadingZeroBitCount
        let mask: UInt64 = bits == 64 ? .max : (1 << UInt64(bits)) - 1
        while true {
            let r = nextWord() & mask
            if r < n { return r }
        }
    }

    /// A uniform integer in 0..<n for n ≤ 2^128: one word when n ≤ 2^64 (as ``below(_:)``), else two words
    /// per attempt, low word first, masked to bitlen(n − 1) bits.
    @inline(__always)
    mutating func below128(_ n: UInt128) -> UInt128 {
        if n <= UInt128(UInt64.max) { return UInt128(below(UInt64(n))) }
        let bits = UInt128.bitWidth - (n - 1).leadingZeroBitCount
        let mask: UInt128 = bits == 128 ? .max : (1 << UInt128(bits)) - 1
        while true {
            let low = UInt128(nextWord())
            let high = UInt128(nextWord())
            let r = (high << 64 | low) & mask
            if r < n { return r }
        }
    }

    /// Bernoulli(exp(−1)): the loop of ``bernoulliExpMinus(_:_:)`` with γ = 1, where Bernoulli(1/K) is
    /// below(K) = 0.
    @inline(__always)
    mutating func bernoulliExpMinusOne() -> Bool {
        var k: UInt64 = 1
        while below(k) == 0 { k += 1 }
        return k & 1 == 1
    }

    /// Bernoulli(exp(−a/b)) for integers a ≥ 0, b ≥ 1 (Canonne, Kamath & Steinke 2020, Algorithm 1): first
    /// ⌊a/b⌋ draws of Bernoulli(exp(−1)), stopping at the first 0; then, with r = a mod b, K = 1 and repeat
    /// "A = Bernoulli(r/(bK)); if A, K += 1" until A = 0, and return K odd. Bernoulli(r/(bK)) is drawn as
    /// below(K) = 0 and then, only if so, below(b) < r (a uniform index below bK split into its quotient
    /// and remainder by b).
    @inline(__always)
    mutating func bernoulliExpMinus(_ a: UInt64, _ b: UInt64) -> Bool {
        let whole = a / b
        var i: UInt64 = 0
        while i < whole {
            if !bernoulliExpMinusOne() { return false }
            i += 1
        }
        return bernoulliExpMinusFraction(a % b, b)
    }

    /// Bernoulli(exp(−r/b)) for 0 ≤ r < b (the loop of ``bernoulliExpMinus(_:_:)``).
    @inline(__always)
    mutating func bernoulliExpMinusFraction(_ r: UInt64, _ b: UInt64) -> Bool {
        var k: UInt64 = 1
        while below(k) == 0 && below(b) < r { k += 1 }
        return k & 1 == 1
    }

    /// ``bernoulliExpMinus(_:_:)`` for 128-bit a and b (b ≥ 1).
    @inline(__always)
    mutating func bernoulliExpMinus(_ a: UInt128, _ b: UInt128) -> Bool {
        var r = a
        if a >= b {
            var whole = a / b
            r = a % b
            while whole > 0 {
                if !bernoulliExpMinusOne() { return false }
                whole -= 1
            }
        }
        var k: UInt64 = 1
        while below(k) == 0 && below128(b) < r { k += 1 }
        return k & 1 == 1
    }
}
