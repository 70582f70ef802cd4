import Foundation
import SecAggCrypto
import Testing

@testable import SecAggPrivacy

struct AccountantTests {
    /// Published forms, reproduced number for number.
    ///
    /// Mironov, "Rényi Differential Privacy" (CSF 2017), Table II, Gaussian mechanism: ε(α) = α/(2σ²) at
    /// sensitivity 1. Bun & Steinke (TCC 2016), Proposition 1.3: ρ-zCDP (here ρ = 1/(2σ²), the same curve)
    /// implies (ρ + 2√(ρ·ln(1/δ)), δ)-DP, an upper bound on our conversion. Dwork & Roth (2014), Theorem A.1:
    /// σ = √(2 ln(1.25/δ))/ε suffices for ε < 1, an upper bound on the exact calibration of Balle & Wang
    /// (ICML 2018), which in turn sits at δ(ε) = δ. Google's dp_accounting 0.6.0 (RdpAccountant with our
    /// orders) reports ε = 19.801691480042894, 1.1431687205814116 and 1579.5343863828323 for the cases
    /// below; the same conversion formula reproduces them to 10^−9. Balle & Wang's abstract: the analytic
    /// calibration "removes at least a third of the variance of the noise compared to the classical Gaussian
    /// mechanism" (checked at δ = 10^−5).
    @Test func publishedFigures() {
        for sigma in [0.5, 1.0, 4.0, 37.5] {
            for alpha in [2.0, 3.0, 64.0] {
                #expect(
                    PrivacyAccountant.gaussianRdp(order: alpha, l2Sensitivity: 1, variance: sigma * sigma) == alpha
                        / (2 * sigma * sigma))
            }
            let rho = 1 / (2 * sigma * sigma)
            for delta in [1e-5, 1e-8] {
                let ours = PrivacyAccountant.epsilon(delta: delta, rounds: 1) { alpha in alpha * rho }.epsilon
                #expect(ours <= rho + 2 * (rho * log(1 / delta)).squareRoot())
            }
        }
        for (epsilon, delta) in [(0.5, 1e-5), (0.9, 1e-6)] {
            let classical = (2 * log(1.25 / delta)).squareRoot() / epsilon
            let exact = PrivacyAccountant.centralGaussianStddev(
                epsilon: epsilon, delta: delta, rounds: 1, sensitivity: 1)
            #expect(exact < classical)
            #expect(
                abs(PrivacyAccountant.gaussianDelta(epsilon: epsilon, mu: 1 / exact) - delta) < 1e-9 * delta + 1e-15)
        }
        // Balle & Wang (ICML 2018), abstract: "analytical calibration removes at least a third of the variance of
        // the noise compared to the classical Gaussian mechanism" — here at δ = 10^−5, ε ∈ (0, 1] (variance
        // ratios 0.25, 0.40, 0.53, 0.59; at (ε, δ) = (1, 10^−5) σ = 3.7306 against 4.8448).
        for epsilon in [0.01, 0.1, 0.5, 1.0] {
            let classical = (2 * log(1.25 / 1e-5)).squareRoot() / epsilon
            let exact = PrivacyAccountant.centralGaussianStddev(
                epsilon: epsilon, delta: 1e-5, rounds: 1, sensitivity: 1)
            #expect((exact / classical) * (exact / classical) <= 2.0 / 3)
        }
        #expect(
            abs(PrivacyAccountant.centralGaussianStddev(epsilon: 1, delta: 1e-5, rounds: 1, sensitivity: 1) - 3.7306)
                < 1e-4)
        let googleFigures: [(z: Double, rounds: Int, delta: Double, epsilon: Double)] = [
            (1.0, 10, 1e-5, 19.801691480042894), (4.0, 1, 1e-6, 1.1431687205814116),
            (0.8, 1000, 1e-8, 1579.5343863828323),
        ]
        for f in googleFigures {
            let ours = PrivacyAccountant.epsilon(delta: f.delta, rounds: f.rounds) { alpha in
                PrivacyAccountant.gaussianRdp(order: alpha, l2Sensitivity: 1, variance: f.z * f.z)
            }.epsilon
            #expect(abs(ours - f.epsilon) <= 1e-9 * f.epsilon, "z = \(f.z): \(ours)")
        }
    }

    /// With one client KLS's bound is the discrete Gaussian's ½(Δ/σ)²-zCDP of Canonne, Kamath & Steinke
    /// (τ = 0), i.e. the Gaussian curve; with much noise the Skellam bound tends to the Gaussian one.
    @Test func limitsAreTheGaussianCurve() {
        for alpha in [2.0, 10.0, 100.0] {
            let ddg = PrivacyAccountant.ddgRdp(
                order: alpha, l2Sensitivity: 3, l1Sensitivity: 9, perClientVariance: 50, honestClients: 1,
                dimension: 1000)
            #expect(abs(ddg - alpha * 9 / 100) < 1e-12)
            let skellam = PrivacyAccountant.skellamRdp(
                order: alpha, l2Sensitivity: 3, l1Sensitivity: 9, totalVariance: 1e12)
            #expect(abs(skellam / (alpha * 9 / 2e12) - 1) < 1e-5)
        }
        #expect(PrivacyAccountant.ddgTau(perClientVariance: 1, clientCount: 1) == 0)
        #expect(
            PrivacyAccountant.ddgRdp(
                order: 2, l2Sensitivity: 1, l1Sensitivity: 1, perClientVariance: 0.2, honestClients: 3, dimension: 4)
                == .infinity)
    }

    /// ε never falls below the continuous Gaussian mechanism's at the same total variance, sensitivity,
    /// rounds and δ (SPEC.md §15.6), over random parameters.
    @Test func neverBelowTheContinuousGaussian() {
        var rng = DeterministicRandomGenerator(testLabel: "vs-gaussian")
        for _ in 0..<120 {
            let n = 1 + Int(rng.next(below: 2000))
            let perClient = 0.25 + rng.nextUnitDouble() * pow(10, Double(rng.next(below: 8)))
            let l2 = 1 + rng.nextUnitDouble() * 1e4
            let dimension = 1 << Int(rng.next(below: 18))
            let l1 = PrivacyAccountant.l1Sensitivity(l2Sensitivity: l2, dimension: dimension)
            let rounds = 1 + Int(rng.next(below: 1000))
            let delta = pow(10, -Double(3 + rng.next(below: 8)))
            let total = Double(n) * perClient
            let gaussian = PrivacyAccountant.epsilon(delta: delta, rounds: rounds) { alpha in
                PrivacyAccountant.gaussianRdp(order: alpha, l2Sensitivity: l2, variance: total)
            }.epsilon
            let ddg = PrivacyAccountant.epsilon(delta: delta, rounds: rounds) { alpha in
                PrivacyAccountant.ddgRdp(
                    order: alpha, l2Sensitivity: l2, l1Sensitivity: l1, perClientVariance: perClient, honestClients: n,
                    dimension: dimension)
            }.epsilon
            let skellam = PrivacyAccountant.epsilon(delta: delta, rounds: rounds) { alpha in
                PrivacyAccountant.skellamRdp(order: alpha, l2Sensitivity: l2, l1Sensitivity: l1, totalVariance: total)
            }.epsilon
            #expect(ddg >= gaussian)
            #expect(skellam >= gaussian)
        }
    }

    /// ε grows with rounds, sensitivity, dimension (DDGauss's τd) and the number of clients sharing a fixed
    /// total variance, and shrinks as δ and the variance grow.
    @Test func monotoneInEveryParameter() {
        func ddg(
            rounds: Int = 10, l2: Double = 100, dimension: Int = 1 << 12, n: Int = 100, total: Double = 4e4,
            delta: Double = 1e-6
        ) -> Double {
            let l1 = PrivacyAccountant.l1Sensitivity(l2Sensitivity: l2, dimension: dimension)
            return PrivacyAccountant.epsilon(delta: delta, rounds: rounds) { alpha in
                PrivacyAccountant.ddgRdp(
                    order: alpha, l2Sensitivity: l2, l1Sensitivity: l1, perClientVariance: total / Double(n),
                    honestClients: n, dimension: dimension)
            }.epsilon
        }
        func skellam(
            rounds: Int = 10, l2: Double = 100, dimension: Int = 1 << 12, total: Double = 4e4, delta: Double = 1e-6
        ) -> Double {
            let l1 = PrivacyAccountant.l1Sensitivity(l2Sensitivity: l2, dimension: dimension)
            return PrivacyAccountant.epsilon(delta: delta, rounds: rounds) { alpha in
                PrivacyAccountant.skellamRdp(order: alpha, l2Sensitivity: l2, l1Sensitivity: l1, totalVariance: total)
            }.epsilon
        }
        #expect(ddg(rounds: 1) < ddg(rounds: 10) && ddg(rounds: 10) < ddg(rounds: 100))
        #expect(ddg(l2: 50) < ddg(l2: 100) && ddg(l2: 100) < ddg(l2: 200))
        #expect(ddg(delta: 1e-8) > ddg(delta: 1e-6) && ddg(delta: 1e-6) > ddg(delta: 1e-4))
        #expect(ddg(total: 1e4) > ddg(total: 4e4) && ddg(total: 4e4) > ddg(total: 1e6))
        // Small per-client σ makes τ matter: more clients for the same total, and more dimensions, cost more.
        #expect(
            ddg(n: 1000, total: 4000) < ddg(n: 2000, total: 4000)
                && ddg(n: 2000, total: 4000) < ddg(n: 4000, total: 4000))
        #expect(ddg(dimension: 1 << 10, n: 4000, total: 4000) < ddg(dimension: 1 << 16, n: 4000, total: 4000))
        #expect(skellam(rounds: 1) < skellam(rounds: 10) && skellam(rounds: 10) < skellam(rounds: 100))
        #expect(skellam(l2: 50) < skellam(l2: 100) && skellam(l2: 100) < skellam(l2: 200))
        #expect(skellam(dimension: 1 << 4) <= skellam(dimension: 1 << 12))
        #expect(skellam(delta: 1e-8) > skellam(delta: 1e-6))
        #expect(skellam(total: 1e4) > skellam(total: 4e4))
    }
}

struct PlannerTests {
    static let request = PrivacyPlanRequest(
        mechanism: .ddgauss, epsilon: 2, delta: 1e-5, rounds: 10, clientCount: 50, dimension: 1000,
        modulus: .powerOfTwo(bitWidth: 20))

    /// The plan meets ε (recomputed independently), its wrap bound is below 2^−40, and γ is the largest such:
    /// 1% more γ breaks a constraint while 10% less only raises the mean-squared error.
    @Test(arguments: DistributedMechanism.allCases)
    func planMeetsItsConstraintsAndMinimizesTheError(_ mechanism: DistributedMechanism) throws {
        var request = Self.request
        request.mechanism = mechanism
        let plan = try PrivacyPlan.plan(request)
        let recomputed = PrivacyAccountant.epsilon(of: plan.encoding, honestClients: 50, rounds: 10, delta: 1e-5)
        #expect(recomputed.epsilon <= 2 && abs(recomputed.epsilon - plan.epsilon) < 1e-9)
        #expect(plan.wrapProbabilityLog2 <= -40)
        #expect(plan.encoding.noise.mechanism == mechanism)
        let larger = plan.encoding.scale * 1.01
        let noise = PrivacyPlan.noise(request, scale: larger, beta: plan.beta)
        #expect(noise.map { PrivacyPlan.wrapProbabilityLog2(request, scale: larger, noise: $0.noise) > -40 } ?? true)
        let smaller = plan.encoding.scale * 0.9
        let smallerNoise = try #require(PrivacyPlan.noise(request, scale: smaller, beta: plan.beta))
        let smallerError = (smallerNoise.noise.variance + 0.25) / (smaller * smaller * 50)
        #expect(smallerError > plan.meanSquaredError)
        // The distributed mechanism costs more than central DP, not orders of magnitude more.
        #expect(plan.meanSquaredError > plan.centralMeanSquaredError)
        #expect(plan.meanSquaredError < 3 * plan.centralMeanSquaredError)
    }

    /// Dropouts and noiseless clients: the noise is calibrated for the honest clients of the smallest session.
    @Test func calibratesForTheFewestHonestClients() throws {
        var request = Self.request
        request.modulus = .powerOfTwo(bitWidth: 32)
        let full = try PrivacyPlan.plan(request)
        request.minimumClientCount = 34
        request.noiselessClientCount = 4
        let reduced = try PrivacyPlan.plan(request)
        #expect(request.honestClientCount == 30)
        let perClientFull = full.noiseVariance / (full.encoding.scale * full.encoding.scale)
        let perClientReduced = reduced.noiseVariance / (reduced.encoding.scale * reduced.encoding.scale)
        #expect(abs(perClientReduced / perClientFull - 50.0 / 30) < 0.02)
        let epsilon = PrivacyAccountant.epsilon(of: reduced.encoding, honestClients: 30, rounds: 10, delta: 1e-5)
            .epsilon
        #expect(epsilon <= 2)
        request.noiselessClientCount = 34
        #expect(throws: PrivacyError.self) { try PrivacyPlan.plan(request) }
    }

    /// An infeasible request names what alone would work, and each of those indeed works.
    @Test func infeasibleRequestsSayWhatWouldWork() throws {
        var request = Self.request
        request.modulus = .powerOfTwo(bitWidth: 12)
        request.epsilon = 0.5
        request.rounds = 50
        let failure: PrivacyError? =
            switch Result(catching: { () throws(PrivacyError) in try PrivacyPlan.plan(request) }) {
            case .success: nil
            case let .failure(error): error
            }
        guard case let .infeasiblePlan(reason, bits, epsilon, rounds) = failure else {
            Issue.record("expected an infeasible plan, got \(String(describing: failure))")
            return
        }
        #expect(reason.contains("2^12"))
        let b = try #require(bits)
        let e = try #require(epsilon)
        let t = try #require(rounds)
        var wider = request
        wider.modulus = .powerOfTwo(bitWidth: b)
        _ = try PrivacyPlan.plan(wider)
        wider.modulus = .powerOfTwo(bitWidth: b - 1)
        #expect(throws: PrivacyError.self) { try PrivacyPlan.plan(wider) }
        var looser = request
        looser.epsilon = e
        _ = try PrivacyPlan.plan(looser)
        var fewer = request
        fewer.rounds = t
        _ = try PrivacyPlan.plan(fewer)
        fewer.rounds = t + 1
        #expect(throws: PrivacyError.self) { try PrivacyPlan.plan(fewer) }
        #expect(failure?.description.contains("at least \(b) bits") == true)
    }

    /// Bad requests are typed errors, never crashes.
    @Test func badRequestsAreRejected() {
        let bad: [PrivacyPlanRequest] = [
            .init(epsilon: 0, delta: 1e-5, clientCount: 10, dimension: 10),
            .init(epsilon: .infinity, delta: 1e-5, clientCount: 10, dimension: 10),
            .init(epsilon: 1, delta: 0, clientCount: 10, dimension: 10),
            .init(epsilon: 1, delta: 1, clientCount: 10, dimension: 10),
            .init(epsilon: 1, delta: 1e-5, rounds: 0, clientCount: 10, dimension: 10),
            .init(epsilon: 1, delta: 1e-5, clientCount: 0, dimension: 10),
            .init(epsilon: 1, delta: 1e-5, clientCount: 10, minimumClientCount: 11, dimension: 10),
            .init(epsilon: 1, delta: 1e-5, clientCount: 10, dimension: 0),
            .init(epsilon: 1, delta: 1e-5, clientCount: 10, dimension: 10, clipNorm: -1),
            .init(epsilon: 1, delta: 1e-5, clientCount: 10, dimension: 10, modulus: .powerOfTwo(bitWidth: 65)),
        ]
        for request in bad {
            #expect(throws: PrivacyError.self) { try PrivacyPlan.plan(request) }
        }
    }

    /// The decoder refuses aggregates over fewer clients than the noise is calibrated for, or more than planned.
    @Test func decodeRefusesUncoveredClientCounts() throws {
        var request = Self.request
        request.minimumClientCount = 40
        let plan = try PrivacyPlan.plan(request)
        let zero = [UInt64](repeating: 0, count: plan.encoding.paddedDimension)
        let seed = [UInt8](repeating: 1, count: 32)
        #expect(throws: PrivacyError.tooFewContributors(included: 39, minimum: 40)) {
            _ = try plan.decodeMean(zero, includedClientCount: 39, rotationSeed: seed)
        }
        #expect(throws: PrivacyError.tooManyContributors(included: 51, maximum: 50)) {
            _ = try plan.decodeMean(zero, includedClientCount: 51, rotationSeed: seed)
        }
        #expect(
            try plan.decodeMean(zero, includedClientCount: 45, rotationSeed: seed)
                == [Double](repeating: 0, count: 1000))
    }
}
