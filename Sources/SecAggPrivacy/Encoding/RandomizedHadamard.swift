import SecAggCrypto

/// The randomized Hadamard rotation of SPEC.md §15.5: pad x ∈ R^d with zeros to D = 2^k ≥ d, flip the sign
/// of coordinate i when bit i of the sign stream is 1, apply the Walsh–Hadamard transform and multiply by
/// 2^(−k/2). The map is orthogonal (it preserves L2 norms) and its own inverse up to the signs, so the
/// server undoes it on the aggregate; it spreads a vector's energy evenly over the coordinates, which keeps
/// every coordinate of the sum small (KLS 2021, Lemma 29).
///
/// The sign stream is `DRBG(seed)` (SPEC.md §2.6) read as ⌈D/64⌉ little-endian words, bit i of the vector
/// being bit i mod 64 of word ⌊i/64⌋; the seed is public, derived from the session id
/// (``rotationSeed(sessionID:)``). Float64 operations are in a fixed order so that every implementation gets
/// the same bits: signs, then the butterflies (for h = 1, 2, 4, …: for each block start s, for j in
/// s ..< s + h: (a, b) ← (a + b, a − b)), then one multiplication by fl(√½)·2^(−⌊k/2⌋) (k odd) or 2^(−k/2).
public enum RandomizedHadamard {
    /// The label of the rotation seed.
    public static let seedLabel = Array("secagg/v1/dp-rotation".utf8)

    /// The public rotation seed of a session: SHA-256("secagg/v1/dp-rotation" || sessionId).
    public static func rotationSeed(sessionID: [UInt8]) -> [UInt8] {
        Hkdf.sha256(seedLabel + sessionID)
    }

    /// D = the least power of two ≥ max(d, 1).
    public static func paddedDimension(for dimension: Int) -> Int {
        var padded = 1
        while padded < dimension { padded <<= 1 }
        return padded
    }

    /// The ⌈D/64⌉ sign words.
    static func signWords(seed: [UInt8], count: Int) throws(PrivacyError) -> [UInt64] {
        let stream = try NoiseStream(seed: seed)
        return (0..<((count + 63) / 64)).map { _ in stream.nextWord() }
    }

    /// fl(√½)·2^(−⌊k/2⌋) or 2^(−k/2): the normalization of a transform of length 2^k.
    static func normalization(paddedDimension: Int) -> Double {
        let k = paddedDimension.trailingZeroBitCount
        let power = Double(sign: .plus, exponent: -(k / 2), significand: 1)
        return k % 2 == 1 ? 0x1.6a09e667f3bcdp-1 * power : power
    }

    /// The unnormalized Walsh–Hadamard transform in place (the length must be a power of two).
    package static func transform(_ values: inout [Double]) {
        let count = values.count
        values.withUnsafeMutableBufferPointer { v in
            var h = 1
            while h < count {
                var start = 0
                while start < count {
                    for j in start..<(start + h) {
                        let a = v[j]
                        let b = v[j + h]
                        v[j] = a + b
                        v[j + h] = a - b
                    }
                    start += 2 * h
                }
                h <<= 1
            }
        }
    }

    /// The unnormalized Walsh–Hadamard transform of integers in place: applying it twice multiplies by D
    /// exactly (callers keep |values| · D below 2^63).
    package static func transform(_ values: inout [Int64]) {
        let count = values.count
        var h = 1
        while h < count {
            var start = 0
            while start < count {
                for j in start..<(start + h) {
                    let a = values[j]
                    let b = values[j + h]
                    values[j] = a + b
                    values[j + h] = a - b
                }
                start += 2 * h
            }
            h <<= 1
        }
    }

    /// The rotation of `values` (padded to D = ``paddedDimension(for:)``) under `seed`.
    public static func rotate(_ values: [Double], seed: [UInt8]) throws(PrivacyError) -> [Double] {
        let padded = paddedDimension(for: values.count)
        var v = values + [Double](repeating: 0, count: padded - values.count)
        let words = try signWords(seed: seed, count: padded)
        for i in 0..<padded where (words[i >> 6] >> UInt64(i & 63)) & 1 == 1 { v[i] = -v[i] }
        transform(&v)
        let scale = normalization(paddedDimension: padded)
        for i in 0..<padded { v[i] *= scale }
        return v
    }

    /// The inverse rotation of a D-vector under `seed`, truncated to its first `dimension` coordinates:
    /// the transform, the normalization, then the signs.
    public static func inverse(_ values: [Double], dimension: Int, seed: [UInt8]) throws(PrivacyError) -> [Double] {
        let padded = values.count
        guard padded >= 1, padded & (padded - 1) == 0, dimension <= padded, dimension >= 0 else {
            throw .vectorLengthMismatch(actual: values.count, expected: paddedDimension(for: dimension))
        }
        var v = values
        transform(&v)
        let scale = normalization(paddedDimension: padded)
        let words = try signWords(seed: seed, count: padded)
        for i in 0..<padded {
            v[i] *= scale
            if (words[i >> 6] >> UInt64(i & 63)) & 1 == 1 { v[i] = -v[i] }
        }
        return Array(v.prefix(dimension))
    }
}
