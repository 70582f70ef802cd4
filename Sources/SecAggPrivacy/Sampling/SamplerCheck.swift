import Foundation

/// Statistical checks of the samplers against their exact probability mass functions: Pearson's
/// chi-square goodness of fit over bins of expected count ≥ max(5, N/1000), and z-scores of the sample
/// mean and variance. Used by the tests (short runs) and by `secagg dp-check` (10^6 samples per case,
/// release build; SPEC.md §15.7). The pmfs here are Float64 computations for testing only.
package enum SamplerCheck {
    /// Which distribution.
    package enum Distribution: Hashable, Sendable, CustomStringConvertible {
        /// N_Z(0, σ²), σ² = numerator / denominator.
        case discreteGaussian(numerator: UInt64, denominator: UInt64)
        /// Poisson(λ), λ = numerator / denominator.
        case poisson(numerator: UInt64, denominator: UInt64)
        /// Sk(λ, λ), λ = numerator / denominator.
        case skellam(numerator: UInt64, denominator: UInt64)

        /// "discrete Gaussian σ=…", "Poisson λ=…", "Skellam λ=… (σ=…)".
        package var description: String {
            switch self {
            case let .discreteGaussian(n, d): "discrete Gaussian σ=\(short((Double(n) / Double(d)).squareRoot()))"
            case let .poisson(n, d): "Poisson λ=\(short(Double(n) / Double(d)))"
            case let .skellam(n, d):
                "Skellam λ=\(short(Double(n) / Double(d))) (σ=\(short((2 * Double(n) / Double(d)).squareRoot())))"
            }
        }

        /// Draws one sample.
        package func sampler() throws(PrivacyError) -> (inout NoiseStream) throws(PrivacyError) -> Int64 {
            switch self {
            case let .discreteGaussian(n, d):
                let s = try DiscreteGaussianSampler(numerator: n, denominator: d)
                return { (source: inout NoiseStream) throws(PrivacyError) in try s.sample(using: &source) }
            case let .poisson(n, d):
                let s = try PoissonSampler(numerator: n, denominator: d)
                return { (source: inout NoiseStream) throws(PrivacyError) in try s.sample(using: &source) }
            case let .skellam(n, d):
                let s = try SkellamSampler(numerator: n, denominator: d)
                return { (source: inout NoiseStream) throws(PrivacyError) in try s.sample(using: &source) }
            }
        }

        /// The exact pmf on a window holding all but < 10^−30 of the mass: (first value, probabilities).
        package func pmf() -> (first: Int64, probabilities: [Double]) {
            switch self {
            case let .discreteGaussian(n, d):
                let variance = Double(n) / Double(d)
                let width = Int64((12 * variance.squareRoot()).rounded(.up)) + 12
                var weights: [Double] = []
                for k in -width...width { weights.append(exp(-Double(k * k) / (2 * variance))) }
                return (-width, normalized(weights))
            case let .poisson(n, d):
                return poissonPMF(Double(n) / Double(d))
            case let .skellam(n, d):
                return skellamPMF(Double(n) / Double(d))
            }
        }

        /// Mean and variance of the exact distribution.
        package var moments: (mean: Double, variance: Double) {
            let (first, p) = pmf()
            var mean = 0.0
            for (i, q) in p.enumerated() { mean += q * Double(first + Int64(i)) }
            var variance = 0.0
            for (i, q) in p.enumerated() {
                let x = Double(first + Int64(i)) - mean
                variance += q * x * x
            }
            return (mean, variance)
        }
    }

    /// The outcome of one check.
    package struct Report: Sendable, CustomStringConvertible {
        /// The distribution checked.
        package var distribution: Distribution
        /// Samples drawn.
        package var sampleCount: Int
        /// Pearson's statistic.
        package var chiSquare: Double
        /// Bins − 1.
        package var degreesOfFreedom: Int
        /// P[χ²_df ≥ statistic].
        package var pValue: Double
        /// (sample mean − mean) / (σ/√N).
        package var meanZ: Double
        /// (sample variance − variance) / its standard error √((μ₄ − σ⁴)/N).
        package var varianceZ: Double
        /// Seconds spent sampling.
        package var seconds: Double

        /// True when p ≥ 10^−6 and both |z| ≤ 6 (a correct sampler fails with probability below 10^−5).
        package var passed: Bool { pValue >= 1e-6 && abs(meanZ) <= 6 && abs(varianceZ) <= 6 }

        /// One line.
        package var description: String {
            "\(passed ? "ok  " : "FAIL") \(distribution): N=\(sampleCount) χ²=\(short(chiSquare)) df=\(degreesOfFreedom) "
                + "p=\(short(pValue)) mean z=\(short(meanZ)) variance z=\(short(varianceZ)) (\(short(seconds)) s)"
        }
    }

    /// The cases of `secagg dp-check` and the tests: σ < 1, moderate, and σ ≥ 10^4 for each sampler.
    package static let standardCases: [Distribution] = [
        .discreteGaussian(numerator: 1, denominator: 4),  // σ = 0.5
        .discreteGaussian(numerator: 81, denominator: 100),  // σ = 0.9
        .discreteGaussian(numerator: 10, denominator: 1),  // σ ≈ 3.16
        .discreteGaussian(numerator: 5625, denominator: 4),  // σ = 37.5
        .discreteGaussian(numerator: 100_000_000, denominator: 1),  // σ = 10^4
        .poisson(numerator: 1, denominator: 4),
        .poisson(numerator: 37, denominator: 10),
        .poisson(numerator: 1000, denominator: 1),
        .poisson(numerator: 50_000_000, denominator: 1),
        .skellam(numerator: 1, denominator: 5),  // σ ≈ 0.63
        .skellam(numerator: 9, denominator: 2),  // σ = 3
        .skellam(numerator: 50_000_000, denominator: 1),  // σ = 10^4
    ]

    /// Draws `count` samples from `distribution` with a ``NoiseStream`` seeded with SHA-256-free fixed bytes
    /// (`seed` repeated), and checks them.
    package static func run(_ distribution: Distribution, count: Int, seed: UInt8) throws(PrivacyError) -> Report {
        let draw = try distribution.sampler()
        var stream = try NoiseStream(seed: [UInt8](repeating: seed, count: 32))
        var samples = [Int64](repeating: 0, count: count)
        let start = Date()
        for i in 0..<count { samples[i] = try draw(&stream) }
        let seconds = Date().timeIntervalSince(start)
        var report = check(samples, against: distribution)
        report.seconds = seconds
        return report
    }

    /// Checks `samples` against `distribution`.
    package static func check(_ samples: [Int64], against distribution: Distribution) -> Report {
        let (first, p) = distribution.pmf()
        let n = Double(samples.count)
        // Bins: consecutive values grouped until the expected count reaches the target; both tails are
        // folded into the outermost bins.
        let target = max(5, n / 1000)
        var binOf = [Int](repeating: 0, count: p.count)
        var expected: [Double] = []
        var running = 0.0
        for i in p.indices {
            binOf[i] = expected.count
            running += p[i] * n
            if running >= target {
                expected.append(running)
                running = 0
            }
        }
        if running > 0 {
            if expected.isEmpty {
                expected.append(running)
            } else {
                expected[expected.count - 1] += running
                for i in p.indices where binOf[i] == expected.count { binOf[i] = expected.count - 1 }
            }
        }
        var observed = [Double](repeating: 0, count: expected.count)
        var sum = 0.0
        for x in samples {
            let index = Int(max(0, min(Int64(p.count - 1), x - first)))
            observed[binOf[index]] += 1
            sum += Double(x)
        }
        var statistic = 0.0
        for i in expected.indices {
            let difference = observed[i] - expected[i]
            statistic += difference * difference / expected[i]
        }
        let degrees = max(1, expected.count - 1)
        let (mean, variance) = distribution.moments
        var fourth = 0.0
        for (i, q) in p.enumerated() {
            let d = Double(first + Int64(i)) - mean
            fourth += q * d * d * d * d
        }
        let sampleMean = sum / n
        var squares = 0.0
        for x in samples {
            let d = Double(x) - sampleMean
            squares += d * d
        }
        let sampleVariance = squares / (n - 1)
        let meanZ = (sampleMean - mean) / (variance / n).squareRoot()
        let varianceZ = (sampleVariance - variance) / max((fourth - variance * variance) / n, 1e-300).squareRoot()
        return Report(
            distribution: distribution, sampleCount: samples.count, chiSquare: statistic,
            degreesOfFreedom: degrees, pValue: chiSquareSurvival(statistic, degrees: degrees), meanZ: meanZ,
            varianceZ: varianceZ, seconds: 0)
    }

    /// P[χ²_k ≥ x] = Q(k/2, x/2), the regularized upper incomplete gamma function.
    package static func chiSquareSurvival(_ x: Double, degrees k: Int) -> Double {
        let a = Double(k) / 2
        let z = x / 2
        if z <= 0 { return 1 }
        let logPrefix = a * log(z) - z - lgamma(a)
        if z < a + 1 {
            // Series for P(a, z).
            var term = 1 / a
            var sum = term
            var n = 1.0
            while abs(term) > abs(sum) * 1e-16 {
                term *= z / (a + n)
                sum += term
                n += 1
            }
            return max(0, 1 - exp(logPrefix) * sum)
        }
        // Lentz's continued fraction for Q(a, z).
        var b = z + 1 - a
        var c = 1 / 1e-300
        var d = 1 / b
        var h = d
        var i = 1.0
        while i < 10_000 {
            let an = -i * (i - a)
            b += 2
            d = an * d + b
            if abs(d) < 1e-300 { d = 1e-300 }
            c = b + an / c
            if abs(c) < 1e-300 { c = 1e-300 }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
            i += 1
        }
        return exp(logPrefix) * h
    }

    private static func normalized(_ weights: [Double]) -> [Double] {
        let total = weights.reduce(0, +)
        return weights.map { $0 / total }
    }

    /// Poisson(λ) from the mode outwards (p(k+1) = p(k)·λ/(k+1)), normalized.
    private static func poissonPMF(_ lambda: Double) -> (first: Int64, probabilities: [Double]) {
        let mode = Int64(lambda.rounded(.down))
        let width = Int64((14 * lambda.squareRoot()).rounded(.up)) + 40
        let low = max(0, mode - width)
        let high = mode + width
        var logWeights = [Double](repeating: 0, count: Int(high - low + 1))
        let m = Int(mode - low)
        var k = mode
        var value = 0.0
        while k < high {
            value += log(lambda / Double(k + 1))
            logWeights[Int(k + 1 - low)] = value
            k += 1
        }
        value = 0
        k = mode
        while k > low {
            value += log(Double(k) / lambda)
            logWeights[Int(k - 1 - low)] = value
            k -= 1
        }
        logWeights[m] = 0
        return (low, normalized(logWeights.map { exp($0) }))
    }

    /// Sk(λ, λ): p(k) = e^(−2λ)·I_|k|(2λ), by Miller's backward recurrence I_(j−1) = I_(j+1) + (2j/x)·I_j
    /// from far in the tail, normalized with Σ_k p(k) = 1.
    private static func skellamPMF(_ lambda: Double) -> (first: Int64, probabilities: [Double]) {
        let x = 2 * lambda
        let width = Int((14 * (2 * lambda).squareRoot()).rounded(.up)) + 40
        var values = [Double](repeating: 0, count: width + 2)
        values[width + 1] = 0
        values[width] = 1e-280
        var j = width
        while j > 0 {
            values[j - 1] = values[j + 1] + (2 * Double(j) / x) * values[j]
            if values[j - 1] > 1e250 {
                for i in (j - 1)...(width + 1) { values[i] *= 1e-250 }
            }
            j -= 1
        }
        var weights: [Double] = []
        for k in stride(from: width, to: 0, by: -1) { weights.append(values[k]) }
        for k in 0...width { weights.append(values[k]) }
        return (-Int64(width), normalized(weights))
    }
}

private func short(_ value: Double) -> String {
    if value == 0 { return "0" }
    if abs(value) >= 1e6 || abs(value) < 1e-3 { return String(format: "%.3e", value) }
    return String(format: "%.4g", value)
}
