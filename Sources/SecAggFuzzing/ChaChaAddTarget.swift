internal import CSodium
internal import CSodiumShims
import SecAggCrypto

/// `chacha-add`: differential test of the fused AVX-512 ChaCha20-and-add kernel (`chacha20_add.c`)
/// against libsodium's keystream followed by a scalar addition written here (SPEC.md §4.3–§4.4).
///
/// Input layout (bytes past the end read as zero):
/// - byte 0, flags: bit 0 subtract; bit 1 8-byte words (raw path); bit 2 the path (0 = the C kernel
///   directly, 1 = `MaskPrg` with `MaskScratch(fusedKernel: .avx512)`); bit 3 (MaskPrg) the ring as `Z_q`
///   with q = 2^b; bits 4–5 the target fill (0 = the input's bytes as LE64 words, 1 = all ones, 2 = zeros,
///   3 = pseudo-random); bits 6–7 the counter mode (0 = as given, 1 = 2^32 − 1 − (c mod 1024), the end of
///   the counter space; 2 = c mod 4096; 3 = 2^32 − 16·(c mod 64), group boundaries at the end);
/// - byte 1: element bits b = 1 + byte mod 64 (mask 2^b − 1; MaskPrg: the ring 2^b, which also fixes the
///   word size);
/// - bytes 2..<4: element count, LE16 mod 1,400 (up to five groups of 256 and a partial one);
/// - bytes 4..<8: block counter c (MaskPrg: the block of the first element);
/// - byte 8: MaskPrg: the first element's word inside its block;
/// - bytes 9..<41: key (MaskPrg: seed); bytes 41..<53: nonce (MaskPrg: its first 4 bytes are the stream);
/// - the rest: target contents for fill mode 0, cycled (a pseudo-random fill when there are none).
///
/// Raw path: `CSodiumShims_chacha20_add(2, …)` must process exactly the whole groups of 16 blocks that fit
/// before block 2^32 (a prefix), leave the rest of the target untouched and match the reference on the
/// prefix. MaskPrg path: masks applied at that element offset (clamped to the end of the stream) through
/// the fused kernel, through the keystream backend alone, through the default generic entry point and,
/// for b ≤ 32, into 32-bit storage, all equal the reference.
enum ChaChaAddTarget {
    static let target = FuzzTarget(
        name: "chacha-add",
        summary: "fused AVX-512 ChaCha20-and-add (C kernel and MaskPrg) against libsodium keystream + add",
        requirement: requirement,
        run: run)

    static let level: Int32 = 2
    static let maximumCount = 1400

    static func requirement() -> Requirement {
        guard CSodiumShims_chacha20_add_level_available(level) == 0 else { return .met }
        if CPUFlags.current.contains("avx512f") {
            return .failedSelfTest(
                "the fused AVX-512 ChaCha20-and-add kernel FAILED its start-up self-test although the CPU has "
                    + "avx512f: that is a bug in chacha20_add.c")
        }
        return .unsupportedMachine(
            "the fused AVX-512 ChaCha20-and-add kernel is unavailable on this machine (CPU flag avx512f "
                + "required): the target would only compare libsodium with itself")
    }

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        let flags = input.byte()
        let subtract = flags & 1 != 0
        let wide = flags & 2 != 0
        let viaMaskPrg = flags & 4 != 0
        let integerRing = flags & 8 != 0
        let fill = (flags >> 4) & 3
        let counterMode = flags >> 6
        let bits = 1 + Int(input.byte() % 64)
        let count = Int(input.uint16()) % maximumCount
        let rawCounter = input.uint32()
        let counter: UInt32
        switch counterMode {
        case 0: counter = rawCounter
        case 1: counter = UInt32.max - rawCounter % 1024
        case 2: counter = rawCounter % 4096
        default: counter = UInt32(truncatingIfNeeded: (UInt64(1) << 32) - 16 * UInt64(rawCounter % 64))
        }
        let skipByte = input.byte()
        let key = input.bytes(32)
        let nonce = input.bytes(12)
        let contents = input.rest()
        var target = fillTarget(count, mode: fill, contents: contents, seed: UInt64(rawCounter) << 16 | UInt64(count))
        if viaMaskPrg {
            let modulus: RingModulus =
                integerRing && bits <= 62 ? .integer(1 << UInt64(bits)) : .powerOfTwo(bitWidth: bits)
            target = target.map { modulus.reduce($0) }
            checkMaskPrg(
                target, modulus: modulus, block: counter, skip: Int(skipByte), seed: key,
                stream: nonce.prefix(4).enumerated().reduce(UInt32(0)) {
                    $0 | UInt32($1.element) << (8 * UInt32($1.offset))
                },
                subtract: subtract)
        } else {
            let mask: UInt64 = bits == 64 ? .max : (1 << UInt64(bits)) - 1
            checkKernel(
                target, wordByteCount: wide ? 8 : 4, key: key, nonce: nonce, counter: counter, mask: mask,
                subtract: subtract)
        }
    }

    private static func fillTarget(_ count: Int, mode: UInt8, contents: [UInt8], seed: UInt64) -> [UInt64] {
        switch mode {
        case 1: return [UInt64](repeating: .max, count: count)
        case 2: return [UInt64](repeating: 0, count: count)
        default:
            var rng = SplitMix64(state: seed)
            guard mode == 0, contents.count >= 8 else { return (0..<count).map { _ in rng.next() } }
            let words = contents.count / 8
            return (0..<count).map { i in
                let start = (i % words) * 8
                return (0..<8).reduce(UInt64(0)) { $0 | UInt64(contents[start + $1]) << (8 * UInt64($1)) }
            }
        }
    }

    /// `bytes` keystream bytes from block `counter` (libsodium, zeros XORed with the keystream).
    static func keystream(key: [UInt8], nonce: [UInt8], counter: UInt32, byteCount: Int) -> [UInt8] {
        let zeros = [UInt8](repeating: 0, count: byteCount)
        var out = [UInt8](repeating: 0, count: byteCount)
        guard byteCount > 0 else { return out }
        guard crypto_stream_chacha20_ietf_xor_ic(&out, zeros, UInt64(byteCount), nonce, counter, key) == 0 else {
            violation("chacha-add", "libsodium refused a keystream request (reference bug)")
        }
        return out
    }

    /// (t ± w_i) & mask with w_i the little-endian words of `stream` starting at word `firstWord`.
    static func referenceAdd(
        _ target: [UInt64], stream: [UInt8], firstWord: Int, wordByteCount: Int, mask: UInt64, subtract: Bool
    ) -> [UInt64] {
        target.enumerated().map { i, t in
            let start = (firstWord + i) * wordByteCount
            var w: UInt64 = 0
            for j in 0..<wordByteCount { w |= UInt64(stream[start + j]) << (8 * UInt64(j)) }
            return (subtract ? t &- w : t &+ w) & mask
        }
    }

    // MARK: The C kernel

    private static func checkKernel(
        _ start: [UInt64], wordByteCount: Int, key: [UInt8], nonce: [UInt8], counter: UInt32, mask: UInt64,
        subtract: Bool
    ) {
        let count = start.count
        // An exact-size heap buffer, so that AddressSanitizer sees any write past `count`.
        let buffer = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: count)
        defer { buffer.deallocate() }
        _ = buffer.initialize(from: start)
        let processed = CSodiumShims_chacha20_add(
            level, buffer.baseAddress, count, Int32(wordByteCount), key, nonce, counter, mask, subtract ? 1 : 0)
        let result = Array(buffer.prefix(count))

        let blocksPerGroup = 16
        let elementsPerGroup = blocksPerGroup * 64 / wordByteCount
        let room = Int(((UInt64(1) << 32) - UInt64(counter)) / UInt64(blocksPerGroup))
        let expectedCount = min(count / elementsPerGroup, room) * elementsPerGroup
        guard processed == expectedCount else {
            violation(
                "chacha-add",
                "kernel processed \(processed) of \(count) elements (words of \(wordByteCount) bytes, counter \(counter)); whole groups before block 2^32: \(expectedCount)"
            )
        }
        guard result[processed...] == start[processed...] else {
            violation("chacha-add", "kernel wrote past the \(processed) elements it reported")
        }
        let stream = keystream(key: key, nonce: nonce, counter: counter, byteCount: processed * wordByteCount)
        let want = referenceAdd(
            Array(start.prefix(processed)), stream: stream, firstWord: 0, wordByteCount: wordByteCount, mask: mask,
            subtract: subtract)
        if let i = (0..<processed).first(where: { result[$0] != want[$0] }) {
            violation(
                "chacha-add",
                "kernel element \(i) of \(processed): \(result[i]), libsodium keystream + add: \(want[i]) (word \(wordByteCount) bytes, counter \(counter), mask 0x\(String(mask, radix: 16)), subtract \(subtract), key \(key.hexString), nonce \(nonce.hexString), target \(start[i]))"
            )
        }
    }

    // MARK: Through MaskPrg

    private static func checkMaskPrg(
        _ start: [UInt64], modulus: RingModulus, block: UInt32, skip: Int, seed: [UInt8], stream: UInt32,
        subtract: Bool
    ) {
        let count = start.count
        let wordByteCount = modulus.wordByteCount
        let wordsPerBlock = 64 / wordByteCount
        let maximum = MaskPrg.maximumElementCount(for: modulus)
        let offset = min(Int(block) * wordsPerBlock + skip % wordsPerBlock, maximum - count)

        let firstBlock = offset / wordsPerBlock
        let lastWord = offset + count
        let blocks = (lastWord + wordsPerBlock - 1) / wordsPerBlock - firstBlock
        var nonce: [UInt8] = (0..<4).map { UInt8(truncatingIfNeeded: stream >> (8 * UInt32($0))) }
        nonce += [UInt8](repeating: 0, count: 8)
        let keystreamBytes = keystream(key: seed, nonce: nonce, counter: UInt32(firstBlock), byteCount: blocks * 64)
        let want = referenceAdd(
            start, stream: keystreamBytes, firstWord: offset - firstBlock * wordsPerBlock,
            wordByteCount: wordByteCount, mask: modulus.elementMask, subtract: subtract)

        let prg: MaskPrg
        do {
            prg = try MaskPrg(seed: SecretBytes(copying: seed), stream: stream)
        } catch {
            violation("chacha-add", "MaskPrg refused a 32-byte seed: \(error)")
        }
        let fused = MaskScratch(fusedKernel: .avx512)
        guard fused.fusedKernel == .avx512 else {
            violation("chacha-add", "MaskScratch(fusedKernel: .avx512) dropped the kernel after the start-up check")
        }
        let paths: [(String, MaskScratch?)] = [
            ("fused kernel", fused), ("keystream backend \(MaskPrg.keystreamBackend)", MaskScratch(fusedKernel: nil)),
            ("generic entry point", nil),
        ]
        for (name, scratch) in paths {
            var out = start
            do {
                try out.withUnsafeMutableBufferPointer { (b) throws(SecAggCryptoError) in
                    if let scratch {
                        try prg.apply(
                            to: b, elementOffset: offset, modulus: modulus, subtract: subtract, scratch: scratch)
                    } else {
                        try prg.apply(to: b, elementOffset: offset, modulus: modulus, subtract: subtract)
                    }
                }
            } catch {
                violation(
                    "chacha-add",
                    "MaskPrg.apply (\(name)) refused offset \(offset), count \(count), \(modulus): \(error)")
            }
            report(out, want, path: name, offset: offset, modulus: modulus, subtract: subtract)
        }
        if modulus.elementBitWidth <= 32 {
            var narrow = start.map { UInt32(truncatingIfNeeded: $0) }
            do {
                try narrow.withUnsafeMutableBufferPointer { (b) throws(SecAggCryptoError) in
                    try prg.apply(to: b, elementOffset: offset, modulus: modulus, subtract: subtract)
                }
            } catch {
                violation("chacha-add", "MaskPrg.apply (32-bit storage) refused offset \(offset), \(modulus): \(error)")
            }
            report(
                narrow.map(UInt64.init), want, path: "32-bit storage", offset: offset, modulus: modulus,
                subtract: subtract)
        }
    }

    private static func report(
        _ got: [UInt64], _ want: [UInt64], path: String, offset: Int, modulus: RingModulus, subtract: Bool
    ) {
        guard let i = (0..<got.count).first(where: { got[$0] != want[$0] }) else { return }
        violation(
            "chacha-add",
            "MaskPrg (\(path)) element \(i) of \(got.count) at offset \(offset), \(modulus), subtract \(subtract): \(got[i]), libsodium keystream + add: \(want[i])"
        )
    }
}
