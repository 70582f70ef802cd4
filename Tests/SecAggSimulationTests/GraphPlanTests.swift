import SecAggGraph
import SecAggSimulation
import SecureAggregation
import Testing

@Test func hararyUsesTheFinder() throws {
    let plan = try GraphPlan.choose(
        clientCount: 200, graph: .harary, model: .semiHonest, corruptFraction: 0.05, dropoutBound: 0.1,
        threshold: nil)
    let found = try ParameterFinder.find(
        clientCount: 200, corruptFraction: 0.05, dropoutFraction: 0.1, model: .semiHonest)
    #expect(plan.kind == .harary)
    #expect(plan.degree == found.degree)
    #expect(plan.threshold == found.threshold)
    #expect(plan.specification == .harary(degree: found.degree))
    #expect(plan.degree < 199)
    #expect(plan.rule == .finder)
}

@Test func completeGraphKeepsTwoThirdsWithoutAThreatModel() throws {
    let plan = try GraphPlan.choose(
        clientCount: 100, graph: .complete, model: .semiHonest, corruptFraction: nil, dropoutBound: nil,
        threshold: nil)
    #expect(plan.degree == 99)
    #expect(plan.threshold == 66)
    #expect(plan.rule == .twoThirds)
    #expect(plan.parameters == nil)
}

@Test(arguments: [SecurityModel.semiHonest, .active])
func completeGraphWithAThreatModelMeetsTheBounds(_ model: SecurityModel) throws {
    let plan = try GraphPlan.choose(
        clientCount: 60, graph: .complete, model: model, corruptFraction: 0.2, dropoutBound: 0.2, threshold: nil)
    let parameters = try #require(plan.parameters)
    #expect(parameters.meetsBounds)
    #expect(plan.degree == 59)
    // Neighbouring thresholds are no better balanced: both margins cannot improve together.
    for t in [plan.threshold - 1, plan.threshold + 1] where (1...59).contains(t) {
        let other = try ParameterFinder.evaluate(
            clientCount: 60, corruptFraction: 0.2, dropoutFraction: 0.2,
            model: model == .active ? .active : .semiHonest,
            degree: 59, threshold: t)
        let worst = { (p: SecAggPlusParameters) in
            max(p.privacyFailure.value + Double(p.sigma), p.correctnessFailure.value + Double(p.eta))
        }
        #expect(worst(other) >= worst(parameters))
    }
}

@Test func explicitThresholdOverridesAndIsEvaluated() throws {
    let plan = try GraphPlan.choose(
        clientCount: 200, graph: .harary, model: .semiHonest, corruptFraction: 0.05, dropoutBound: 0.1, threshold: 2)
    #expect(plan.threshold == 2)
    #expect(plan.rule == .explicit)
    #expect(plan.parameters?.threshold == 2)
    #expect(
        throws: SimulationError.self,
        performing: {
            try GraphPlan.choose(
                clientCount: 200, graph: .harary, model: .semiHonest, corruptFraction: 0.05, dropoutBound: 0.1,
                threshold: 1000)
        })
}

@Test func infeasibleAndInvalidGraphRequestsAreErrors() {
    #expect(throws: SimulationError.self) {
        try GraphPlan.choose(
            clientCount: 50, graph: .harary, model: .active, corruptFraction: 0.45, dropoutBound: 0.45, threshold: nil)
    }
    #expect(throws: SimulationError.self) {
        try GraphPlan.choose(
            clientCount: 50, graph: .complete, model: .active, corruptFraction: 0.45, dropoutBound: 0.45,
            threshold: nil)
    }
    #expect(throws: SimulationError.self) {
        try GraphPlan.choose(
            clientCount: 1, graph: .complete, model: .semiHonest, corruptFraction: nil, dropoutBound: nil,
            threshold: nil)
    }
    #expect(throws: SimulationError.self) {
        try GraphPlan.choose(
            clientCount: 50, graph: .harary, model: .semiHonest, corruptFraction: 1.5, dropoutBound: nil,
            threshold: nil)
    }
}

@Test func hararySimulationVerifiesAndReportsK() throws {
    var options = SimulationOptions()
    options.clientCount = 60
    options.vectorLength = 200
    options.graph = .harary
    options.seed = 11
    options.drops = [DropSpecification(fraction: 0.2, round: .shareKeys)]
    let report = try Simulator.run(options)
    let expected = try ParameterFinder.find(
        clientCount: 60, corruptFraction: 0.05, dropoutFraction: 0.2, model: .semiHonest)
    #expect(report.verified)
    #expect(report.graph == expected.degree)
    #expect(report.threshold == expected.threshold)
    #expect(report.graphKind == (expected.usesCompleteGraph ? "complete" : "harary"))
    #expect(report.included == 48)
}
