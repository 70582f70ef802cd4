import Foundation
public import SecAggCrypto

/// What a distributed-DP plan must achieve (SPEC.md §15.8).
public struct PrivacyPlanRequest: Hashable, Sendable, Codable {
    /// DDGauss or Skellam.
    public var mechanism: DistributedMechanism
    /// Target ε over all rounds.
    public var epsilon: Double
    /// Target δ.
    public var delta: Double
    /// Rounds T the guarantee composes over.
    public var rounds: Int
    /// n: the cohort; at most n clients are summed (the wrap bound assumes all of them).
    public var clientCount: Int
    /// The fewest clients a session can finish with (t + 1 for threshold t): the noise is calibrated for
    /// them, so the guarantee holds however many drop out.
    public var minimumClientCount: Int
    /// Clients assumed to add no noise (corrupt or faulty), counted among the minimum.
    public var noiselessClientCount: Int
    /// d: model coordinates per update.
    public var dimension: Int
    /// C: the L2 clip norm of one update.
    public var clipNorm: Double
    /// The ring.
    public var modulus: RingModulus

    /// A request; `minimumClientCount` defaults to n (no dropouts).
    public init(
        mechanism: DistributedMechanism = .ddgauss, epsilon: Double, delta: Double, rounds: Int = 1,
        clientCount: Int, minimumClientCount: Int? = nil, noiselessClientCount: Int = 0, dimension: Int,
        clipNorm: Double = 1, modulus: RingModulus = .powerOfTwo(bitWidth: 32)
    ) {
        self.mechanism = mechanism
        self.epsilon = epsilon
        self.delta = delta
        self.rounds = rounds
        self.clientCount = clientCount
        self.minimumClientCount = minimumClientCount ?? clientCount
        self.noiselessClientCount = noiselessClientCount
        self.dimension = dimension
        self.clipNorm = clipNorm
        self.modulus = modulus
    }

    /// The clients whose noise the guarantee counts: minimum − noiseless.
    public var honestClientCount: Int { minimumClientCount - noiselessClientCount }

    /// D.
    public var paddedDimension: Int { RandomizedHadamard.paddedDimension(for: dimension) }

    func validate() throws(PrivacyError) {
        guard epsilon.isFinite, epsilon > 0 else {
            throw .invalidParameter(name: "ε", reason: "must be finite and positive, got \(epsilon)")
        }
        guard delta.isFinite, delta > 0, delta < 1 else {
            throw .invalidParameter(name: "δ", reason: "must lie strictly between 0 and 1, got \(delta)")
        }
        guard rounds >= 1, rounds <= 1 << 30 else {
            throw .invalidParameter(name: "rounds", reason: "must be in 1...2^30, got \(rounds)")
        }
        guard clientCount >= 1, clientCount <= 1 << 24 else {
            throw .invalidParameter(name: "clients", reason: "must be in 1...2^24, got \(clientCount)")
        }
        guard minimumClientCount >= 1, minimumClientCount <= clientCount else {
            throw .invalidParameter(
                name: "minimum clients", reason: "must be in 1...\(clientCount), got \(minimumClientCount)")
        }
        guard noiselessClientCount >= 0, honestClientCount >= 1 else {
            throw .invalidParameter(
                name: "noiseless clients",
                reason: "\(noiselessClientCount) of the \(minimumClientCount) clients the session can finish with "
                    + "leaves no client whose noise counts")
        }
        guard dimension >= 1, dimension <= PrivacyEncoding.maximumDimension else {
            throw .invalidParameter(name: "dimension", reason: "must be in 1...2^26, got \(dimension)")
        }
        guard clipNorm.isFinite, clipNorm > 0, clipNorm <= 0x1p40 else {
            throw .invalidParameter(name: "clip norm", reason: "must be finite, positive and at most 2^40")
        }
        do {
            try modulus.validate()
        } catch {
            throw .invalidParameter(name: "modulus", reason: "\(error)")
        }
    }
}

/// A distributed-DP plan (SPEC.md §15.8): the encoding every client applies, and what it guarantees and
/// costs. The planner chooses γ, the noise and the conditional-rounding bound (through β) so that T rounds
/// are (ε, δ)-DP counting only the honest noise of the fewest clients a session can finish with, the sum of
/// up to n clients wraps with probability below 2^−40 (a proven tail bound), and the mean-squared error is
/// the smallest these constraints allow.
public struct PrivacyPlan: Hashable, Sendable, Codable {
    /// log₂ of the largest allowed wrap probability.
    public static let wrapProbabilityTargetLog2 = -40.0
    /// The β the planner tries for conditional rounding (each rounding attempt fails with probability ≤ β).
    public static let betaCandidates = [exp(-0.5), exp(-2), exp(-8)]
    /// The norm slack allowed for Float64 clipping and rotation: ‖γ·rotate(x)‖₂ ≤ γ·C·(1 + 2^−30).
    static let normSlack = 1 + 0x1p-30

    /// The request.
    public let request: PrivacyPlanRequest
    /// What the clients apply.
    public let encoding: PrivacyEncoding
    /// β of the rounding bound Δ₂.
    public let beta: Double
    /// ε actually achieved (≤ the target) over the request's rounds, counting the honest clients' noise.
    public let epsilon: Double
    /// The RDP order that gives ``epsilon``.
    public let order: Double
    /// log₂ of the proven bound on the probability that the sum of n clients wraps.
    public let wrapProbabilityLog2: Double
    /// σ of the central Gaussian mechanism with the same (ε, δ, T) and sensitivity C on the exact sum.
    public let centralGaussianStddev: Double

    /// Per-client noise variance in integer units (σ² for DDGauss, 2λ for Skellam).
    public var noiseVariance: Double { encoding.noise.variance }

    /// The planned standard deviation of the decoded sum's noise when `included` clients are summed:
    /// √(included · variance) / γ.
    public func noiseStddev(includedClientCount included: Int) -> Double {
        (Double(included) * noiseVariance).squareRoot() / encoding.scale
    }

    /// The planned mean-squared error per coordinate of the decoded mean of `included` clients:
    /// (variance + 1/4) / (γ²·included), the rounding error counted at its largest variance 1/4 (clipping
    /// aside).
    public func meanSquaredError(includedClientCount included: Int) -> Double {
        (noiseVariance + 0.25) / (encoding.scale * encoding.scale * Double(included))
    }

    /// ``meanSquaredError(includedClientCount:)`` with all n clients.
    public var meanSquaredError: Double { meanSquaredError(includedClientCount: request.clientCount) }

    /// The central Gaussian mechanism's mean-squared error per coordinate of the mean of n clients.
    public var centralMeanSquaredError: Double {
        centralGaussianStddev * centralGaussianStddev / Double(request.clientCount * request.clientCount)
    }

    /// The decoded mean of `included` clients; refuses counts the plan does not cover.
    public func decodeMean(_ aggregate: [UInt64], includedClientCount included: Int, rotationSeed: [UInt8])
        throws(PrivacyError) -> [Double]
    {
        guard included >= request.minimumClientCount else {
            throw .tooFewContributors(included: included, minimum: request.minimumClientCount)
        }
        guard included <= request.clientCount else {
            throw .tooManyContributors(included: included, maximum: request.clientCount)
        }
        let sum = try encoding.decodeSum(aggregate, rotationSeed: rotationSeed)
        return sum.map { $0 / Double(included) }
    }

    // MARK: Planning

    /// The plan with the smallest mean-squared error for `request`, or ``PrivacyError/infeasiblePlan(reason:minimumBitWidth:minimumEpsilon:maximumRounds:)``
    /// saying what would work.
    public static func plan(_ request: PrivacyPlanRequest) throws(PrivacyError) -> PrivacyPlan {
        try request.validate()
        var best: PrivacyPlan?
        for beta in betaCandidates {
            guard let candidate = largestScalePlan(request, beta: beta) else { continue }
            if best.map({ candidate.meanSquaredError < $0.meanSquaredError }) ?? true { best = candidate }
        }
        if let best { return best }
        throw infeasibility(request)
    }

    /// The smallest ring Z_2^b (b ≤ 64) whose plan's mean-squared error is within `tolerance` times the
    /// plan's at 64 bits; nil when even 64 bits are infeasible.
    public static func bitsNeeded(_ request: PrivacyPlanRequest, tolerance: Double = 1.1) throws(PrivacyError) -> Int? {
        try request.validate()
        var wide = request
        wide.modulus = .powerOfTwo(bitWidth: 64)
        guard let reference = try? plan(wide) else { return nil }
        var low = 2
        var high = 64
        while low < high {
            let mid = (low + high) / 2
            var candidate = request
            candidate.modulus = .powerOfTwo(bitWidth: mid)
            if let p = try? plan(candidate), p.meanSquaredError <= tolerance * reference.meanSquaredError {
                high = mid
            } else {
                low = mid + 1
            }
        }
        return low
    }

    /// Δ₂ for γ and β: √min{c² + D/4 + √(2 ln(1/β))·(c + √D/2), (c + √D)²} with c = γ·C·(1 + 2^−30)
    /// (KLS 2021, Theorem 1; the first form only for β > 0).
    static func l2Bound(scale: Double, clipNorm: Double, paddedDimension: Int, beta: Double) -> Double {
        let c = scale * clipNorm * normSlack
        let root = Double(paddedDimension).squareRoot()
        var squared = (c + root) * (c + root)
        if beta > 0 {
            squared = min(
                squared, c * c + Double(paddedDimension) / 4 + (2 * log(1 / beta)).squareRoot() * (c + root / 2))
        }
        return squared.squareRoot().nextUp
    }

    /// The least representable noise for γ and β meeting the target ε, with the ε reached; nil when even the
    /// samplers' largest noise is not enough.
    static func noise(_ request: PrivacyPlanRequest, scale: Double, beta: Double)
        -> (noise: ClientNoise, epsilon: Double, order: Double, l2Bound: Double)?
    {
        let dimension = request.paddedDimension
        let l2 = l2Bound(scale: scale, clipNorm: request.clipNorm, paddedDimension: dimension, beta: beta)
        let l1 = PrivacyAccountant.l1Sensitivity(l2Sensitivity: l2, dimension: dimension)
        let n = request.honestClientCount
        func epsilon(_ noise: ClientNoise) -> (epsilon: Double, order: Double) {
            switch noise {
            case .discreteGaussian:
                let variance = noise.variance
                let tau = PrivacyAccountant.ddgTau(perClientVariance: variance, clientCount: n)
                return PrivacyAccountant.epsilon(delta: request.delta, rounds: request.rounds) { alpha in
                    PrivacyAccountant.ddgRdp(
                        order: alpha, l2Sensitivity: l2, l1Sensitivity: l1, perClientVariance: variance,
                        honestClients: n, dimension: dimension, tau: tau)
                }
            case .skellam:
                let mu = Double(n) * noise.variance
                return PrivacyAccountant.epsilon(delta: request.delta, rounds: request.rounds) { alpha in
                    PrivacyAccountant.skellamRdp(order: alpha, l2Sensitivity: l2, l1Sensitivity: l1, totalVariance: mu)
                }
            }
        }
        // Noise as a function of a real parameter x (σ² or λ), rounded up to a representable rational.
        let (low, high): (Double, Double) =
            request.mechanism == .ddgauss
            ? (0.25, Double(DiscreteGaussianSampler.maximumNumerator))
            : (0x1p-32, Double(PoissonSampler.maximumRate).nextDown)
        func make(_ x: Double) -> ClientNoise? {
            switch request.mechanism {
            case .ddgauss:
                guard let (n, d) = rational(atLeast: x, maximumNumerator: DiscreteGaussianSampler.maximumNumerator)
                else { return nil }
                return .discreteGaussian(varianceNumerator: n, varianceDenominator: d)
            case .skellam:
                // λ ≥ 1 is rounded up to an integer: a fractional part costs each Poisson sample a Poisson(1)
                // draw (§15.4), and one more unit of λ is nothing at these noise levels.
                if x >= 1 {
                    let whole = x.rounded(.up)
                    guard whole < Double(PoissonSampler.maximumRate) else { return nil }
                    return .skellam(rateNumerator: UInt64(whole), rateDenominator: 1)
                }
                guard let (n, d) = rational(atLeast: x, maximumNumerator: UInt64(1) << 62),
                    n / d < PoissonSampler.maximumRate
                else { return nil }
                return .skellam(rateNumerator: n, rateDenominator: d)
            }
        }
        guard let strongest = make(high), epsilon(strongest).epsilon <= request.epsilon else { return nil }
        if let weakest = make(low), case let reached = epsilon(weakest), reached.epsilon <= request.epsilon {
            return (weakest, reached.epsilon, reached.order, l2)
        }
        var lo = log(low)
        var hi = log(high)
        for _ in 0..<40 {
            let mid = (lo + hi) / 2
            if let noise = make(exp(mid)), epsilon(noise).epsilon <= request.epsilon { hi = mid } else { lo = mid }
        }
        guard let chosen = make(exp(hi)) else { return nil }
        let reached = epsilon(chosen)
        guard reached.epsilon <= request.epsilon else { return nil }
        return (chosen, reached.epsilon, reached.order, l2)
    }

    /// x rounded up to num / 2^e with e ≤ 32 as large as num ≤ maximumNumerator allows.
    static func rational(atLeast x: Double, maximumNumerator: UInt64) -> (UInt64, UInt64)? {
        guard x.isFinite, x > 0 else { return nil }
        var e = 32
        while e >= 0 {
            let scaled = (x * Double(sign: .plus, exponent: e, significand: 1)).rounded(.up)
            if scaled <= Double(maximumNumerator) { return (UInt64(scaled), UInt64(1) << UInt64(e)) }
            e -= 1
        }
        return nil
    }

    /// log₂ of the proven bound on P[some coordinate of the sum of n clients leaves [−H, H]] (SPEC.md §15.8):
    /// D · 2·P[S ≥ H − n], S = signal + noise, with the signal γ·(rotated sum of ≤ n clipped updates) a
    /// Rademacher sum with variance proxy s² = (γ·C·(1 + 2^−30)·n)²/D, rounding errors below n in magnitude,
    /// and the noise nσ²-subgaussian (DDGauss) or with the Skellam moment generating function
    /// exp(2nλ(cosh t − 1)): P[S ≥ a] ≤ min_t exp(−ta + t²s²/2 + log MGF_noise(t)).
    static func wrapProbabilityLog2(_ request: PrivacyPlanRequest, scale: Double, noise: ClientNoise) -> Double {
        let n = Double(request.clientCount)
        let dimension = Double(request.paddedDimension)
        let half: Double
        switch request.modulus {
        case let .powerOfTwo(b): half = b >= 64 ? 0x1p63 : Double(sign: .plus, exponent: b - 1, significand: 1) - 1
        case let .integer(q): half = Double((q - 1) / 2)
        }
        let a = half - n
        guard a > 0 else { return 0 }
        let signal = scale * request.clipNorm * normSlack * n
        let s2 = signal * signal / dimension
        let logTail: Double
        switch noise {
        case .discreteGaussian:
            logTail = -a * a / (2 * (s2 + n * noise.variance))
        case .skellam:
            let lambda = n * noise.variance / 2
            // Minimize f(t) = −ta + t²s²/2 + 2λ(cosh t − 1): f′ is increasing, zero in [0, min(a/s², asinh(a/2λ))].
            var lo = 0.0
            var hi = min(s2 > 0 ? a / s2 : .infinity, asinh(a / (2 * lambda)))
            for _ in 0..<200 {
                let mid = (lo + hi) / 2
                if -a + mid * s2 + 2 * lambda * sinh(mid) < 0 { lo = mid } else { hi = mid }
            }
            let t = (lo + hi) / 2
            logTail = -t * a + t * t * s2 / 2 + 2 * lambda * (cosh(t) - 1)
        }
        return min(0, log2(2 * dimension) + logTail / log(2))
    }

    /// For one β: the largest γ with a feasible plan (bisection on log₂ γ; feasibility only shrinks as γ
    /// grows), or nil when even the smallest γ is infeasible.
    static func largestScalePlan(_ request: PrivacyPlanRequest, beta: Double) -> PrivacyPlan? {
        func attempt(_ logScale: Double) -> PrivacyPlan? {
            let scale = exp2(logScale)
            guard let found = noise(request, scale: scale, beta: beta) else { return nil }
            let wrap = wrapProbabilityLog2(request, scale: scale, noise: found.noise)
            guard wrap <= wrapProbabilityTargetLog2 else { return nil }
            guard
                let encoding = try? PrivacyEncoding(
                    dimension: request.dimension, clipNorm: request.clipNorm, scale: scale, l2Bound: found.l2Bound,
                    noise: found.noise, modulus: request.modulus)
            else { return nil }
            return PrivacyPlan(
                request: request, encoding: encoding, beta: beta, epsilon: found.epsilon, order: found.order,
                wrapProbabilityLog2: wrap,
                centralGaussianStddev: PrivacyAccountant.centralGaussianStddev(
                    epsilon: request.epsilon, delta: request.delta, rounds: request.rounds,
                    sensitivity: request.clipNorm))
        }
        let minimum = log2(1 / request.clipNorm) - 30
        let maximum = log2(0x1p50 / request.clipNorm) - 1
        guard var feasible = attempt(minimum) else { return nil }
        if let top = attempt(maximum) { return top }
        var lo = minimum
        var hi = maximum
        for _ in 0..<34 {
            let mid = (lo + hi) / 2
            if let plan = attempt(mid) {
                feasible = plan
                lo = mid
            } else {
                hi = mid
            }
        }
        return feasible
    }

    /// True when some plan exists (the smallest γ is feasible for some β).
    static func isFeasible(_ request: PrivacyPlanRequest) -> Bool {
        guard (try? request.validate()) != nil else { return false }
        let minimum = exp2(log2(1 / request.clipNorm) - 30)
        for beta in betaCandidates {
            if let found = noise(request, scale: minimum, beta: beta),
                wrapProbabilityLog2(request, scale: minimum, noise: found.noise) <= wrapProbabilityTargetLog2
            {
                return true
            }
        }
        return false
    }

    /// The error for an infeasible request: what alone would work (more bits, a larger ε, fewer rounds).
    static func infeasibility(_ request: PrivacyPlanRequest) -> PrivacyError {
        var bits: Int?
        if case let .powerOfTwo(current) = request.modulus, current < 64 {
            for b in (current + 1)...64 {
                var wider = request
                wider.modulus = .powerOfTwo(bitWidth: b)
                if isFeasible(wider) {
                    bits = b
                    break
                }
            }
        }
        var epsilon: Double?
        var larger = request
        larger.epsilon = 1e4
        if isFeasible(larger) {
            var lo = log(request.epsilon)
            var hi = log(1e4)
            for _ in 0..<40 {
                let mid = (lo + hi) / 2
                larger.epsilon = exp(mid)
                if isFeasible(larger) { hi = mid } else { lo = mid }
            }
            epsilon = exp(hi)
        }
        var rounds: Int?
        if request.rounds > 1 {
            var fewer = request
            fewer.rounds = 1
            if isFeasible(fewer) {
                var lo = 1
                var hi = request.rounds - 1
                while lo < hi {
                    let mid = (lo + hi + 1) / 2
                    fewer.rounds = mid
                    if isFeasible(fewer) { lo = mid } else { hi = mid - 1 }
                }
                rounds = lo
            }
        }
        let ring = "\(request.modulus)"
        return .infeasiblePlan(
            reason:
                "no γ gives ε ≤ \(request.epsilon) over \(request.rounds) round(s) for \(request.honestClientCount) "
                + "honest clients with a sum of \(request.clientCount) clients that wraps modulo \(ring) with "
                + "probability below 2^−40",
            minimumBitWidth: bits, minimumEpsilon: epsilon, maximumRounds: rounds)
    }
}
