import Foundation

/// Rényi-DP accounting of the distributed mechanisms and of the central Gaussian mechanism they are compared
/// with (SPEC.md §15.6). Neighbouring inputs differ in one client's update replaced by zero (its noise stays),
/// so the sensitivities are those of one client's rounded vector: ‖z‖₂ ≤ Δ₂ and ‖z‖₁ ≤ Δ₁ = min(√D·Δ₂, Δ₂²)
/// (integer coordinates have |z| ≤ z²). RDP adds up over rounds; (ε, δ) comes from the best order.
public enum PrivacyAccountant {
    /// The RDP orders α: 2, 3, …, 256, then 288, 320, 384, 448, 512, 640, 768, 1024 (integers: the Skellam
    /// bound is stated for integer orders).
    public static let orders: [Double] =
        (2...256).map(Double.init) + [288, 320, 384, 448, 512, 640, 768, 1024]

    /// Terms of τ summed exactly before the rest is bounded by the last one (the terms decrease in k).
    static let tauExactTerms = 1000

    /// An upper bound on τ = 10·Σ_{k=1}^{n−1} exp(−2π²σ²·k/(k+1)) (KLS 2021, Theorem 1): the first 1000 terms
    /// exactly, each later term bounded by the 1000th. 0 for one client.
    public static func ddgTau(perClientVariance variance: Double, clientCount n: Int) -> Double {
        guard n >= 2 else { return 0 }
        let c = 2 * Double.pi * Double.pi * variance
        var sum = 0.0
        let exact = min(n - 1, tauExactTerms)
        var last = 0.0
        for k in 1...exact {
            last = exp(-c * Double(k) / Double(k + 1))
            sum += last
        }
        sum += Double(n - 1 - exact) * last
        return 10 * sum
    }

    /// One round of the distributed discrete Gaussian (KLS 2021, Proposition 14 with Theorem 1): the sum of n
    /// honest clients' N_Z(0, σ²)^d noise, per-client σ ≥ 1/2, satisfies (α, ε(α))-RDP with
    /// ε(α) = min{ α/2·Δ₂²/(nσ²) + τd, α/2·(Δ₂²/(nσ²) + 2Δ₁τ/(√n·σ) + τ²d), α/2·(Δ₂/(√n·σ) + τ√d)² }.
    /// +∞ below σ = 1/2.
    public static func ddgRdp(
        order alpha: Double, l2Sensitivity l2: Double, l1Sensitivity l1: Double, perClientVariance variance: Double,
        honestClients n: Int, dimension d: Int
    ) -> Double {
        guard variance >= 0.25, n >= 1 else { return .infinity }
        let tau = ddgTau(perClientVariance: variance, clientCount: n)
        return ddgRdp(
            order: alpha, l2Sensitivity: l2, l1Sensitivity: l1, perClientVariance: variance, honestClients: n,
            dimension: d, tau: tau)
    }

    static func ddgRdp(
        order alpha: Double, l2Sensitivity l2: Double, l1Sensitivity l1: Double, perClientVariance variance: Double,
        honestClients n: Int, dimension d: Int, tau: Double
    ) -> Double {
        let total = Double(n) * variance
        let dd = Double(d)
        // Each form is the Gaussian term plus a non-negative correction; computing the Gaussian term by the
        // same expression keeps the result ≥ the Gaussian curve in floating point too.
        let gaussian = gaussianRdp(order: alpha, l2Sensitivity: l2, variance: total)
        let first = gaussian + tau * dd
        let second = gaussian + alpha / 2 * (2 * l1 * tau / total.squareRoot() + tau * tau * dd)
        let root = l2 / total.squareRoot() + tau * dd.squareRoot()
        let third = max(gaussian, alpha / 2 * root * root)
        return min(first, second, third)
    }

    /// One round of the distributed Skellam mechanism (Agarwal, Kairouz & Liu 2021, Corollary 3.6 of
    /// arXiv:2110.04995v2, the multi-dimensional form of their Theorem 3.5): noise Sk with total variance μ
    /// (the honest clients' 2λ summed) satisfies (α, ε(α))-RDP for integer α > 1 with
    /// ε(α) = α·Δ₂²/(2μ) + min{ ((2α − 1)·Δ₂² + 6Δ₁)/(4μ²), 3Δ₁/(2μ) }.
    public static func skellamRdp(
        order alpha: Double, l2Sensitivity l2: Double, l1Sensitivity l1: Double, totalVariance mu: Double
    ) -> Double {
        guard mu > 0 else { return .infinity }
        return gaussianRdp(order: alpha, l2Sensitivity: l2, variance: mu)
            + min(((2 * alpha - 1) * l2 * l2 + 6 * l1) / (4 * mu * mu), 3 * l1 / (2 * mu))
    }

    /// The Gaussian mechanism N(0, variance) with L2 sensitivity Δ (Mironov 2017, Table II): α·Δ²/(2·variance).
    public static func gaussianRdp(order alpha: Double, l2Sensitivity l2: Double, variance: Double) -> Double {
        alpha * l2 * l2 / (2 * variance)
    }

    /// (ε, δ) after `rounds` rounds of a mechanism with per-round RDP `rdp`: RDP composes additively
    /// (Mironov 2017, Proposition 1) and converts with ε = T·ε(α) + ln((α − 1)/α) − (ln δ + ln α)/(α − 1)
    /// (Canonne, Kamath & Steinke 2020, Proposition 12; Balle et al. 2020, Theorem 21), minimized over
    /// ``orders``. Every order gives a valid bound; the scan stops 24 orders after the last improvement (the
    /// curve is unimodal in practice, and stopping early could only report a larger ε). Returns ε ≥ 0 and the
    /// best order.
    public static func epsilon(delta: Double, rounds: Int, rdp: (Double) -> Double) -> (epsilon: Double, order: Double)
    {
        var best = Double.infinity
        var bestIndex = 0
        for (index, alpha) in orders.enumerated() {
            let value = Double(rounds) * rdp(alpha) + log((alpha - 1) / alpha) - (log(delta) + log(alpha)) / (alpha - 1)
            if value < best {
                best = value
                bestIndex = index
            } else if index - bestIndex >= 24 {
                break
            }
        }
        return (max(0, best), orders[bestIndex])
    }

    /// The L1 sensitivity of an integer vector of L2 norm ≤ Δ₂ in dimension D: min(√D·Δ₂, Δ₂²).
    public static func l1Sensitivity(l2Sensitivity l2: Double, dimension: Int) -> Double {
        min(Double(dimension).squareRoot() * l2, l2 * l2)
    }

    /// ε of `rounds` rounds of `encoding` with `honestClients` clients adding its noise.
    public static func epsilon(
        of encoding: PrivacyEncoding, honestClients n: Int, rounds: Int, delta: Double
    ) -> (epsilon: Double, order: Double) {
        let l2 = encoding.l2Bound
        let dimension = encoding.paddedDimension
        let l1 = l1Sensitivity(l2Sensitivity: l2, dimension: dimension)
        switch encoding.noise {
        case .discreteGaussian:
            let variance = encoding.noise.variance
            let tau = variance >= 0.25 ? ddgTau(perClientVariance: variance, clientCount: n) : .infinity
            return epsilon(delta: delta, rounds: rounds) { alpha in
                ddgRdp(
                    order: alpha, l2Sensitivity: l2, l1Sensitivity: l1, perClientVariance: variance,
                    honestClients: n, dimension: dimension, tau: tau)
            }
        case .skellam:
            let mu = Double(n) * encoding.noise.variance
            return epsilon(delta: delta, rounds: rounds) { alpha in
                skellamRdp(order: alpha, l2Sensitivity: l2, l1Sensitivity: l1, totalVariance: mu)
            }
        }
    }

    // MARK: The central Gaussian mechanism, exactly

    /// Φ, the standard normal CDF.
    static func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// δ(ε) of the Gaussian mechanism with Δ/σ = μ (Balle & Wang 2018, Theorem 8; with T rounds, μ = √T·Δ/σ,
    /// Dong, Roth & Su 2019): Φ(−ε/μ + μ/2) − e^ε·Φ(−ε/μ − μ/2).
    public static func gaussianDelta(epsilon: Double, mu: Double) -> Double {
        normalCDF(-epsilon / mu + mu / 2) - exp(epsilon) * normalCDF(-epsilon / mu - mu / 2)
    }

    /// The smallest σ for which `rounds` rounds of the central Gaussian mechanism N(0, σ²) on a sum with
    /// L2 sensitivity `sensitivity` are exactly (ε, δ)-DP (bisection on μ = √T·Δ/σ to 10^−12 relative).
    public static func centralGaussianStddev(epsilon: Double, delta: Double, rounds: Int, sensitivity: Double)
        -> Double
    {
        var low = 1e-6
        var high = 1.0
        while gaussianDelta(epsilon: epsilon, mu: high) <= delta && high < 1e6 { high *= 2 }
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if gaussianDelta(epsilon: epsilon, mu: mid) <= delta { low = mid } else { high = mid }
            if high - low <= 1e-12 * low { break }
        }
        return Double(rounds).squareRoot() * sensitivity / low
    }

    /// The smallest σ for which the central Gaussian mechanism reaches (ε, δ) over `rounds` rounds through the
    /// same RDP accounting as the distributed mechanisms (bisection to 10^−9 relative): the comparison that
    /// isolates the price of distribution from RDP's slack.
    public static func centralGaussianStddevRdp(epsilon: Double, delta: Double, rounds: Int, sensitivity: Double)
        -> Double
    {
        func reaches(_ sigma: Double) -> Bool {
            Self.epsilon(delta: delta, rounds: rounds) { alpha in
                gaussianRdp(order: alpha, l2Sensitivity: sensitivity, variance: sigma * sigma)
            }.epsilon <= epsilon
        }
        var high = sensitivity
        while !reaches(high) && high < 1e12 { high *= 2 }
        var low = high / 2
        while reaches(low) && low > 1e-12 { low /= 2 }
        for _ in 0..<100 {
            let mid = (low + high) / 2
            if reaches(mid) { high = mid } else { low = mid }
            if high - low <= 1e-9 * high { break }
        }
        return high
    }
}
