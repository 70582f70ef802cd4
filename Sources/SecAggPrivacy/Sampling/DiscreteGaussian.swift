public import SecAggCrypto

/// ⌊√n⌋ for any 64-bit n.
func integerSquareRoot(_ n: UInt64) -> UInt64 {
    var r = UInt64(Double(n).squareRoot())
    while r > 0, r.multipliedReportingOverflow(by: r).overflow || r * r > n { r -= 1 }
    while case let (square, overflow) = (r + 1).multipliedReportingOverflow(by: r + 1), !overflow, square <= n {
        r += 1
    }
    return r
}

extension RandomWordSource {
    /// The discrete Laplace distribution with integer scale t ≥ 1, P[x] ∝ e^(−|x|/t) (Canonne, Kamath &
    /// Steinke 2020, Algorithm 2; SPEC.md §15.2): repeat { U = below(t); if not Bernoulli(exp(−U/t)), again;
    /// V = the number of Bernoulli(exp(−1)) successes before the first failure; X = U + t·V;
    /// B = (below(2) = 0); if B and X = 0, again; return B ? −X : X }.
    @inline(__always)
    mutating func discreteLaplace(scale t: UInt64) throws(PrivacyError) -> Int64 {
        // X = U + tV stays below 2^62: V beyond this cap has probability e^(−cap) < e^(−2^30).
        let cap = ((UInt64(1) << 62) - t) / t
        while true {
            let u = below(t)
            if !bernoulliExpMinusFraction(u, t) { continue }
            var v: UInt64 = 0
            while bernoulliExpMinusOne() {
                v += 1
                if v > cap { throw .samplerRangeExceeded(sampler: "discrete Laplace") }
            }
            let x = u + t * v
            let negative = below(2) == 0
            if negative && x == 0 { continue }
            return negative ? -Int64(x) : Int64(x)
        }
    }
}

/// The discrete Gaussian N_Z(0, σ²), P[x] ∝ e^(−x²/(2σ²)) on the integers, with σ² = numerator /
/// denominator, sampled exactly (Canonne, Kamath & Steinke 2020, Algorithm 3; SPEC.md §15.3): with
/// t = ⌊σ⌋ + 1, repeat { Y = discrete Laplace(t); accept with probability exp(−(|Y| − σ²/t)² / (2σ²)) }.
/// Integer arithmetic only; the acceptance exponent (|Y|·t·den − num)² / (2·num·t²·den) is exact.
public struct DiscreteGaussianSampler: Hashable, Sendable {
    /// The largest σ² numerator (σ ≤ 2^28 at denominator 1); the exponent's denominator then fits 128 bits.
    public static let maximumNumerator: UInt64 = 1 << 56
    /// The largest σ² denominator.
    public static let maximumDenominator: UInt64 = 1 << 32

    /// σ² numerator.
    public let numerator: UInt64
    /// σ² denominator.
    public let denominator: UInt64
    /// t = ⌊σ⌋ + 1.
    let laplaceScale: UInt64
    /// 2·num·t²·den.
    let exponentDenominator: UInt128

    /// N_Z(0, numerator / denominator).
    public init(numerator: UInt64, denominator: UInt64) throws(PrivacyError) {
        guard numerator >= 1, numerator <= Self.maximumNumerator else {
            throw .invalidParameter(name: "σ² numerator", reason: "must be in 1...2^56, got \(numerator)")
        }
        guard denominator >= 1, denominator <= Self.maximumDenominator else {
            throw .invalidParameter(name: "σ² denominator", reason: "must be in 1...2^32, got \(denominator)")
        }
        self.numerator = numerator
        self.denominator = denominator
        let t = integerSquareRoot(numerator / denominator) + 1
        laplaceScale = t
        exponentDenominator = 2 * UInt128(numerator) * UInt128(t) * UInt128(t) * UInt128(denominator)
    }

    /// σ² as a Float64 (reporting only).
    public var variance: Double { Double(numerator) / Double(denominator) }

    /// One sample.
    public func sample(using source: inout some RandomWordSource) throws(PrivacyError) -> Int64 {
        try draw(from: &source)
    }

    /// One sample from a noise stream (the same as the generic form; specialized for speed).
    public func sample(using source: inout NoiseStream) throws(PrivacyError) -> Int64 {
        try draw(from: &source)
    }

    @inline(__always)
    func draw<Source: RandomWordSource>(from source: inout Source) throws(PrivacyError) -> Int64 {
        let t = laplaceScale
        while true {
            let y = try source.discreteLaplace(scale: t)
            let magnitude = y.magnitude
            let (p1, o1) = magnitude.multipliedReportingOverflow(by: t)
            let (p2, o2) = p1.multipliedReportingOverflow(by: denominator)
            if !o1 && !o2 {
                let difference = p2 >= numerator ? p2 - numerator : numerator - p2
                let (high, low) = difference.multipliedFullWidth(by: difference)
                let square = UInt128(high) << 64 | UInt128(low)
                if source.bernoulliExpMinus(square, exponentDenominator) { return y }
            } else if try acceptWide(magnitude, using: &source) {
                return y
            }
        }
    }

    /// The acceptance test when |Y|·t·den does not fit 64 bits (|Y| > 2^63 / (t·den) ≥ 128σ: probability
    /// below e^(−8000) per proposal), in arbitrary precision.
    func acceptWide(_ magnitude: UInt64, using source: inout some RandomWordSource)
        throws(PrivacyError) -> Bool
    {
        let product = BigUInt(magnitude) * BigUInt(laplaceScale) * BigUInt(denominator)
        let difference = product - BigUInt(numerator)  // product ≥ 2^64 > numerator
        let (whole, remainder) = (difference * difference).quotientAndRemainder(
            dividingBy: BigUInt(uint128: exponentDenominator))
        var count = BigUInt.zero
        while count < whole {
            if !source.bernoulliExpMinusOne() { return false }
            count = count + BigUInt.one
        }
        guard let r = remainder.uint128Value else { throw .samplerRangeExceeded(sampler: "discrete Gaussian") }
        return source.bernoulliExpMinus(r, exponentDenominator)
    }

    /// `count` samples.
    public func samples(count: Int, using source: inout some RandomWordSource) throws(PrivacyError) -> [Int64] {
        var out = [Int64](repeating: 0, count: max(0, count))
        for i in out.indices { out[i] = try sample(using: &source) }
        return out
    }

    /// One sample from any byte generator (8 bytes per word, in order).
    public func sample(using rng: inout some RandomByteGenerator) throws(PrivacyError) -> Int64 {
        var source = GeneratorWordSource(rng)
        defer { rng = source.generator }
        return try sample(using: &source)
    }

    /// One sample from the system CSPRNG (through a freshly seeded ``NoiseStream``).
    public func sample() throws(PrivacyError) -> Int64 {
        var system = SystemRandomGenerator()
        var stream = NoiseStream(using: &system)
        return try sample(using: &stream)
    }
}
