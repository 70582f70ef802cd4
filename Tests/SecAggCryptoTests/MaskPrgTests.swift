import SecAggCrypto
import Testing

@Suite struct MaskPrgTests {
    private static func prg(_ label: String, stream: UInt32 = 0) throws -> MaskPrg {
        var rng = DeterministicRandomGenerator(testLabel: label)
        return try MaskPrg(seed: SecretBytes(randomByteCount: MaskPrg.seedByteCount, using: &rng), stream: stream)
    }

    @Test("a mask for (seed, m) is a prefix of the mask for (seed, m' > m)", arguments: sweepModuli)
    func prefixProperty(modulus: RingModulus) throws {
        let prg = try Self.prg("prefix \(modulus)")
        // 4097 crosses the 16 KiB chunk for 4-byte words; 2049 for 8-byte words; 9000 crosses several.
        let long = try prg.expand(count: 9000, modulus: modulus)
        for m in [0, 1, 15, 16, 17, 2048, 2049, 4095, 4096, 4097, 8999] {
            #expect(try prg.expand(count: m, modulus: modulus) == Array(long.prefix(m)), "m = \(m)")
        }
    }

    @Test("elements are in range and match the reference mapping", arguments: sweepModuli)
    func rangeAndReference(modulus: RingModulus) throws {
        let prg = try Self.prg("reference \(modulus)")
        let mask = try prg.expand(count: 5000, modulus: modulus)
        #expect(mask.allSatisfy { modulus.contains($0) })
        #expect(mask == (try referenceMask(prg: prg, count: 5000, modulus: modulus)))
        // Not a constant stream (b = 1 has only two values, still both must appear).
        #expect(Set(mask).count > 1)
    }

    @Test("rejection sampling: q = 3 keeps only words 0, 1, 2 of the 2-bit masked stream")
    func rejectionSmallModulus() throws {
        let prg = try Self.prg("rejection")
        let mask = try prg.expand(count: 1000, modulus: .integer(3))
        let stream = try prg.keystreamBytes(count: 4 * 4000)
        var expected: [UInt64] = []
        for i in stride(from: 0, to: stream.count, by: 4) where expected.count < 1000 {
            let word = UInt64(stream[i]) & 3  // the low 2 bits of the little-endian word live in byte 0
            if word < 3 { expected.append(word) }
        }
        #expect(mask == expected)
        let counts = Dictionary(grouping: mask, by: { $0 }).mapValues(\.count)
        #expect(counts.keys.sorted() == [0, 1, 2])
    }

    @Test("add then subtract is the identity", arguments: sweepModuli)
    func addSubtractIdentity(modulus: RingModulus) throws {
        let prg = try Self.prg("identity \(modulus)")
        var rng = DeterministicRandomGenerator(testLabel: "values \(modulus)")
        let original = (0..<6000).map { _ in modulus.reduce(rng.next(UInt64.self)) }
        var values = original
        try prg.add(into: &values, modulus: modulus)
        #expect(values != original)
        #expect(values.allSatisfy { modulus.contains($0) })
        // add must equal element-wise ring addition of the expanded mask.
        let mask = try prg.expand(count: original.count, modulus: modulus)
        #expect(values == zip(original, mask).map { modulus.add($0, $1) })
        try prg.subtract(from: &values, modulus: modulus)
        #expect(values == original)
        if modulus.elementBitWidth <= 32 {
            var narrow = original.map { UInt32($0) }
            try prg.add(into: &narrow, modulus: modulus)
            #expect(narrow.map { UInt64($0) } == zip(original, mask).map { modulus.add($0, $1) })
            try prg.subtract(from: &narrow, modulus: modulus)
            #expect(narrow.map { UInt64($0) } == original)
        }
    }

    @Test("random access: apply(elementOffset:) equals the prefix slice")
    func randomAccess() throws {
        let prg = try Self.prg("random access")
        for modulus in [
            RingModulus.powerOfTwo(bitWidth: 32), .powerOfTwo(bitWidth: 5), .powerOfTwo(bitWidth: 48),
            .integer(1 << 20),
        ] {
            let full = try prg.expand(count: 10_000, modulus: modulus)
            for (offset, length) in [(0, 10), (1, 100), (15, 2), (16, 4096), (4095, 4100), (4097, 17), (9_990, 10)] {
                var part = [UInt64](repeating: 0, count: length)
                try part.withUnsafeMutableBufferPointer { buffer in
                    try prg.apply(to: buffer, elementOffset: offset, modulus: modulus, subtract: false)
                }
                let matches = part == Array(full[offset..<(offset + length)])
                #expect(matches, "\(modulus) offset \(offset) length \(length)")
            }
        }
    }

    @Test("random access is refused for rejection sampling")
    func randomAccessRejection() throws {
        let prg = try Self.prg("no random access")
        var part = [UInt64](repeating: 0, count: 4)
        #expect(throws: SecAggCryptoError.self) {
            try part.withUnsafeMutableBufferPointer { buffer in
                try prg.apply(to: buffer, elementOffset: 1, modulus: .integer(1_000_003), subtract: false)
            }
        }
    }

    @Test("counter-space overflow is a typed error; the last element is at block 2^32 − 1")
    func counterSpace() throws {
        let prg = try Self.prg("counter")
        let modulus = RingModulus.powerOfTwo(bitWidth: 32)
        let maximum = MaskPrg.maximumElementCount(for: modulus)
        #expect(maximum == 1 << 36)
        #expect(MaskPrg.maximumElementCount(for: .powerOfTwo(bitWidth: 64)) == 1 << 35)
        #expect(MaskPrg.maximumElementCount(for: .integer(1_000_003)) == 1 << 35)
        var one: [UInt32] = [0]
        try one.withUnsafeMutableBufferPointer { buffer in
            // The very last element fits …
            try prg.apply(to: buffer, elementOffset: maximum - 1, modulus: modulus, subtract: false)
            // … one past it does not, nor does a negative or overflowing offset.
            for offset in [maximum, -1, Int.max] {
                #expect(
                    throws: SecAggCryptoError.maskLengthExceedsCounterSpace(
                        elementCount: offset == .max ? .max : offset &+ 1, maximum: maximum)
                ) {
                    try prg.apply(to: buffer, elementOffset: offset, modulus: modulus, subtract: false)
                }
            }
        }
        // The last element is word 15 of block 2^32 − 1.
        let lastBlock = try ChaCha20.keystream(
            key: Self.seed("counter"), nonce: prg.nonceBytes, initialCounter: UInt32.max, byteCount: 64)
        let word =
            UInt32(lastBlock[60]) | UInt32(lastBlock[61]) << 8 | UInt32(lastBlock[62]) << 16
            | UInt32(lastBlock[63]) << 24
        #expect(one == [word])
        // A buffer longer than the counter space is refused before any memory is touched, so the
        // pointer only needs to be valid, not that large.
        let tiny = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
        defer { tiny.deallocate() }
        let huge = UnsafeMutableBufferPointer(start: tiny, count: maximum + 1)
        #expect(throws: SecAggCryptoError.maskLengthExceedsCounterSpace(elementCount: maximum + 1, maximum: maximum)) {
            try prg.apply(to: huge, elementOffset: 0, modulus: modulus, subtract: false)
        }
        #expect(throws: SecAggCryptoError.self) { try prg.expand(count: -1, modulus: modulus) }
        #expect(throws: SecAggCryptoError.self) { try prg.keystreamBytes(count: -1) }
    }

    private static func seed(_ label: String) -> SecretBytes {
        var rng = DeterministicRandomGenerator(testLabel: label)
        return SecretBytes(randomByteCount: MaskPrg.seedByteCount, using: &rng)
    }

    @Test("invalid moduli and storage widths are typed errors")
    func invalidModuli() throws {
        let prg = try Self.prg("invalid")
        for modulus in [
            RingModulus.powerOfTwo(bitWidth: 0), .powerOfTwo(bitWidth: 65), .powerOfTwo(bitWidth: -3),
            .integer(0), .integer(1), .integer((1 << 62) + 1),
        ] {
            #expect(throws: SecAggCryptoError.self) { try modulus.validate() }
            var values: [UInt64] = [1, 2, 3]
            #expect(throws: SecAggCryptoError.self) { try prg.add(into: &values, modulus: modulus) }
            _ = modulus.elementMask  // total: must not trap on an invalid modulus
            _ = MaskPrg.maximumElementCount(for: modulus)
            _ = modulus.reduce(12345)
        }
        var narrow: [UInt32] = [1]
        #expect(throws: SecAggCryptoError.self) { try prg.add(into: &narrow, modulus: .powerOfTwo(bitWidth: 33)) }
        #expect(throws: SecAggCryptoError.incorrectByteCount(actual: 31, expected: 32)) {
            try MaskPrg(seed: SecretBytes(copying: [UInt8](repeating: 1, count: 31)))
        }
    }

    @Test("streams of one seed differ, and the nonce is LE32(stream) || 0^8")
    func streams() throws {
        let a = try Self.prg("streams", stream: 0)
        let b = try Self.prg("streams", stream: 0x0102_0304)
        #expect(b.nonceBytes == [4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(
            try a.expand(count: 64, modulus: .powerOfTwo(bitWidth: 32))
                != b.expand(count: 64, modulus: .powerOfTwo(bitWidth: 32)))
    }

    @Test("ChaCha20 keystream: RFC 8439 A.1 #1 and the counter limit")
    func chacha20() throws {
        let zero = SecretBytes(copying: [UInt8](repeating: 0, count: 32))
        let block = try ChaCha20.keystream(
            key: zero, nonce: [UInt8](repeating: 0, count: 12), initialCounter: 0, byteCount: 64)
        #expect(
            block
                == hex(
                    "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
                        + "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"))
        #expect(throws: SecAggCryptoError.self) {
            try ChaCha20.keystream(
                key: zero, nonce: [UInt8](repeating: 0, count: 12), initialCounter: .max, byteCount: 65)
        }
        #expect(throws: SecAggCryptoError.self) {
            try ChaCha20.keystream(key: zero, nonce: [UInt8](repeating: 0, count: 8), initialCounter: 0, byteCount: 1)
        }
        // Chunked generation across the 16 KiB boundary equals one long call started at a later counter.
        let long = try ChaCha20.keystream(
            key: zero, nonce: [UInt8](repeating: 7, count: 12), initialCounter: 5,
            byteCount: 40_000)
        let tail = try ChaCha20.keystream(
            key: zero, nonce: [UInt8](repeating: 7, count: 12), initialCounter: 261,
            byteCount: 40_000 - 256 * 64)
        #expect(Array(long[(256 * 64)...]) == tail)
    }

    @Test("the benchmark baseline produces the all-zero-key keystream")
    func rawBaseline() throws {
        var out = [UInt8](repeating: 0, count: 128)
        try out.withUnsafeMutableBytes { try MaskPrg.rawKeystreamBenchmark(into: $0) }
        let expected = try ChaCha20.keystream(
            key: SecretBytes(copying: [UInt8](repeating: 0, count: 32)), nonce: [UInt8](repeating: 0, count: 12),
            initialCounter: 0, byteCount: 128)
        #expect(out == expected)
    }
}
