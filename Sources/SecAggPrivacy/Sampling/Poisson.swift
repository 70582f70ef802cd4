public import SecAggCrypto

/// The Poisson distribution with rate λ = numerator / denominator, sampled exactly (SPEC.md §15.4): with
/// m = ⌊λ⌋ and f = λ − m, a sample is P_m + (the number of successes of Bernoulli(f) in P_1 trials), where
/// P_m and P_1 are exact samples of Poisson(m) and Poisson(1) (Poisson thinning).
///
/// Poisson(m) for an integer m ≥ 1 is a rejection sampler around the mode: with t = ⌊√m⌋ + 1, propose
/// k = m + Y with Y from the discrete Laplace(t) and accept with probability exp(−D), where
/// D = ln(p(m)/p(k)) − |Y|/t + 1/2 + 1/t ≥ 0 for every k (proof in SPEC.md §15.4). D is irrational for
/// Y ≠ 0; it is compared with the uniform bits of the acceptance test through rigorous enclosures: a
/// Float64 one almost always, and arbitrary-precision ones (Stirling's series with exact Bernoulli numbers,
/// ``ExactLogarithm``) when the bits fall within 2^−40 of D. No floating-point value decides an outcome.
public struct PoissonSampler: Hashable, Sendable {
    /// The largest rate, 2^55.
    public static let maximumRate: UInt64 = 1 << 55
    /// The largest rate denominator.
    public static let maximumDenominator: UInt64 = 1 << 32

    /// λ numerator.
    public let numerator: UInt64
    /// λ denominator.
    public let denominator: UInt64
    let integerPart: PoissonMode?
    let fraction: UInt64
    let unit: PoissonMode
    /// Testing: every irrational acceptance skips the Float64 enclosure and uses the arbitrary-precision
    /// path of SPEC.md §15.4. The samples are identical, only slower.
    package var usesExactEnclosureOnly = false

    /// Poisson(numerator / denominator), rate in 0...2^55.
    public init(numerator: UInt64, denominator: UInt64) throws(PrivacyError) {
        guard denominator >= 1, denominator <= Self.maximumDenominator else {
            throw .invalidParameter(name: "λ denominator", reason: "must be in 1...2^32, got \(denominator)")
        }
        guard numerator / denominator < Self.maximumRate else {
            throw .invalidParameter(name: "λ", reason: "must be below 2^55, got \(numerator)/\(denominator)")
        }
        self.numerator = numerator
        self.denominator = denominator
        let whole = numerator / denominator
        integerPart = whole >= 1 ? PoissonMode(whole) : nil
        fraction = numerator % denominator
        unit = PoissonMode(1)
    }

    /// λ as a Float64 (reporting only).
    public var rate: Double { Double(numerator) / Double(denominator) }

    /// One sample: Poisson(m) first, then Poisson(1) and its Bernoulli(f) coins (below(den) < f·den).
    public func sample(using source: inout some RandomWordSource) throws(PrivacyError) -> Int64 {
        try draw(from: &source)
    }

    /// One sample from a noise stream (the same as the generic form; specialized for speed).
    public func sample(using source: inout NoiseStream) throws(PrivacyError) -> Int64 {
        try draw(from: &source)
    }

    @inline(__always)
    func draw<Source: RandomWordSource>(from source: inout Source) throws(PrivacyError) -> Int64 {
        var x: Int64 = 0
        if let integerPart { x = try integerPart.sample(using: &source, exactOnly: usesExactEnclosureOnly) }
        if fraction > 0 {
            let trials = try unit.sample(using: &source, exactOnly: usesExactEnclosureOnly)
            var i: Int64 = 0
            while i < trials {
                if source.below(denominator) < fraction { x += 1 }
                i += 1
            }
        }
        return x
    }

    /// One sample from any byte generator (8 bytes per word, in order).
    public func sample(using rng: inout some RandomByteGenerator) throws(PrivacyError) -> Int64 {
        var source = GeneratorWordSource(rng)
        defer { rng = source.generator }
        return try sample(using: &source)
    }
}

/// The symmetric Skellam distribution Sk(λ, λ): the difference of two independent Poisson(λ) samples
/// (the first minus the second, drawn in that order). Variance 2λ; sums of independent Skellam variables
/// are Skellam with the rates added (Agarwal, Kairouz & Liu 2021).
public struct SkellamSampler: Hashable, Sendable {
    /// The Poisson sampler of each side.
    public let poisson: PoissonSampler

    /// Sk(λ, λ) with λ = numerator / denominator.
    public init(numerator: UInt64, denominator: UInt64) throws(PrivacyError) {
        poisson = try PoissonSampler(numerator: numerator, denominator: denominator)
    }

    /// The variance 2λ (reporting only).
    public var variance: Double { 2 * poisson.rate }

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
        let first = try poisson.draw(from: &source)
        let second = try poisson.draw(from: &source)
        return first - second
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

/// Poisson(m) for one integer m ≥ 1: the rejection sampler of ``PoissonSampler`` and its acceptance test.
struct PoissonMode: Hashable, Sendable {
    let m: UInt64
    /// t = ⌊√m⌋ + 1.
    let t: UInt64
    let mPlusOne: Double
    /// 1/(m + 1) and 1/(2t) (Float64; the enclosure's margin covers their rounding).
    let inverseMPlusOne: Double
    let inverseTwoT: Double
    /// ln(1 + 1/m) (Float64, for the fast enclosure).
    let logStep: Double
    /// Bounds on ζ(m + 1), ζ(z) = ln Γ(z) − (z − ½)·ln z + z − ½·ln 2π.
    let zetaLow: Double
    let zetaHigh: Double

    init(_ m: UInt64) {
        self.m = m
        t = integerSquareRoot(m) + 1
        mPlusOne = Double(m) + 1
        inverseMPlusOne = 1 / mPlusOne
        inverseTwoT = 1 / (2 * Double(integerSquareRoot(m) + 1))
        let v = 1 / Double(m)
        logStep = m == 1 ? Self.ln2 : v - Self.gSeries(v)
        (zetaLow, zetaHigh) = Self.zeta(mPlusOne)
    }

    /// Bounds on ζ(z) = ln Γ(z) − (z − ½)·ln z + z − ½·ln 2π for z ≥ 1: Stirling's series
    /// 1/(12z) − 1/(360z³) + 1/(1260z⁵) − 1/(1680z⁷) with the remainder bounded by the next term,
    /// 1/(1188z⁹) (the series alternates for real z > 0).
    static func zeta(_ z: Double) -> (lo: Double, hi: Double) {
        let inverse = 1 / z
        let square = inverse * inverse
        let series = inverse * (1.0 / 12 - square * (1.0 / 360 - square * (1.0 / 1260 - square / 1680)))
        let remainder = inverse * square * square * square * square / 1188
        return (series - remainder, series + remainder)
    }

    func sample(using source: inout some RandomWordSource, exactOnly: Bool = false) throws(PrivacyError) -> Int64 {
        while true {
            let y = try source.discreteLaplace(scale: t)
            let (k, overflow) = Int64(m).addingReportingOverflow(y)
            if overflow { throw .samplerRangeExceeded(sampler: "Poisson") }
            if k < 0 { continue }
            // D = 1/2 + 1/t = (t + 2)/(2t) exactly when k = m.
            if y == 0 {
                if source.bernoulliExpMinus(t + 2, 2 * t) { return k }
                continue
            }
            if exactOnly {
                var test = Acceptance(mode: self, y: y, k: k, exactOnly: true)
                if test.accept(using: &source) { return k }
                continue
            }
            let (lo, hi) = fastEnclosure(y: y, k: k)
            switch Self.fastAccept(lo: lo, hi: hi, using: &source) {
            case let .decided(accepted):
                if accepted { return k }
            case let .undecided(consumed, divisor, word):
                // Rare (the bits fell within 2^−40 of D): continue the same test in arbitrary precision.
                var test = Acceptance(mode: self, y: y, k: k, exactOnly: true)
                if test.resume(consumed: consumed, divisor: divisor, firstWord: word, using: &source) { return k }
            }
        }
    }

    /// Where the Float64 test stopped: decided, or the position to resume from (coins paid, the divisor K
    /// of the comparison in progress, 0 while still in the integer part, and the word already read for it).
    enum FastOutcome {
        case decided(Bool)
        case undecided(consumed: UInt64, divisor: UInt64, word: UInt64?)
    }

    /// The acceptance test of ``Acceptance`` with the Float64 enclosure [lo, hi] of D only, stopping (without
    /// losing its place) at the first comparison the enclosure cannot decide.
    @inline(__always)
    static func fastAccept<Source: RandomWordSource>(lo: Double, hi: Double, using source: inout Source)
        -> FastOutcome
    {
        var consumed: UInt64 = 0
        while true {
            let bound = Double(consumed) + 1
            if lo >= bound {
                if !source.bernoulliExpMinusOne() { return .decided(false) }
                consumed += 1
                continue
            }
            if hi <= bound { break }
            return .undecided(consumed: consumed, divisor: 0, word: nil)
        }
        let c = Double(consumed)
        let rLow = (lo - c) - 0x1p-48 * (abs(lo) + c)
        let rHigh = (hi - c) + 0x1p-48 * (abs(hi) + c)
        var kk: UInt64 = 1
        while true {
            let first = source.nextWord()
            let kd = Double(kk)
            // (U_1 + 1)/2^64 ≤ r/K: surely below, A = 1.
            if ((Double(first) + 2) * kd * 0x1p-64) * (1 + 0x1p-48) <= rLow {
                kk += 1
                continue
            }
            // U_1/2^64 ≥ r/K: surely not below, A = 0.
            if (Double(first) * kd * 0x1p-64) * (1 - 0x1p-48) >= rHigh { return .decided(kk & 1 == 1) }
            return .undecided(consumed: consumed, divisor: kk, word: first)
        }
    }

    // MARK: The Float64 enclosure of D (level 0)

    static let ln2 = 0x1.62e42fefa39efp-1

    /// g(x) = x − ln(1 + x) = Σ_{p≥2} (−x)^p / p for |x| ≤ 1/2, summed until a term is below 2^−60 of the sum.
    static func gSeries(_ x: Double) -> Double {
        let u = -x
        var power = u * u
        var sum = 0.0
        var p = 2.0
        while true {
            let term = power / p
            sum += term
            if abs(term) <= 0x1p-60 * abs(sum) || p > 200 { return sum }
            power *= u
            p += 1
        }
    }

    /// ln y for finite y > 0: y = f·2^e with f ∈ [√½, √2), ln y = e·ln 2 + 2·atanh((f − 1)/(f + 1)).
    static func ln(_ y: Double) -> Double {
        var e = Double(y.exponent)
        var f = y.significand
        if f > 0x1.6a09e667f3bcdp0 {
            f /= 2
            e += 1
        }
        let s = (f - 1) / (f + 1)
        let s2 = s * s
        var power = s
        var sum = s
        var i = 1.0
        while abs(power) > 0x1p-62 {
            power *= s2
            sum += power / (2 * i + 1)
            i += 1
        }
        return e * ln2 + 2 * sum
    }

    /// [lo, hi] ∋ D from Float64 arithmetic: D = A − B + C + (ζ(k+1) − ζ(m+1)) + R with
    /// A = J(J − ½)/(m+1), B = (k + ½)·g(J/(m+1)), C = J·ln(1 + 1/m), R = (t + 2 − 2|J|)/(2t), J = k − m.
    /// Every term is within 2^−48 of its value relative to its magnitude; the enclosure allows 2^−40.
    func fastEnclosure(y: Int64, k: Int64) -> (lo: Double, hi: Double) {
        let r = (Double(t) + 2 - 2 * Double(y.magnitude)) * inverseTwoT
        if m <= 20 && k <= 20 {
            // Small factorials directly: L = ln(k!/m!) − J·ln m.
            var ratio = 1.0
            if k > Int64(m) {
                for i in (Int64(m) + 1)...k { ratio *= Double(i) }
            } else if k < Int64(m) {
                var product = 1.0
                for i in (k + 1)...Int64(m) { product *= Double(i) }
                ratio = 1 / product
            }
            let logRatio = Self.ln(ratio)
            let logM = m == 1 ? 0 : Self.ln(Double(m))
            let drift = Double(y) * logM
            let mid = logRatio - drift + r
            let error = 0x1p-40 * (abs(logRatio) + abs(drift) + abs(r)) + 0x1p-60
            return (mid - error, mid + error)
        }
        let j = Double(y)
        let x = j * inverseMPlusOne
        let a = j * (j - 0.5) * inverseMPlusOne
        let g: Double
        if abs(x) <= 0x1p-13 {
            // g(x) = x²(1/2 − x/3 + x²/4 − x³/5) + O(x⁶): the rest is below 2^−52 of g.
            g = x * x * (0.5 - x * (1.0 / 3 - x * (0.25 - x * 0.2)))
        } else {
            g = abs(x) <= 0.5 ? Self.gSeries(x) : x - Self.ln((Double(k) + 1) * inverseMPlusOne)
        }
        let b = (Double(k) + 0.5) * g
        let c = j * logStep
        let zetaK = Self.zeta(Double(k) + 1)
        let zLow = zetaK.lo - zetaHigh
        let zHigh = zetaK.hi - zetaLow
        let mid = a - b + c + r + (zLow + zHigh) / 2
        let error =
            0x1p-40 * (abs(a) + abs(b) + abs(c) + abs(r) + zetaK.hi + zetaHigh) + (zHigh - zLow) / 2 + 0x1p-60
        return (mid - error, mid + error)
    }

    // MARK: The exact enclosure of D (levels ≥ 1)

    /// D at level ≥ 1 with 64·level + 224 fractional bits:
    /// ln Γ*(k+1) − ln Γ*(m+1) − J·ln m + (t + 2 − 2|J|)/(2t).
    func exactEnclosure(y: Int64, k: Int64, level: Int) -> FixedPointInterval {
        let scale = 64 * level + 224
        let logTwo = ExactLogarithm.ln2(scale: scale)
        let low = min(UInt64(k), m)
        let high = max(UInt64(k), m)
        var d: FixedPointInterval
        if high - low <= 4096 && low + 1 < ExactLogarithm.stirlingMinimum(scale: scale) {
            // Near a small mode: ln(k!/m!) = ±ln((low+1)(low+2)…high) directly.
            var product = BigUInt.one
            var i = low + 1
            while i <= high {
                product = product * BigUInt(i)
                i += 1
            }
            let logProduct = ExactLogarithm.ln(product, scale: scale, ln2: logTwo)
            d = UInt64(k) >= m ? logProduct : FixedPointInterval(integer: 0, scale: scale) - logProduct
        } else {
            d =
                ExactLogarithm.lnGammaStar(UInt64(k) + 1, scale: scale, ln2: logTwo)
                - ExactLogarithm.lnGammaStar(m + 1, scale: scale, ln2: logTwo)
        }
        if m > 1 {
            d = d - ExactLogarithm.ln(BigUInt(m), scale: scale, ln2: logTwo).multiplied(by: BigInt(y))
        }
        let numerator = BigInt(Int64(t) + 2) - BigInt(negative: false, magnitude: BigUInt(y.magnitude) * BigUInt(2))
        return d + FixedPointInterval(numerator: numerator, denominator: BigUInt(2 * t), scale: scale)
    }
}

/// The acceptance test Bernoulli(exp(−D)) for one proposal k ≠ m (SPEC.md §15.4). Canonical draws: first,
/// while D − c > 1 (c counts the coins so far), one Bernoulli(exp(−1)) coin each, returning false at the
/// first 0; then with r = D − c ∈ (0, 1), K = 1 and repeat "A = Bernoulli(r/K); if A, K += 1" until A = 0,
/// returning K odd. Bernoulli(r/K) reads words w₁, w₂, … of a uniform U = Σ wᵢ·2^(−64i), one more only
/// while r/K lies in [U_n, U_n + 2^(−64n)) (U_n from the first n words), and returns U < r/K. The enclosure
/// of D is refined whenever it cannot decide one of these comparisons; refinement draws nothing, so the
/// words read depend only on the true D.
struct Acceptance {
    let mode: PoissonMode
    let y: Int64
    let k: Int64
    private var level = 0
    private var fast: (lo: Double, hi: Double) = (0, 0)
    /// Boxed, so that the common Float64-only test carries one nil reference rather than big integers.
    private var exactBox: ExactBox?

    final class ExactBox {
        let value: FixedPointInterval
        init(_ value: FixedPointInterval) { self.value = value }
    }

    private var exact: FixedPointInterval? { exactBox?.value }

    init(mode: PoissonMode, y: Int64, k: Int64, exactOnly: Bool) {
        self.mode = mode
        self.y = y
        self.k = k
        if exactOnly {
            level = 1
            exactBox = ExactBox(mode.exactEnclosure(y: y, k: k, level: 1))
        } else {
            fast = mode.fastEnclosure(y: y, k: k)
        }
    }

    /// The highest level reached (0: the Float64 enclosure sufficed).
    var levelReached: Int { level }

    private mutating func refine() {
        level += 1
        exactBox = ExactBox(mode.exactEnclosure(y: y, k: k, level: level))
    }

    /// Where D − consumed lies relative to 1: true above, false below (D is irrational, never equal).
    private mutating func isAboveOne(consumed: UInt64) -> Bool {
        while true {
            if level == 0 {
                let bound = Double(consumed) + 1
                if fast.lo >= bound { return true }
                if fast.hi <= bound { return false }
            } else if let exact {
                let bound = BigInt(BigUInt(consumed + 1)).shiftedLeft(exact.scale)
                if !(exact.lowerNumerator < bound) { return true }
                if !(bound < exact.upperNumerator) { return false }
            }
            refine()
        }
    }

    mutating func accept(using source: inout some RandomWordSource) -> Bool {
        resume(consumed: 0, divisor: 0, firstWord: nil, using: &source)
    }

    /// The test from a position reached by ``PoissonMode/fastAccept(lo:hi:using:)``: `consumed` coins paid;
    /// `divisor` 0 while still in the integer part, else the K of the comparison in progress, whose first
    /// word `firstWord` was read.
    mutating func resume(
        consumed start: UInt64, divisor: UInt64, firstWord: UInt64?, using source: inout some RandomWordSource
    )
        -> Bool
    {
        var consumed = start
        var kk: UInt64 = 1
        if divisor == 0 {
            while isAboveOne(consumed: consumed) {
                if !source.bernoulliExpMinusOne() { return false }
                consumed += 1
            }
        } else {
            kk = divisor
            guard uniformBelow(consumed: consumed, divisor: kk, first: firstWord, using: &source) else {
                return kk & 1 == 1
            }
            kk += 1
        }
        while uniformBelow(consumed: consumed, divisor: kk, first: nil, using: &source) { kk += 1 }
        return kk & 1 == 1
    }

    /// Bernoulli((D − consumed)/K) with the canonical word reads (`first`: the first word, when already read).
    private mutating func uniformBelow(
        consumed: UInt64, divisor: UInt64, first read: UInt64?, using source: inout some RandomWordSource
    ) -> Bool {
        let first = read ?? source.nextWord()
        if level == 0 {
            let c = Double(consumed)
            let rLow = (fast.lo - c) - 0x1p-48 * (abs(fast.lo) + c)
            let rHigh = (fast.hi - c) + 0x1p-48 * (abs(fast.hi) + c)
            let kd = Double(divisor)
            // (U_1 + 1)/2^64 ≤ r/K: surely below.
            if ((Double(first) + 2) * kd * 0x1p-64) * (1 + 0x1p-48) <= rLow { return true }
            // U_1/2^64 ≥ r/K: surely not below.
            if (Double(first) * kd * 0x1p-64) * (1 - 0x1p-48) >= rHigh { return false }
            refine()
        }
        var u = BigUInt(first)
        var bits = 64
        let kBig = BigUInt(divisor)
        while true {
            guard let exact else { refine(); continue }
            let shift = BigInt(BigUInt(consumed)).shiftedLeft(exact.scale)
            let rLow = exact.lowerNumerator - shift
            let rHigh = exact.upperNumerator - shift
            // Compare U_n / 2^bits with r / K, i.e. U_n·K·2^scale with r·2^(scale + bits).
            let uLow = BigInt(u * kBig).shiftedLeft(exact.scale)
            let uHigh = BigInt((u + .one) * kBig).shiftedLeft(exact.scale)
            let lowScaled = rLow.shiftedLeft(bits)
            let highScaled = rHigh.shiftedLeft(bits)
            if !(lowScaled < uHigh) { return true }  // (U_n + 1)/2^bits ≤ r/K
            if !(uLow < highScaled) { return false }  // U_n/2^bits ≥ r/K
            if !(lowScaled < uLow) && highScaled < uHigh {
                // r/K lies inside [U_n, U_n + 2^−bits): the next word decides more.
                u = u.shiftedLeft(64) + BigUInt(source.nextWord())
                bits += 64
                continue
            }
            refine()
        }
    }
}
