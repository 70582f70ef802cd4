import SecAggCrypto

/// Decodes lowercase or uppercase hex; test inputs are literals, so a bad digit yields an empty array
/// (and the test that uses it fails).
func hex(_ string: String) -> [UInt8] {
    let digits = Array(string.utf8)
    guard digits.count % 2 == 0 else { return [] }
    var out: [UInt8] = []
    out.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
        guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return [] }
        out.append(high << 4 | low)
        index += 2
    }
    return out
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// Every modulus kind the mask tests sweep: small, odd and full bit widths, and non-power-of-two q
/// with 4-byte and 8-byte words (plus a power-of-two q, which takes the random-access path).
let sweepModuli: [RingModulus] = [
    .powerOfTwo(bitWidth: 1), .powerOfTwo(bitWidth: 8), .powerOfTwo(bitWidth: 13), .powerOfTwo(bitWidth: 31),
    .powerOfTwo(bitWidth: 32), .powerOfTwo(bitWidth: 33), .powerOfTwo(bitWidth: 48), .powerOfTwo(bitWidth: 64),
    .integer(3), .integer(1_000_003), .integer((1 << 32) - 5), .integer((1 << 61) - 1), .integer(1 << 62),
    .integer((1 << 62) - 57),
]

/// A reference model of the mask mapping written straight from SPEC.md §4, over the raw keystream:
/// little-endian words, masked to the element bit width, rejected when ≥ q.
func referenceMask(prg: MaskPrg, count: Int, modulus: RingModulus) throws -> [UInt64] {
    let wordByteCount = modulus.wordByteCount
    var out: [UInt64] = []
    var byteCount = max(64, count * wordByteCount * 2 + 64)
    while true {
        let stream = try prg.keystreamBytes(count: byteCount)
        out.removeAll()
        var offset = 0
        while out.count < count, offset + wordByteCount <= stream.count {
            var word: UInt64 = 0
            for k in stride(from: wordByteCount - 1, through: 0, by: -1) {
                word = word << 8 | UInt64(stream[offset + k])
            }
            offset += wordByteCount
            let candidate = word & modulus.elementMask
            if modulus.contains(candidate) { out.append(candidate) }
        }
        if out.count == count { return out }
        byteCount *= 2
    }
}
