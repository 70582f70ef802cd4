import Foundation
import SecAggCrypto
import Testing

@testable import SecAggPrivacy

/// Midpoint of an enclosure as a Float64 (for comparisons with published constants).
private func midpoint(_ x: FixedPointInterval) -> Double {
    let v = x.value.magnitude.approximateDouble / pow(2, Double(x.scale))
    return x.value.isNegative ? -v : v
}

private func width(_ x: FixedPointInterval) -> Double {
    2 * x.error.approximateDouble / pow(2, Double(x.scale))
}

struct SamplerTests {
    /// The noise stream is the §2.6 test generator read 8 bytes at a time.
    @Test func noiseStreamIsTheTestGenerator() throws {
        let seed = (0..<32).map { UInt8($0 &* 7 &+ 3) }
        let stream = try NoiseStream(seed: seed)
        var generator = try DeterministicRandomGenerator(seed: seed)
        for _ in 0..<3000 { #expect(stream.nextWord() == generator.next(UInt64.self)) }
        #expect(throws: PrivacyError.self) { try NoiseStream(seed: [1, 2, 3]) }
    }

    /// Same seed, same samples; another seed, other samples; any byte generator gives the same stream.
    @Test func samplersAreDeterministicFromTheirSeed() throws {
        let gaussian = try DiscreteGaussianSampler(numerator: 5625, denominator: 4)
        let skellam = try SkellamSampler(numerator: 9, denominator: 2)
        func draw(_ seed: UInt8) throws -> [Int64] {
            let stream = try NoiseStream(seed: [UInt8](repeating: seed, count: 32))
            var source = stream
            return try (0..<200).map { i in
                i % 2 == 0 ? try gaussian.sample(using: &source) : try skellam.sample(using: &source)
            }
        }
        #expect(try draw(1) == draw(1))
        #expect(try draw(1) != draw(2))
        var generator = try DeterministicRandomGenerator(seed: [UInt8](repeating: 1, count: 32))
        let viaGenerator = try (0..<200).map { i in
            i % 2 == 0 ? try gaussian.sample(using: &generator) : try skellam.sample(using: &generator)
        }
        #expect(try viaGenerator == draw(1))
    }

    /// Goodness of fit of every standard case (σ < 1 up to σ = 10^4) on a short run; the 10^6-sample run of
    /// the same cases is `secagg dp-check` (SPEC.md §15.7, in .ci/run).
    @Test(arguments: SamplerCheck.standardCases)
    func goodnessOfFit(_ distribution: SamplerCheck.Distribution) throws {
        let report = try SamplerCheck.run(distribution, count: 20_000, seed: 42)
        print(report)
        #expect(report.passed, "\(report)")
    }

    /// A wrong distribution fails the same check: the test has power (σ off by 5%, Poisson rate off by 2%).
    @Test func checkRejectsWrongDistributions() throws {
        var stream = try NoiseStream(seed: [UInt8](repeating: 9, count: 32))
        let wrongGaussian = try DiscreteGaussianSampler(numerator: 1_102_500, denominator: 1)  // σ = 1050
        let gaussianSamples = try (0..<20_000).map { _ in try wrongGaussian.sample(using: &stream) }
        #expect(
            !SamplerCheck.check(gaussianSamples, against: .discreteGaussian(numerator: 1_000_000, denominator: 1))
                .passed)
        let wrongPoisson = try PoissonSampler(numerator: 102, denominator: 1)
        let poissonSamples = try (0..<20_000).map { _ in try wrongPoisson.sample(using: &stream) }
        #expect(!SamplerCheck.check(poissonSamples, against: .poisson(numerator: 100, denominator: 1)).passed)
    }

    /// The arbitrary-precision acceptance path gives the very samples of the Float64 fast path (the word
    /// reads depend only on the true D), for small and large modes.
    @Test(arguments: [(UInt64(1), UInt64(1)), (37, 10), (1000, 1), (123_456_789, 1), (1 << 54, 3)])
    func exactPathGivesTheSameSamples(_ rate: (UInt64, UInt64)) throws {
        let fast = try PoissonSampler(numerator: rate.0, denominator: rate.1)
        var exact = fast
        exact.usesExactEnclosureOnly = true
        let a = try NoiseStream(seed: [UInt8](repeating: 5, count: 32))
        let b = try NoiseStream(seed: [UInt8](repeating: 5, count: 32))
        var sa = a
        var sb = b
        for _ in 0..<25 {
            #expect(try fast.sample(using: &sa) == exact.sample(using: &sb))
        }
        #expect(a.nextWord() == b.nextWord())
    }

    /// The arbitrary-precision acceptance of the discrete Gaussian (used when |Y|·t·den overflows 64 bits)
    /// makes the same decisions from the same words as the 128-bit one.
    @Test func wideGaussianAcceptanceMatchesTheNarrowOne() throws {
        let sampler = try DiscreteGaussianSampler(numerator: 5625, denominator: 4)
        for magnitude: UInt64 in [0, 1, 37, 38, 60, 90, 150, 400] {
            for seed: UInt8 in 1...20 {
                let narrowStream = try NoiseStream(seed: [UInt8](repeating: seed, count: 32))
                let wideStream = try NoiseStream(seed: [UInt8](repeating: seed, count: 32))
                var narrow = narrowStream
                var wide = wideStream
                let t = sampler.laplaceScale
                let product = magnitude * t * sampler.denominator
                let difference =
                    product >= sampler.numerator ? product - sampler.numerator : sampler.numerator - product
                let square = UInt128(difference) * UInt128(difference)
                let expected = narrow.bernoulliExpMinus(square, sampler.exponentDenominator)
                if product >= sampler.numerator {
                    #expect(try sampler.acceptWide(magnitude, using: &wide) == expected)
                    #expect(narrowStream.nextWord() == wideStream.nextWord())
                }
            }
        }
    }

    /// The exact logarithms against 40-digit values (mpmath): ln Γ(z) − ½·ln 2π and ln 2.
    @Test func exactLogarithmsMatchReferenceValues() {
        let references: [(UInt64, Double)] = [
            (1, -0.9189385332046727417803297364056176398614), (3, -0.2257913526447274323630976149474410717859),
            (10, 11.88288894687679686942738813816108852442), (100, 358.2152668363707260342636807238812919728),
            (12345, 103952.6135335146917217525097300084887854),
            (1_000_000_000_000, 26631021115914.73269765793326544159587582),
        ]
        for (z, expected) in references {
            let value = ExactLogarithm.lnGammaStar(z, scale: 256)
            #expect(abs(midpoint(value) - expected) <= 4 * expected.ulp + 1e-15, "z = \(z)")
            #expect(width(value) < 1e-60)
        }
        #expect(abs(midpoint(ExactLogarithm.ln2(scale: 200)) - 0.6931471805599453094172321214581765680755) < 1e-16)
        let big = BigUInt(1_000_000_000_000_000_009)
        #expect(abs(midpoint(ExactLogarithm.ln(big, scale: 200)) - 41.44653167389282232132384618431855569632) < 1e-13)
    }

    /// The Float64 enclosure of D contains the exact one for proposals near and far from the mode.
    @Test func fastEnclosureContainsTheExactValue() throws {
        for m: UInt64 in [1, 2, 9, 50, 10_000, 987_654_321, 1 << 50] {
            let mode = PoissonMode(m)
            let t = Int64(mode.t)
            for y: Int64 in [-Int64(min(m, 3)), -1, 1, 2, t, -t, 5 * t, 40 * t] where Int64(m) + y >= 0 {
                let k = Int64(m) + y
                let fast = mode.fastEnclosure(y: y, k: k)
                let exact = midpoint(mode.exactEnclosure(y: y, k: k, level: 1))
                #expect(fast.lo <= exact && exact <= fast.hi, "m=\(m) y=\(y): \(fast) vs \(exact)")
                #expect(exact > 0, "D must be positive: m=\(m) y=\(y)")
            }
        }
    }

    @Test func parametersAreChecked() {
        #expect(throws: PrivacyError.self) { try DiscreteGaussianSampler(numerator: 0, denominator: 1) }
        #expect(throws: PrivacyError.self) { try DiscreteGaussianSampler(numerator: 1 << 57, denominator: 1) }
        #expect(throws: PrivacyError.self) { try DiscreteGaussianSampler(numerator: 1, denominator: 0) }
        #expect(throws: PrivacyError.self) { try PoissonSampler(numerator: 1, denominator: 0) }
        #expect(throws: PrivacyError.self) { try PoissonSampler(numerator: 1 << 56, denominator: 1) }
        #expect(throws: PrivacyError.self) { try SkellamSampler(numerator: 1, denominator: (1 << 32) + 1) }
    }

    /// BigUInt arithmetic against UInt128 on random operands, and a division identity on wide ones.
    @Test func bigIntegerArithmetic() throws {
        var rng = DeterministicRandomGenerator(testLabel: "biguint")
        for _ in 0..<500 {
            let a = UInt128(rng.next(UInt64.self)) << UInt128(rng.next(below: 64)) | UInt128(rng.next(UInt64.self))
            let b = UInt128(rng.next(UInt64.self) | 1)
            let x = BigUInt(uint128: a)
            let y = BigUInt(uint128: b)
            #expect((x + y).description == (BigUInt(uint128: a) + BigUInt(uint128: b)).description)
            #expect((x * y).quotientAndRemainder(dividingBy: y).quotient == x)
            #expect(x.quotientAndRemainder(dividingBy: y).quotient.uint128Value == a / b)
            #expect(x.quotientAndRemainder(dividingBy: y).remainder.uint128Value == a % b)
            if a >= b { #expect((x - y).uint128Value == a - b) }
            #expect((x < y) == (a < b))
        }
        // Multi-limb divisors (Algorithm D): q·d + r = n and r < d, including divisors with all-ones limbs.
        func random(_ limbs: Int) -> BigUInt {
            var value = BigUInt.zero
            for _ in 0..<limbs {
                let word = rng.next(below: 4) == 0 ? UInt64.max : rng.next(UInt64.self)
                value = value.shiftedLeft(64) + BigUInt(word)
            }
            return value
        }
        for _ in 0..<300 {
            let n = random(1 + Int(rng.next(below: 12)))
            let d = random(2 + Int(rng.next(below: 6)))
            guard !d.isZero else { continue }
            let (q, r) = n.quotientAndRemainder(dividingBy: d)
            #expect(q * d + r == n && r < d)
        }
        let wide = (BigUInt(decimal: "123456789012345678901234567890123456789") ?? .zero) * BigUInt(1 << 40)
        let divisor = BigUInt(decimal: "98765432109876543210987") ?? .one
        let (q, r) = wide.quotientAndRemainder(dividingBy: divisor)
        #expect(q * divisor + r == wide && r < divisor)
        #expect(wide.description == "135742175046962388768696238876869623887673388171264")
    }
}
