import Foundation
import SecAggCrypto
import Testing

@testable import SecAggGraph

private func find(_ n: Int, _ gamma: Double, _ delta: Double, _ model: AdversaryModel) throws(GraphError)
    -> SecAggPlusParameters
{
    try ParameterFinder.find(clientCount: n, corruptFraction: gamma, dropoutFraction: delta, model: model)
}

@Test(arguments: AdversaryModel.allCases)
func foundParametersMeetBoundsAndAreMinimal(model: AdversaryModel) throws {
    for (n, gamma, delta) in [
        (100, 0.05, 0.05), (1000, 0.05, 0.05), (100_000, 0.05, 0.05), (1000, 0.2, 0.1),
        (10_000, 0.1, 0.3), (3000, 0.3, 0.3), (1_000_000, 0.33, 0.33),
    ] {
        let p = try find(n, gamma, delta, model)
        #expect(p.meetsBounds, "\(p)")
        #expect(p.threshold >= ParameterFinder.minimumThreshold && p.threshold <= p.degree)
        let analysis = try Analysis(
            clientCount: n, corruptFraction: gamma, dropoutFraction: delta, model: model, sigma: 40, eta: 20)
        // t lies in the feasible interval of k, and the next smaller even degree is infeasible.
        let range = try #require(analysis.thresholdRange(degree: p.degree))
        #expect(range.contains(p.threshold))
        if p.degree - 2 >= 2 && !p.usesCompleteGraph {
            #expect(analysis.thresholdRange(degree: p.degree - 2) == nil)
        }
        if p.usesCompleteGraph {
            #expect(p.degree == n - 1)
        } else {
            #expect(p.degree.isMultiple(of: 2) && p.degree <= n - 2)
            #expect(p.graph == .harary(degree: p.degree))
        }
        // `evaluate` reproduces the reported bounds.
        let again = try ParameterFinder.evaluate(
            clientCount: n, corruptFraction: gamma, dropoutFraction: delta, model: model, degree: p.degree,
            threshold: p.threshold)
        #expect(again == p)
    }
}

@Test func exhaustiveScanAgreesAboveLinearLimit() throws {
    // 3000 clients, γ = δ = 0.3, active: the answer lies above the linear-scan limit, and feasibility flickers
    // near the boundary (k = 2214 feasible, 2216 not): the refinement window must still find the first one.
    let analysis = try Analysis(
        clientCount: 3000, corruptFraction: 0.3, dropoutFraction: 0.3, model: .active, sigma: 40, eta: 20)
    let first = stride(from: 2000, through: 2998, by: 2).first { analysis.thresholdRange(degree: $0) != nil }
    let p = try find(3000, 0.3, 0.3, .active)
    #expect(p.degree > ParameterFinder.linearScanLimit)
    #expect(first == p.degree)
}

@Test(arguments: AdversaryModel.allCases)
func degreeIsMonotoneInCorruptAndDropoutFractions(model: AdversaryModel) throws {
    let fractions = stride(from: 0.0, through: 0.3, by: 0.025).map { $0 }
    for n in [1000, 100_000] {
        for fixed in [0.0, 0.1] {
            var previousByGamma = 0
            var previousByDelta = 0
            for f in fractions {
                let byGamma = try find(n, f, fixed, model)
                let byDelta = try find(n, fixed, f, model)
                #expect(byGamma.degree >= previousByGamma, "n=\(n) γ=\(f) δ=\(fixed)")
                #expect(byDelta.degree >= previousByDelta, "n=\(n) γ=\(fixed) δ=\(f)")
                previousByGamma = byGamma.degree
                previousByDelta = byDelta.degree
            }
        }
    }
}

@Test(arguments: AdversaryModel.allCases)
func degreeIsMonotoneInClientCountOnAGeometricGrid(model: AdversaryModel) throws {
    let counts = [20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 1_000_000]
    for (gamma, delta) in [(0.05, 0.05), (0.1, 0.2), (0.2, 0.1), (0.33, 0.33), (0.0, 0.1)] {
        var previous = 0
        for n in counts {
            // Feasibility itself is not monotone at tiny n (see below), so infeasible points are skipped.
            guard let p = try? find(n, gamma, delta, model) else { continue }
            #expect(p.degree >= previous, "γ=\(gamma) δ=\(delta) n=\(n): \(p.degree) < \(previous)")
            previous = p.degree
        }
    }
}

@Test func degreeCanDipBetweenNeighbouringClientCounts() throws {
    // Documented non-monotonicity (SPEC §10.6): ⌊δn⌋ = 21 for both n = 211 and 212, but the population of
    // other clients grows from 210 to 211, so the dropped fraction per neighbourhood falls and k drops by 2.
    let a = try find(211, 0.0, 0.1, .semiHonest)
    let b = try find(212, 0.0, 0.1, .semiHonest)
    #expect(a.dropoutClientCount == 21 && b.dropoutClientCount == 21)
    #expect(b.degree == a.degree - 2)
}

@Test func feasibilityCanDependOnRounding() throws {
    // Active, γ = δ = 0.33: n = 50 has ⌊16.5⌋ = 16 corrupt and 16 dropped, so t = 33 fits (33 > (49 + 16)/2 and
    // 33 ≤ 49 − 16); n = 100 has 33 and 33, needing t ≥ 67 > 66. Larger n become feasible again with sparse k.
    #expect(try find(50, 0.33, 0.33, .active).threshold == 33)
    #expect(throws: GraphError.self) { try find(100, 0.33, 0.33, .active) }
    #expect(try find(1000, 0.33, 0.33, .active).degree < 999)
}

@Test func completeGraphFallback() throws {
    // Small cohorts where no sparse degree works: the complete graph with deterministic counts.
    for (n, gamma, delta, model) in [
        (5, 0.2, 0.2, AdversaryModel.semiHonest), (3, 0.0, 0.0, .semiHonest),
        (40, 0.2, 0.25, .active), (2, 0.0, 0.0, .active),
    ] {
        let p = try find(n, gamma, delta, model)
        let analysis = try Analysis(
            clientCount: n, corruptFraction: gamma, dropoutFraction: delta, model: model, sigma: 40, eta: 20)
        let anySparse = stride(from: 2, through: n - 2, by: 2).contains { analysis.thresholdRange(degree: $0) != nil }
        #expect(p.usesCompleteGraph == !anySparse)
        if p.usesCompleteGraph {
            #expect(p.degree == n - 1)
            #expect(p.privacyFailure.isZero && p.correctnessFailure.isZero)
            // Deterministic counts: more than the corrupt clients (or than (k + corrupt)/2), at most k − dropped.
            let minimum = model == .semiHonest ? p.corruptClientCount + 1 : (n - 1 + p.corruptClientCount) / 2 + 1
            #expect(p.threshold >= min(minimum, n - 1) && p.threshold <= n - 1 - p.dropoutClientCount)
        }
    }
}

@Test func infeasibleParametersGiveTypedErrors() throws {
    for (n, gamma, delta, model) in [
        (100, 0.5, 0.5, AdversaryModel.semiHonest), (100, 0.33, 0.33, .active),
        (10_000, 0.2, 0.45, .active), (1000, 0.6, 0.4, .semiHonest),
    ] {
        do {
            _ = try find(n, gamma, delta, model)
            Issue.record("expected no feasible parameters for n=\(n) γ=\(gamma) δ=\(delta) \(model)")
        } catch let error {
            guard case let .noFeasibleParameters(reason) = error else {
                Issue.record("unexpected error \(error)")
                continue
            }
            #expect(reason.contains("complete graph"))
            #expect(!error.description.contains("\n"))
        }
    }
    #expect(throws: GraphError.invalidParameter(name: "corruptFraction", value: 1, allowed: "0 ≤ γ < 1")) {
        try find(100, 1, 0, .semiHonest)
    }
    #expect(throws: GraphError.self) { try find(100, -0.1, 0, .semiHonest) }
    #expect(throws: GraphError.self) { try find(100, 0, .nan, .semiHonest) }
    #expect(throws: GraphError.invalidClientCount(count: 1, minimum: 2, maximum: HararyGraph.maximumClientCount)) {
        try find(1, 0, 0, .semiHonest)
    }
    #expect(throws: GraphError.self) {
        try ParameterFinder.find(clientCount: 100, corruptFraction: 0, dropoutFraction: 0, model: .active, sigma: 0)
    }
    #expect(throws: GraphError.self) {
        try ParameterFinder.evaluate(
            clientCount: 100, corruptFraction: 0, dropoutFraction: 0, model: .active, degree: 7, threshold: 3)
    }
    #expect(throws: GraphError.self) {
        try ParameterFinder.evaluate(
            clientCount: 100, corruptFraction: 0, dropoutFraction: 0, model: .active, degree: 8, threshold: 9)
    }
}

@Test func stricterSecurityParametersNeedLargerDegrees() throws {
    let base = try find(10_000, 0.1, 0.1, .semiHonest)
    let strictPrivacy = try ParameterFinder.find(
        clientCount: 10_000, corruptFraction: 0.1, dropoutFraction: 0.1, model: .semiHonest, sigma: 80)
    let strictCorrectness = try ParameterFinder.find(
        clientCount: 10_000, corruptFraction: 0.1, dropoutFraction: 0.1, model: .semiHonest, eta: 40)
    #expect(strictPrivacy.degree >= base.degree && strictCorrectness.degree >= base.degree)
    #expect(strictPrivacy.privacyFailure.value <= -80)
    // An active server needs at least as much as a semi-honest one.
    #expect(try find(10_000, 0.1, 0.1, .active).degree >= base.degree)
}

@Test func parametersAndCostsAreCodableAndDescribed() throws {
    let p = try find(10_000, 0.05, 0.05, .semiHonest)
    let data = try JSONEncoder().encode(p)
    #expect(try JSONDecoder().decode(SecAggPlusParameters.self, from: data) == p)
    #expect(p.description.contains("threshold t:    \(p.threshold)"))
    // Probability 0 encodes as null and decodes back.
    let complete = try find(5, 0.2, 0.2, .semiHonest)
    let completeJson = String(decoding: try JSONEncoder().encode(complete), as: UTF8.self)
    #expect(completeJson.contains("\"privacyFailure\":null"))
    #expect(try JSONDecoder().decode(SecAggPlusParameters.self, from: Data(completeJson.utf8)) == complete)

    let cost = try p.costEstimate(vectorLength: 1_000_000, bitWidth: 32)
    #expect(cost.clientKeyAgreements == 2 * p.degree)
    #expect(cost.clientShareCiphertexts == p.degree)
    #expect(cost.clientMaskElements == (p.degree + 1) * 1_000_000)
    #expect(cost.clientMaskBytes == Double((p.degree + 1) * 4_000_000))
    #expect(cost.clientMaskedInputByteCount == 4_000_000)
    #expect(cost.dropoutCount == 500 && cost.survivorCount == 9500)
    // Each dropped client has k · 9500 / 9999 surviving neighbours in expectation.
    let pairs = 500 * Double(p.degree) * 9500 / 9999
    #expect(abs(cost.serverKeyAgreements - pairs) < 1e-6 * pairs)
    #expect(abs(cost.serverMaskElements - (9500 + pairs) * 1_000_000) < 1)
    #expect(abs(cost.serverReconstructions - 10_000) < 1e-6)
    #expect(try JSONDecoder().decode(CostEstimate.self, from: JSONEncoder().encode(cost)) == cost)
    #expect(cost.description.contains("key agreements:      \(2 * p.degree)"))
    #expect(cost.description.split(separator: "\n").count >= 8)

    // The complete graph costs more, and a non-power-of-two modulus costs rejection-sampling bytes.
    let completeCost = try ParameterFinder.evaluate(
        clientCount: 10_000, corruptFraction: 0.05, dropoutFraction: 0.05, model: .semiHonest, degree: 9999,
        threshold: 5000
    ).costEstimate(vectorLength: 1_000_000, bitWidth: 32)
    #expect(completeCost.clientMaskBytes > 100 * cost.clientMaskBytes / Double(p.degree + 1))
    let prime = try p.costEstimate(vectorLength: 1000, modulus: .integer((1 << 32) + 15))
    #expect(prime.maskBytesPerElement > 8 && prime.maskBytesPerElement < 16)
    #expect(throws: GraphError.self) { try p.costEstimate(vectorLength: -1, bitWidth: 32) }
    #expect(throws: GraphError.self) { try p.costEstimate(vectorLength: 10, bitWidth: 65) }
}

@Test(arguments: AdversaryModel.allCases)
func completeGraphThresholdIsTheLargestThatSurvivesTheDropouts(model: AdversaryModel) throws {
    for (n, gamma, delta) in [(100, 0.05, 0.05), (100, 0.1, 0.2), (60, 0.2, 0.2), (1000, 0.3, 0.1), (3, 0.0, 0.0)] {
        let p = try ParameterFinder.completeGraphThreshold(
            clientCount: n, corruptFraction: gamma, dropoutFraction: delta, model: model)
        #expect(p.usesCompleteGraph)
        #expect(p.degree == n - 1)
        #expect(p.meetsBounds)
        // Both bounds are 0 on the feasible interval, so the balanced choice is its upper end (SPEC.md §10.6).
        #expect(p.threshold == n - 1 - p.dropoutClientCount)
        #expect(
            p
                == (try ParameterFinder.evaluate(
                    clientCount: n, corruptFraction: gamma, dropoutFraction: delta, model: model, degree: n - 1,
                    threshold: p.threshold)))
    }
    // `plan --clients 100 --graph complete --corrupt 0.05`: t = 99 − ⌊0.05 · 100⌋.
    #expect(
        try ParameterFinder.completeGraphThreshold(
            clientCount: 100, corruptFraction: 0.05, dropoutFraction: 0.05, model: model
        ).threshold == 94)
}

@Test func completeGraphThresholdIsTheFindersFallback() throws {
    // Cohorts too small for a sparse degree: `find` answers with the complete graph and the same threshold.
    var fallbacks = 0
    for (n, gamma, delta, model) in [
        (5, 0.2, 0.2, AdversaryModel.semiHonest), (3, 0.0, 0.0, .semiHonest), (50, 0.33, 0.33, .active),
        (40, 0.2, 0.25, .active),
    ] {
        let found = try find(n, gamma, delta, model)
        guard found.usesCompleteGraph else { continue }
        fallbacks += 1
        let complete = try ParameterFinder.completeGraphThreshold(
            clientCount: n, corruptFraction: gamma, dropoutFraction: delta, model: model)
        #expect(found == complete)
    }
    #expect(fallbacks >= 2)
    // No feasible threshold: the typed error with the finder's reason.
    #expect(throws: GraphError.self) {
        try ParameterFinder.completeGraphThreshold(
            clientCount: 100, corruptFraction: 0.5, dropoutFraction: 0.5, model: .semiHonest)
    }
}
