import SecAggCrypto
import SecureAggregation
import Testing

/// Reference packer: the little-endian integer Σ v_i · 2^(i·w), built one bit at a time.
private func referencePack(_ values: [UInt64], width: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: (values.count * width + 7) / 8)
    for (i, v) in values.enumerated() {
        for j in 0..<width where (v >> UInt64(j)) & 1 == 1 {
            let bit = i * width + j
            out[bit / 8] |= UInt8(1) << UInt8(bit % 8)
        }
    }
    return out
}

private func randomElements(_ count: Int, modulus: RingModulus, rng: inout some RandomByteGenerator) -> [UInt64] {
    (0..<count).map { _ in
        guard let r = modulus.modulusValue else { return rng.next(UInt64.self) }
        return rng.next(below: r)
    }
}

private let testModuli: [RingModulus] =
    (1...64).map { RingModulus.powerOfTwo(bitWidth: $0) } + [
        .integer(2), .integer(3), .integer(255), .integer(257), .integer(65_521), .integer(1_000_003),
        .integer((1 << 32) - 5), .integer((1 << 61) - 1), .integer(1 << 62), .integer((1 << 62) - 57),
    ]

@Test func packMatchesBitwiseReference() throws {
    var rng = DeterministicRandomGenerator(testLabel: "packing-reference")
    for modulus in testModuli {
        for count in [0, 1, 2, 7, 8, 9, 63, 64, 65, 100] {
            let values = randomElements(count, modulus: modulus, rng: &rng)
            let packed = try BitPacking.pack(values, modulus: modulus)
            #expect(packed == referencePack(values, width: modulus.elementBitWidth), "\(modulus) n=\(count)")
            #expect(packed.count == BitPacking.packedByteCount(count: count, modulus: modulus))
            #expect(try BitPacking.unpack(packed, count: count, modulus: modulus) == values)
            // Slices and other collections decode the same.
            #expect(try BitPacking.unpack(([0xAA] + packed)[1...], count: count, modulus: modulus) == values)
        }
    }
}

@Test func packIntoAppends() throws {
    let modulus = RingModulus.powerOfTwo(bitWidth: 13)
    var out: [UInt8] = [1, 2, 3]
    try BitPacking.pack([1, 8191, 4096], modulus: modulus, into: &out)
    #expect(out == [1, 2, 3] + referencePack([1, 8191, 4096], width: 13))
    // A failing append leaves the buffer unchanged.
    let before = out
    #expect(throws: BitPackingError.elementOutOfRange(index: 1, modulus: modulus)) {
        try BitPacking.pack([0, 8192], modulus: modulus, into: &out)
    }
    #expect(out == before)
}

@Test func packRejectsNonCanonicalElements() {
    for modulus in [RingModulus.powerOfTwo(bitWidth: 8), .powerOfTwo(bitWidth: 20), .integer(1_000_003)] {
        let r = modulus.modulusValue ?? 0
        #expect(throws: BitPackingError.elementOutOfRange(index: 2, modulus: modulus)) {
            try BitPacking.pack([0, r - 1, r, 0], modulus: modulus)
        }
    }
    #expect(throws: BitPackingError.self) { try BitPacking.pack([1], modulus: .powerOfTwo(bitWidth: 65)) }
}

@Test func unpackIsStrict() throws {
    let m13 = RingModulus.powerOfTwo(bitWidth: 13)
    let packed = try BitPacking.pack([1, 2, 3], modulus: m13)  // 39 bits → 5 bytes, 1 padding bit
    #expect(packed.count == 5)
    #expect(throws: BitPackingError.packedByteCountMismatch(actual: 6, expected: 5)) {
        try BitPacking.unpack(packed + [0], count: 3, modulus: m13)
    }
    #expect(throws: BitPackingError.packedByteCountMismatch(actual: 4, expected: 5)) {
        try BitPacking.unpack(packed.dropLast(), count: 3, modulus: m13)
    }
    var padded = packed
    padded[4] |= 0x80
    #expect(throws: BitPackingError.nonzeroPadding) { try BitPacking.unpack(padded, count: 3, modulus: m13) }
    #expect(throws: BitPackingError.invalidElementCount(count: -1)) {
        try BitPacking.unpack([], count: -1, modulus: m13)
    }
    // Z_q: 20-bit slots can hold values ≥ q, which must be rejected.
    let q = RingModulus.integer(1_000_003)
    let bad = referencePack([5, 1_000_003, 7], width: 20)
    #expect(throws: BitPackingError.elementOutOfRange(index: 1, modulus: q)) {
        try BitPacking.unpack(bad, count: 3, modulus: q)
    }
    let bad32 = referencePack([UInt64((1 << 32) - 1)], width: 32)
    let q32 = RingModulus.integer((1 << 32) - 5)
    #expect(throws: BitPackingError.elementOutOfRange(index: 0, modulus: q32)) {
        try BitPacking.unpack(bad32, count: 1, modulus: q32)
    }
}

@Test func packedByteCountEdges() {
    #expect(BitPacking.packedByteCount(count: 0, modulus: .powerOfTwo(bitWidth: 7)) == 0)
    #expect(BitPacking.packedByteCount(count: -3, modulus: .powerOfTwo(bitWidth: 7)) == 0)
    #expect(BitPacking.packedByteCount(count: 3, modulus: .powerOfTwo(bitWidth: 7)) == 3)
    #expect(BitPacking.packedByteCount(count: 100_000, modulus: .integer(1_000_003)) == 250_000)
    #expect(BitPacking.packedByteCount(count: Int.max, modulus: .powerOfTwo(bitWidth: 64)) == Int.max)
}
