import SecAggCrypto
import SecAggGraph
import SecAggSimulation
import SecureAggregation
import Testing

/// A configuration with the default threshold, the minimal threat and the given model.
private func configuration(
    clientCount n: Int, graph: GraphSpecification = .complete, model: SecurityModel
) -> SessionConfiguration {
    var rng = DeterministicRandomGenerator(testLabel: "default-threshold")
    let keys: [Ed25519.PublicKey] =
        model == .active ? (1...n).map { _ in Ed25519.PrivateKey(using: &rng).publicKey } : []
    return SessionConfiguration(
        clientCount: n, threshold: SessionConfiguration.defaultThreshold(clientCount: n, graph: graph),
        securityModel: model,
        inputs: [InputSpecification(name: "x", length: 1, modulus: .powerOfTwo(bitWidth: 8))], graph: graph,
        threat: .minimal, nonce: SessionConfiguration.randomNonce(using: &rng), verificationKeys: keys)
}

@Test(arguments: [SecurityModel.semiHonest, .active])
func defaultThresholdPassesValidationWithTheMinimalThreat(_ model: SecurityModel) throws {
    for n in Array(3...40) + [99, 100, 101, 1000] {
        let t = SessionConfiguration.defaultThreshold(clientCount: n)
        let k = n - 1
        #expect(t == (2 * k + 2) / 3)  // ⌈2(n − 1)/3⌉
        #expect(t >= 2 && t <= k && 2 * t > k)
        try configuration(clientCount: n, model: model).validate()
    }
    for (n, k) in [(10, 4), (50, 6), (100, 98)] {
        let graph = GraphSpecification.harary(degree: k)
        #expect(SessionConfiguration.defaultThreshold(clientCount: n, graph: graph) == (2 * k + 2) / 3)
        try configuration(clientCount: n, graph: graph, model: model).validate()
    }
    #expect(SessionConfiguration.defaultThreshold(clientCount: 100) == 66)
    #expect(SessionConfiguration.defaultThreshold(clientCount: 2) == 1)
    #expect(SessionConfiguration.defaultThreshold(clientCount: 0) == 1)
}

@Test func randomNonceHasTheConfiguredSize() {
    let a = SessionConfiguration.randomNonce()
    let b = SessionConfiguration.randomNonce()
    #expect(a.count == SessionConfiguration.nonceByteCount)
    #expect(a != b)
    // The seeded overload is the generator's next nonceByteCount bytes (the simulator's SPEC.md §14 order).
    var rng = DeterministicRandomGenerator(testLabel: "nonce")
    var same = DeterministicRandomGenerator(testLabel: "nonce")
    #expect(SessionConfiguration.randomNonce(using: &rng) == same.bytes(count: SessionConfiguration.nonceByteCount))
}

@Test func graphPlanUsesTheEngineDefaultOnTheCompleteGraph() throws {
    for n in [3, 10, 100, 1001] {
        let plan = try GraphPlan.choose(
            clientCount: n, graph: .complete, model: .active, corruptFraction: nil, dropoutBound: nil, threshold: nil)
        #expect(plan.threshold == SessionConfiguration.defaultThreshold(clientCount: n))
        #expect(plan.rule == .twoThirds)
    }
    let withThreat = try GraphPlan.choose(
        clientCount: 100, graph: .complete, model: .semiHonest, corruptFraction: 0.05, dropoutBound: nil,
        threshold: nil)
    let finder = try ParameterFinder.completeGraphThreshold(
        clientCount: 100, corruptFraction: 0.05, dropoutFraction: 0.05, model: .semiHonest)
    #expect(withThreat.threshold == finder.threshold)
    #expect(withThreat.parameters == finder)
    #expect(withThreat.rule == .finder)
}
