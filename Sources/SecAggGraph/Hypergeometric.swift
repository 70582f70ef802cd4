#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Musl)
    internal import Musl
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// Log-space helpers (natural logarithms) for exact tail computations without overflow.
enum LogMath {
    /// ln 2.
    static let ln2 = 0.693_147_180_559_945_309_417_232_121_458_176_568

    /// ln m! for m < 256, summed directly.
    private static let smallLogFactorials: [Double] = {
        var table = [0.0]
        for m in 1..<256 { table.append(table[m - 1] + log(Double(m))) }
        return table
    }()

    /// ln m! for m ≥ 0: a table below 256, Stirling's series with terms to 1/(1260 m^5) above (truncation
    /// error below 1/(1680 m^7) < 1e-19).
    static func logFactorial(_ m: Int) -> Double {
        if m < smallLogFactorials.count { return smallLogFactorials[max(0, m)] }
        let x = Double(m)
        let inverse = 1 / x
        let inverse2 = inverse * inverse
        let series = inverse * (1.0 / 12 - inverse2 * (1.0 / 360 - inverse2 * (1.0 / 1260)))
        return x * log(x) - x + 0.5 * log(2 * Double.pi * x) + series
    }

    /// ln C(m, r); −∞ when r < 0 or r > m.
    static func logChoose(_ m: Int, _ r: Int) -> Double {
        guard r >= 0, r <= m else { return -.infinity }
        return logFactorial(m) - logFactorial(r) - logFactorial(m - r)
    }

    /// ln(e^a + e^b) without overflow.
    static func logAddExp(_ a: Double, _ b: Double) -> Double {
        let high = max(a, b)
        let low = min(a, b)
        guard high > -.infinity else { return -.infinity }
        return high + log1p(exp(low - high))
    }

    /// ln(x) for x ≥ 0.
    static func ln(_ x: Double) -> Double { log(x) }

    /// e^x.
    static func exponential(_ x: Double) -> Double { exp(x) }
}

/// The hypergeometric distribution: the number of marked items among `draws` items drawn without replacement
/// from a population of `population` items of which `successes` are marked. In SecAgg+ it is the number of
/// corrupt (or dropped) neighbours of a client whose k neighbours are a uniformly random k-subset of the
/// other n − 1 clients (SPEC.md §10.3).
///
/// Tails are computed exactly (to double precision) in log space: ln of the first term from log-factorials,
/// further terms by the ratio recurrence, summed relative to the first term, stopping when a geometric bound
/// on the rest (valid because the pmf is log-concave) is below 2^−60 of the sum.
public struct Hypergeometric: Hashable, Sendable {
    /// Population size N.
    public let population: Int
    /// Marked items K in the population.
    public let successes: Int
    /// Draws k.
    public let draws: Int

    /// The distribution for 0 ≤ successes ≤ population and 0 ≤ draws ≤ population.
    public init(population: Int, successes: Int, draws: Int) throws(GraphError) {
        guard population >= 0 else {
            throw .invalidParameter(name: "population", value: Double(population), allowed: "≥ 0")
        }
        guard (0...population).contains(successes) else {
            throw .invalidParameter(name: "successes", value: Double(successes), allowed: "0...\(population)")
        }
        guard (0...population).contains(draws) else {
            throw .invalidParameter(name: "draws", value: Double(draws), allowed: "0...\(population)")
        }
        self.population = population
        self.successes = successes
        self.draws = draws
    }

    /// The values with positive probability: max(0, k − (N − K)) ... min(k, K).
    public var support: ClosedRange<Int> {
        max(0, draws - (population - successes))...min(draws, successes)
    }

    /// ln P[X = x] (−∞ outside the support).
    public func logProbability(_ x: Int) -> Double {
        guard support.contains(x) else { return -.infinity }
        return LogMath.logChoose(successes, x) + LogMath.logChoose(population - successes, draws - x)
            - LogMath.logChoose(population, draws)
    }

    /// log2 P[X ≥ x] (−∞ when x is above the support, 0 when at or below its start).
    public func log2UpperTail(atLeast x: Int) -> Double {
        logUpperTail(atLeast: x) / LogMath.ln2
    }

    /// log2 P[X ≤ x].
    public func log2LowerTail(atMost x: Int) -> Double {
        logLowerTail(atMost: x) / LogMath.ln2
    }

    /// The (lower) mode ⌊(k + 1)(K + 1) / (N + 2)⌋, clamped to the support.
    var mode: Int {
        let raw = Int((Double(draws + 1) * Double(successes + 1) / Double(population + 2)).rounded(.down))
        return min(max(raw, support.lowerBound), support.upperBound)
    }

    /// ln P[X ≥ x].
    func logUpperTail(atLeast x: Int) -> Double {
        let range = support
        if x <= range.lowerBound { return 0 }
        if x > range.upperBound { return -.infinity }
        if x >= mode { return sumDecreasing(from: x, upward: true) }
        // x is below the mode: the complement P[X ≤ x − 1] is a decreasing sum and at most 1 − P[X = mode].
        return log1p(-exp(sumDecreasing(from: x - 1, upward: false)))
    }

    /// ln P[X ≤ x].
    func logLowerTail(atMost x: Int) -> Double {
        let range = support
        if x >= range.upperBound { return 0 }
        if x < range.lowerBound { return -.infinity }
        if x <= mode { return sumDecreasing(from: x, upward: false) }
        return log1p(-exp(sumDecreasing(from: x + 1, upward: true)))
    }

    /// pmf(y + 1) / pmf(y).
    private func ratioUp(_ y: Int) -> Double {
        (Double(successes - y) * Double(draws - y))
            / (Double(y + 1) * Double(population - successes - draws + y + 1))
    }

    /// pmf(y − 1) / pmf(y).
    private func ratioDown(_ y: Int) -> Double {
        (Double(y) * Double(population - successes - draws + y))
            / (Double(successes - y + 1) * Double(draws - y + 1))
    }

    /// ln Σ pmf(y) for y from `start` away from the mode to the end of the support. The terms are
    /// non-increasing in that direction (log-concavity), which bounds the rest by a geometric series.
    private func sumDecreasing(from start: Int, upward: Bool) -> Double {
        let range = support
        let first = logProbability(start)
        var sum = 1.0
        var term = 1.0
        var y = start
        let cutoff = 0x1p-60
        while upward ? y < range.upperBound : y > range.lowerBound {
            let ratio = upward ? ratioUp(y) : ratioDown(y)
            if ratio < 1 && term * ratio / (1 - ratio) < sum * cutoff { break }
            term *= ratio
            sum += term
            y += upward ? 1 : -1
        }
        return first + LogMath.ln(sum)
    }
}
