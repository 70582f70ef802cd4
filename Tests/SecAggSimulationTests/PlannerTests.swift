import Foundation
import SecAggCrypto
import SecAggGraph
import SecAggQuantization
import SecAggSimulation
import SecureAggregation
import Testing

@Test func planCombinesQuantizationGraphAndCost() throws {
    var options = PlanOptions()
    options.clientCount = 1000
    options.graph = .harary
    options.corruptFraction = 0.1
    options.dropoutBound = 0.2
    options.clip = 0.5
    options.modulus = .powerOfTwo(bitWidth: 24)
    options.vectorLength = 5000
    let report = try Planner.plan(options)
    let quantization = try QuantizationPlan.plan(clientCount: 1000, clipRange: 0.5, bitWidth: 24)
    let parameters = try ParameterFinder.find(
        clientCount: 1000, corruptFraction: 0.1, dropoutFraction: 0.2, model: .semiHonest)
    let cost = try parameters.costEstimate(vectorLength: 5000, bitWidth: 24)
    #expect(report.quantization?.scale == quantization.scale)
    #expect(report.quantization?.worstCaseMeanError == quantization.worstCaseMeanError)
    #expect(report.quantization?.bits == 24)
    #expect(report.graph.k == parameters.degree)
    #expect(report.graph.t == parameters.threshold)
    #expect(report.graph.meetsBounds)
    #expect(report.clientCost.maskedInputBytes == cost.clientMaskedInputByteCount)
    #expect(report.clientCost.keyAgreements == 2 * parameters.degree)
    #expect(report.serverCost.maskElements == cost.serverMaskElements)
    #expect(report.description.contains("k = \(parameters.degree), t = \(parameters.threshold)"))

    // JSON carries the keys scripts rely on.
    let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any]
    let graph = try #require(json?["graph"] as? [String: Any])
    #expect(graph["k"] as? Int == parameters.degree)
    let q = try #require(json?["quantization"] as? [String: Any])
    #expect(q["worst_case_mean_error"] as? Double == quantization.worstCaseMeanError)
    #expect(json?["client_cost"] != nil && json?["server_cost"] != nil)
}

@Test func weightedPlanAddsTheWeightCoordinate() throws {
    var options = PlanOptions()
    options.maximumWeight = 1000
    options.vectorLength = 10
    let report = try Planner.plan(options)
    #expect(report.quantization?.vectorLength == 11)
    #expect(report.quantization?.maximumWeight == 1000)
}

@Test func infeasiblePlansAreErrors() {
    var options = PlanOptions()
    options.modulus = .powerOfTwo(bitWidth: 4)  // 100 clients cannot fit the centered range of Z_16
    #expect(throws: SimulationError.self) { try Planner.plan(options) }
    do {
        _ = try Planner.plan(options)
    } catch {
        #expect(error.description.hasPrefix("infeasible plan"))
    }
    options = PlanOptions()
    options.corruptFraction = 0.49
    options.dropoutBound = 0.49
    options.model = .active
    #expect(throws: SimulationError.self) { try Planner.plan(options) }
    for bad in [
        { (o: inout PlanOptions) in o.clientCount = 1 }, { $0.vectorLength = 0 }, { $0.clip = -1 },
        { $0.maximumWeight = 0 }, { $0.modulus = .powerOfTwo(bitWidth: 65) }, { $0.threshold = 0 },
    ] {
        var options = PlanOptions()
        bad(&options)
        #expect(throws: SimulationError.self) { try Planner.plan(options) }
    }
}

/// Session attempts (SPEC.md §10.2) are charged against σ, on sparse graphs and on the complete graph.
@Test func sessionAttemptsAreChargedAgainstSigma() throws {
    var options = PlanOptions()
    options.clientCount = 10_000
    options.graph = .harary
    let once = try Planner.plan(options)
    options.sessionAttempts = 1 << 20
    let often = try Planner.plan(options)
    #expect(often.graph.k > once.graph.k)
    #expect(often.graph.sessionAttempts == 1 << 20)
    #expect(often.graph.privacyFailureLog2.value <= -60)
    #expect(often.description.contains("target 2^-40 / 1048576 session attempts"))
    options.sessionAttempts = 0
    #expect(throws: SimulationError.self) { _ = try Planner.plan(options) }

    let complete = try GraphPlan.choose(
        clientCount: 60, graph: .complete, model: .semiHonest, corruptFraction: 0.3, dropoutBound: 0.1,
        threshold: nil, sessionAttempts: 1 << 10)
    let parameters = try #require(complete.parameters)
    #expect(parameters.meetsBounds)
    #expect(parameters.privacyFailure.value <= -50)
}
