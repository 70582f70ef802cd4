internal import CSodiumShims

/// The mask PRG: ChaCha20 (RFC 8439) keystream from a 32-byte seed, mapped to ring elements
/// (SPEC.md §4). It streams: masks of any length are produced through one 16 KiB keystream chunk, and
/// adding or subtracting the mask in place is the primary API.
///
/// Mapping: the keystream (key = seed, nonce = LE32(stream) || 0^8, block counter from 0) is read as
/// little-endian words of ``RingModulus/wordByteCount`` bytes; each word is masked to
/// ``RingModulus/elementBitWidth`` bits; for Z_{2^b} every masked word is the next element, for Z_q a
/// masked word ≥ q is discarded (rejection sampling) and the next word is tried.
public struct MaskPrg: Sendable {
    /// Seed size in bytes.
    public static let seedByteCount = 32
    /// Keystream chunk size: fits in L1 and is a whole number of ChaCha20 blocks.
    public static let chunkByteCount = 16_384
    /// ChaCha20 block size.
    public static let blockByteCount = 64
    /// Blocks available to one (seed, stream): the 32-bit RFC 8439 counter.
    public static let maximumBlockCount: UInt64 = 1 << 32

    /// The largest element count any modulus supports in one stream: 2^38 bytes of keystream, and
    /// at most half of it for rejection sampling so that exhausting the counter is out of reach.
    public static func maximumElementCount(for modulus: RingModulus) -> Int {
        let bytes = Int(maximumBlockCount) * blockByteCount
        let words = bytes / modulus.wordByteCount
        return modulus.isPowerOfTwo ? words : words / 2
    }

    private let seed: SecretBytes
    private let nonce: [UInt8]

    /// A PRG for `seed` (32 bytes) on stream `stream` (distinct streams of one seed are independent).
    public init(seed: SecretBytes, stream: UInt32 = 0) throws(SecAggCryptoError) {
        guard seed.byteCount == Self.seedByteCount else {
            throw .incorrectByteCount(actual: seed.byteCount, expected: Self.seedByteCount)
        }
        try Sodium.ensureInitialized()
        self.seed = seed
        var nonce: [UInt8] = []
        appendLittleEndian(stream, to: &nonce)
        nonce += [UInt8](repeating: 0, count: 8)
        self.nonce = nonce
    }

    /// The 12-byte nonce this PRG uses.
    public var nonceBytes: [UInt8] { nonce }

    // MARK: Primary API

    /// buffer[i] = buffer[i] + mask[i] (mod R) for i in 0..<buffer.count.
    public func add<S: MaskScalar>(into buffer: inout [S], modulus: RingModulus) throws(SecAggCryptoError) {
        try buffer.withUnsafeMutableBufferPointer { (b) throws(SecAggCryptoError) in
            try apply(to: b, elementOffset: 0, modulus: modulus, subtract: false)
        }
    }

    /// buffer[i] = buffer[i] − mask[i] (mod R) for i in 0..<buffer.count.
    public func subtract<S: MaskScalar>(from buffer: inout [S], modulus: RingModulus) throws(SecAggCryptoError) {
        try buffer.withUnsafeMutableBufferPointer { (b) throws(SecAggCryptoError) in
            try apply(to: b, elementOffset: 0, modulus: modulus, subtract: true)
        }
    }

    /// The first `count` mask elements.
    public func expand(count: Int, modulus: RingModulus) throws(SecAggCryptoError) -> [UInt64] {
        try modulus.validate()
        let maximum = Self.maximumElementCount(for: modulus)
        guard count >= 0, count <= maximum else {
            throw .maskLengthExceedsCounterSpace(elementCount: count, maximum: maximum)
        }
        var out = [UInt64](repeating: 0, count: count)
        try add(into: &out, modulus: modulus)
        return out
    }

    /// Adds (or subtracts) mask elements `elementOffset ..< elementOffset + buffer.count` into `buffer`.
    /// Random access works for Z_{2^b} and power-of-two q (element i sits at keystream byte
    /// i · wordByteCount), which lets callers split long vectors across cores; rejection sampling is
    /// sequential, so for other q the offset must be 0.
    public func apply<S: MaskScalar>(
        to buffer: UnsafeMutableBufferPointer<S>, elementOffset: Int, modulus: RingModulus, subtract: Bool
    ) throws(SecAggCryptoError) {
        try modulus.validate()
        guard modulus.elementBitWidth <= S.bitWidth else {
            throw .invalidModulus(description: "\(modulus) elements do not fit in \(S.bitWidth)-bit storage")
        }
        let maximum = Self.maximumElementCount(for: modulus)
        guard elementOffset >= 0, buffer.count <= maximum, elementOffset <= maximum - buffer.count else {
            // Saturating: an offset near Int.max must produce this error, not an overflow trap.
            let (end, overflow) = elementOffset.addingReportingOverflow(buffer.count)
            throw .maskLengthExceedsCounterSpace(elementCount: overflow ? .max : end, maximum: maximum)
        }
        guard buffer.count > 0 else { return }
        // Callers in other modules reach this unspecialized (the function is generic and not inlinable):
        // hand the hot loops concrete element types so they are compiled without generic dispatch
        // (an unspecialized loop runs an order of magnitude slower than the keystream).
        if let words = buffer as? UnsafeMutableBufferPointer<UInt32> {
            try applyValidated(to: words, elementOffset: elementOffset, modulus: modulus, subtract: subtract)
        } else if let words = buffer as? UnsafeMutableBufferPointer<UInt64> {
            try applyValidated(to: words, elementOffset: elementOffset, modulus: modulus, subtract: subtract)
        } else {
            try applyValidated(to: buffer, elementOffset: elementOffset, modulus: modulus, subtract: subtract)
        }
    }

    /// ``apply(to:elementOffset:modulus:subtract:)`` into 64-bit storage with a caller-owned keystream
    /// buffer: the form for hot loops that apply thousands of masks to cache-sized tiles (no generic
    /// dispatch, no allocation per call). Same validation, same output.
    public func apply(
        to buffer: UnsafeMutableBufferPointer<UInt64>, elementOffset: Int, modulus: RingModulus, subtract: Bool,
        scratch: MaskScratch
    ) throws(SecAggCryptoError) {
        try modulus.validate()
        let maximum = Self.maximumElementCount(for: modulus)
        guard elementOffset >= 0, buffer.count <= maximum, elementOffset <= maximum - buffer.count else {
            let (end, overflow) = elementOffset.addingReportingOverflow(buffer.count)
            throw .maskLengthExceedsCounterSpace(elementCount: overflow ? .max : end, maximum: maximum)
        }
        guard buffer.count > 0 else { return }
        try applyValidated(
            to: buffer, elementOffset: elementOffset, modulus: modulus, subtract: subtract, scratch: scratch)
    }

    /// ``apply(to:elementOffset:modulus:subtract:)`` after validation.
    private func applyValidated<S: MaskScalar>(
        to buffer: UnsafeMutableBufferPointer<S>, elementOffset: Int, modulus: RingModulus, subtract: Bool
    ) throws(SecAggCryptoError) {
        try applyValidated(
            to: buffer, elementOffset: elementOffset, modulus: modulus, subtract: subtract, scratch: MaskScratch())
    }

    /// The mapping itself, through the scratch's keystream buffer and backend context.
    @inline(__always)
    private func applyValidated<S: MaskScalar>(
        to buffer: UnsafeMutableBufferPointer<S>, elementOffset: Int, modulus: RingModulus, subtract: Bool,
        scratch: MaskScratch
    ) throws(SecAggCryptoError) {
        let chunk = scratch.pointer
        let context = scratch.context
        let maximum = Self.maximumElementCount(for: modulus)
        if modulus.isPowerOfTwo {
            let fused = S.self == UInt64.self ? scratch.fusedKernel : nil
            if modulus.wordByteCount == 4 {
                applyPowerOfTwo(
                    UInt32.self, to: buffer, elementOffset: elementOffset, modulus: modulus, subtract, chunk: chunk,
                    context: context, fused: fused)
            } else {
                applyPowerOfTwo(
                    UInt64.self, to: buffer, elementOffset: elementOffset, modulus: modulus, subtract, chunk: chunk,
                    context: context, fused: fused)
            }
        } else {
            guard elementOffset == 0 else {
                throw .invalidModulus(description: "rejection sampling for \(modulus) has no random access")
            }
            guard case let .integer(q) = modulus else { return }
            let ok =
                modulus.wordByteCount == 4
                ? applyRejection(
                    UInt32.self, to: buffer, q: q, mask: modulus.elementMask, subtract, chunk: chunk, context: context)
                : applyRejection(
                    UInt64.self, to: buffer, q: q, mask: modulus.elementMask, subtract, chunk: chunk, context: context)
            guard ok else { throw .maskLengthExceedsCounterSpace(elementCount: buffer.count, maximum: maximum) }
        }
    }

    // MARK: Keystream

    /// Writes `byteCount` keystream bytes starting at block `counter` into `out`, through the scratch's
    /// backend context (nil: libsodium).
    @inline(__always)
    private func keystream(
        into out: UnsafeMutableRawPointer, byteCount: Int, counter: UInt32, context: UnsafeMutableRawPointer?
    ) {
        seed.withUnsafeBytes { key in
            nonce.withUnsafeBytes { n in
                // Cannot fail: key and nonce sizes are fixed and the counter range was checked.
                _ = CSodiumShims_chacha20_ietf_keystream_with(
                    context, out, byteCount, n.baseAddress, counter, key.baseAddress)
            }
        }
    }

    /// The keystream implementation masks use: "openssl" when libcrypto's ChaCha20 was found at run time
    /// and passed the start-up self-test against libsodium (same RFC 8439 keystream, faster on AVX-512 and
    /// AVX2 machines), else "libsodium". `SECAGG_PRG_BACKEND=libsodium` forces libsodium. Masks of
    /// power-of-two rings in 64-bit storage go through ``MaskScratch/FusedKernel/preferred`` when there is
    /// one and use this backend only for what the kernel leaves (partial groups of blocks).
    public static var keystreamBackend: String {
        CSodiumShims_fast_chacha20_available() != 0 ? "openssl" : "libsodium"
    }

    /// ``keystreamBackend`` with the fused kernel in front when there is one, e.g. "avx512+openssl".
    public static var maskBackend: String {
        MaskScratch.FusedKernel.preferred.map { "\($0)+\(keystreamBackend)" } ?? keystreamBackend
    }

    /// Turns the faster backend off (or back on, if it is available) for the whole process: for tests and
    /// benchmarks that compare the two. Outputs never depend on it.
    package static func setFastKeystreamBackend(enabled: Bool) {
        CSodiumShims_fast_chacha20_set_disabled(enabled ? 0 : 1)
    }

    /// Benchmark: fills `buffer` with keystream through the backend masks use (see ``keystreamBackend``),
    /// all-zero key and nonce; the counterpart of ``rawKeystreamBenchmark(into:)``.
    package static func rawBackendKeystreamBenchmark(into buffer: UnsafeMutableRawBufferPointer, scratch: MaskScratch)
        throws(SecAggCryptoError)
    {
        try Sodium.ensureInitialized()
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        let status = CSodiumShims_fast_chacha20_stream(scratch.context, base, buffer.count)
        guard status == 0 else { throw .underlyingSodiumError(function: "chacha20 keystream", code: status) }
    }

    /// Raw keystream bytes (for tests and vectors): `byteCount` bytes from block 0.
    /// Throws for a negative count or one beyond the 2^38-byte counter space.
    package func keystreamBytes(count byteCount: Int) throws(SecAggCryptoError) -> [UInt8] {
        try ChaCha20.keystream(key: seed, nonce: nonce, initialCounter: 0, byteCount: byteCount)
    }

    /// Benchmark baseline: fills `buffer` with libsodium's `crypto_stream_chacha20_ietf` (fixed all-zero
    /// key and nonce), the fastest way libsodium produces the same number of keystream bytes.
    package static func rawKeystreamBenchmark(into buffer: UnsafeMutableRawBufferPointer) throws(SecAggCryptoError) {
        try Sodium.ensureInitialized()
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        let status = CSodiumShims_chacha20_ietf_stream(base, buffer.count)
        guard status == 0 else {
            throw .underlyingSodiumError(function: "crypto_stream_chacha20_ietf", code: status)
        }
    }

    private func applyPowerOfTwo<W: MaskScalar, S: MaskScalar>(
        _: W.Type, to buffer: UnsafeMutableBufferPointer<S>, elementOffset: Int, modulus: RingModulus,
        _ subtract: Bool, chunk raw: UnsafeMutableRawPointer, context: UnsafeMutableRawPointer?,
        fused: MaskScratch.FusedKernel?
    ) {
        let wordByteCount = MemoryLayout<W>.size
        let wordsPerChunk = Self.chunkByteCount / wordByteCount
        let wordsPerBlock = Self.blockByteCount / wordByteCount
        let chunk = raw.bindMemory(to: W.self, capacity: MaskScratch.byteCount / MemoryLayout<W>.size)
        let mask = S(truncatingIfNeeded: modulus.elementMask)
        var done = 0
        let total = buffer.count
        while done < total {
            // Whole groups of blocks from a block boundary: keystream and addition fused in SIMD registers
            // (64-bit storage only; the caller passes nil otherwise). The rest goes through the chunk below.
            if let fused, (elementOffset + done) % wordsPerBlock == 0 {
                let start = elementOffset + done
                let processed = seed.withUnsafeBytes { key in
                    nonce.withUnsafeBytes { n in
                        CSodiumShims_chacha20_add(
                            fused.rawValue,
                            UnsafeMutableRawPointer(buffer.baseAddress.unsafelyUnwrapped + done)
                                .assumingMemoryBound(to: UInt64.self),
                            total - done, Int32(wordByteCount), key.baseAddress, n.baseAddress,
                            UInt32(truncatingIfNeeded: start / wordsPerBlock), modulus.elementMask, subtract ? 1 : 0)
                    }
                }
                done += processed
                if done == total { break }
            }
            // Each chunk starts at the block holding its first element and skips the words before it.
            // Recomputed from the absolute position every time: with a mid-block offset a chunk ends
            // mid-block, and the next chunk must start in that same block, not the one after it.
            let position = elementOffset + done
            let counter = UInt32(truncatingIfNeeded: position / wordsPerBlock)
            let skip = position % wordsPerBlock
            // With a fused kernel, a mid-block start only runs to the block boundary, where the kernel resumes.
            let take = min(fused != nil && skip != 0 ? wordsPerBlock - skip : wordsPerChunk, total - done)
            let words = take + skip
            let blocks = (words + wordsPerBlock - 1) / wordsPerBlock
            keystream(into: chunk, byteCount: blocks * Self.blockByteCount, counter: counter, context: context)
            let source = chunk + skip
            let target = buffer.baseAddress.unsafelyUnwrapped + done
            #if _endian(little)
                // 64-bit storage (the engine's): the vectorized C loop.
                if S.self == UInt64.self {
                    let out = UnsafeMutableRawPointer(target).assumingMemoryBound(to: UInt64.self)
                    if W.self == UInt32.self {
                        let words = UnsafeRawPointer(source).assumingMemoryBound(to: UInt32.self)
                        CSodiumShims_mask_add_words32(out, words, take, modulus.elementMask, subtract ? 1 : 0)
                    } else {
                        let words = UnsafeRawPointer(source).assumingMemoryBound(to: UInt64.self)
                        CSodiumShims_mask_add_words64(out, words, take, modulus.elementMask, subtract ? 1 : 0)
                    }
                    done += take
                    continue
                }
            #endif
            if subtract {
                for i in 0..<take {
                    target[i] = (target[i] &- S(truncatingIfNeeded: W(littleEndian: source[i]))) & mask
                }
            } else {
                for i in 0..<take {
                    target[i] = (target[i] &+ S(truncatingIfNeeded: W(littleEndian: source[i]))) & mask
                }
            }
            done += take
        }
    }

    private func applyRejection<W: MaskScalar, S: MaskScalar>(
        _: W.Type, to buffer: UnsafeMutableBufferPointer<S>, q: UInt64, mask: UInt64, _ subtract: Bool,
        chunk raw: UnsafeMutableRawPointer, context: UnsafeMutableRawPointer?
    ) -> Bool {
        let wordsPerChunk = Self.chunkByteCount / MemoryLayout<W>.size
        let chunk = raw.bindMemory(to: W.self, capacity: MaskScratch.byteCount / MemoryLayout<W>.size)
        let blocksPerChunk = UInt64(Self.chunkByteCount / Self.blockByteCount)
        let wordMask = W(truncatingIfNeeded: mask)
        let qw = W(truncatingIfNeeded: q)
        let qs = S(truncatingIfNeeded: q)
        var counter: UInt64 = 0
        var done = 0
        let total = buffer.count
        let target = buffer.baseAddress.unsafelyUnwrapped
        while done < total {
            guard counter + blocksPerChunk <= Self.maximumBlockCount else { return false }
            keystream(
                into: chunk, byteCount: Self.chunkByteCount, counter: UInt32(truncatingIfNeeded: counter),
                context: context)
            counter += blocksPerChunk
            var i = 0
            while i < wordsPerChunk && done < total {
                let candidate = W(littleEndian: chunk[i]) & wordMask
                i += 1
                if candidate < qw {
                    let m = S(truncatingIfNeeded: candidate)
                    let x = target[done]
                    if subtract {
                        target[done] = x >= m ? x &- m : x &+ (qs &- m)
                    } else {
                        // In 64 bits: x + m can exceed the storage width when q > 2^31.
                        let s = UInt64(x) &+ UInt64(m)
                        target[done] = S(truncatingIfNeeded: s >= q ? s &- q : s)
                    }
                    done += 1
                }
            }
        }
        return true
    }
}

/// A keystream buffer for ``MaskPrg/apply(to:elementOffset:modulus:subtract:scratch:)``: one per thread,
/// reused across calls, zeroised when released (it holds keystream, i.e. mask material).
public final class MaskScratch {
    /// Bytes held: one keystream chunk plus one block (a chunk may start mid-block).
    public static let byteCount = MaskPrg.chunkByteCount + MaskPrg.blockByteCount

    /// A SIMD kernel that computes ChaCha20 blocks side by side and adds the words straight into 64-bit
    /// storage, so that the keystream never goes through memory (power-of-two rings). Each is used only
    /// when the CPU has it and it reproduced libsodium's keystream in a start-up self-test.
    public enum FusedKernel: Int32, Sendable, CaseIterable, CustomStringConvertible {
        /// 16 blocks at a time in 512-bit registers (x86-64 with AVX-512F).
        case avx512 = 2

        /// "avx512".
        public var description: String { "avx512" }

        /// Whether this machine can use the kernel (supported and self-tested).
        public var isAvailable: Bool { CSodiumShims_chacha20_add_level_available(rawValue) != 0 }

        /// The kernels this machine can use.
        public static var available: [FusedKernel] { allCases.filter(\.isAvailable) }

        /// What ``MaskScratch/init()`` picks: the best available kernel, nil when the faster paths are off
        /// (`SECAGG_PRG_BACKEND=libsodium` or `openssl`, ``MaskPrg/setFastKeystreamBackend(enabled:)``).
        public static var preferred: FusedKernel? { FusedKernel(rawValue: CSodiumShims_chacha20_add_default_level()) }
    }

    let pointer: UnsafeMutableRawPointer
    /// This thread's context of the faster keystream backend (nil: libsodium).
    let context: UnsafeMutableRawPointer?
    /// The fused kernel masks into 64-bit storage use (nil: keystream into the buffer, then add).
    public let fusedKernel: FusedKernel?

    /// Allocates the buffer (and a backend context when the faster backend is available); uses the
    /// preferred fused kernel.
    public convenience init() {
        self.init(fusedKernel: FusedKernel.preferred)
    }

    /// Allocates the buffer and uses `fusedKernel` (if it is available; nil or unavailable: none). Outputs
    /// never depend on the choice; tests and benchmarks compare them.
    public init(fusedKernel: FusedKernel?) {
        pointer = .allocate(byteCount: Self.byteCount, alignment: 64)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: Self.byteCount)
        context = CSodiumShims_fast_chacha20_context_new()
        self.fusedKernel = fusedKernel.flatMap { $0.isAvailable ? $0 : nil }
    }

    deinit {
        CSodiumShims_memzero(pointer, Self.byteCount)
        pointer.deallocate()
        CSodiumShims_fast_chacha20_context_free(context)
    }
}
