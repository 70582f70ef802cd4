import SecAggCrypto
import SecAggGraph
import SecureAggregation
import Testing

/// SecAgg+ on a random Harary graph: parameters from the finder, random dropouts up to δ at every round.
@Test(arguments: [SecurityModel.semiHonest, .active])
func hararyAggregateIsExactUnderDropoutsUpToDelta(_ model: SecurityModel) throws {
    let n = 80
    let delta = 0.05
    let parameters = try ParameterFinder.find(
        clientCount: n, corruptFraction: 0.05, dropoutFraction: delta, model: model == .active ? .active : .semiHonest)
    #expect(!parameters.usesCompleteGraph)
    let inputs = [InputSpecification(name: "x", length: 50, modulus: .powerOfTwo(bitWidth: 24))]
    var rng = DeterministicRandomGenerator(testLabel: "harary \(model)")
    for trial in 0..<6 {
        let (config, keys) = SessionDriver.makeConfiguration(
            n: n, t: parameters.threshold, model: model, inputs: inputs,
            graph: .harary(degree: parameters.degree), rng: &rng)
        let values = SessionDriver.randomInputs(config, rng: &rng)
        // At most ⌊δn⌋ clients drop in total, spread over random rounds after the graph is fixed (a dropout in
        // round 0′ aborts the session for a restart: hararyAbortsWhenASeedRevealIsMissing).
        let rounds = config.rounds.filter { $0 != .seedReveal }
        var drops: [UInt32: ProtocolRound] = [:]
        var candidates = Array(1...UInt32(n))
        for _ in 0..<Int(delta * Double(n)) {
            let pick = candidates.remove(at: Int(rng.next(below: UInt64(candidates.count))))
            drops[pick] = rounds[Int(rng.next(below: UInt64(rounds.count)))]
        }
        var driver = SessionDriver(configuration: config, inputs: values, signingKeys: keys, dropAt: drops)
        driver.seedLabel = "harary trial \(trial)"
        let outcome = try driver.run()
        let result = try #require(outcome.result, "trial \(trial): \(String(describing: outcome.serverError))")
        let included = (1...UInt32(n)).filter { u in
            drops[u].map { $0.rawValue > ProtocolRound.maskedInputCollection.rawValue } ?? true
        }
        #expect(result.includedClients.map(\.rawValue) == included)
        #expect(result.vectors == driver.expectedSum(of: included))
        #expect(outcome.clientErrors.isEmpty)
    }
}

/// Clients only talk to their neighbours: every share list and unmasking request has at most k entries.
@Test func hararyClientsUseOnlyTheirNeighbours() throws {
    var h = try Harness(n: 30, t: 4, label: "harary neighbours", graph: .harary(degree: 6))
    try h.start()
    try h.advance()
    try h.deliver()
    for (sender, message) in h.replies {
        guard case let .shareKeys(_, _, _, shares) = message else { continue }
        #expect(shares.count == 6, "client \(sender)")
    }
    let result = try #require(try h.finish())
    #expect(result.vectors == h.expectedSum(of: Array(1...30)))
}

/// When dropouts exceed what t allows the run ends with a typed error, never a wrong sum.
@Test func hararyAbortsCleanlyWhenDropoutsExceedTheThreshold() throws {
    let n = 40
    var rng = DeterministicRandomGenerator(testLabel: "harary abort")
    let inputs = [InputSpecification(name: "x", length: 8, modulus: .integer(65_537))]
    var aborted = 0
    for trial in 0..<8 {
        let (config, keys) = SessionDriver.makeConfiguration(
            n: n, t: 5, model: .semiHonest, inputs: inputs, graph: .harary(degree: 8), rng: &rng)
        let values = SessionDriver.randomInputs(config, rng: &rng)
        var drops: [UInt32: ProtocolRound] = [:]
        for u in 1...UInt32(n) where rng.next(below: 2) == 0 {
            drops[u] = [.shareKeys, .maskedInputCollection, .unmasking][Int(rng.next(below: 3))]
        }
        var driver = SessionDriver(configuration: config, inputs: values, signingKeys: keys, dropAt: drops)
        driver.seedLabel = "harary abort \(trial)"
        let outcome = try driver.run()
        if let result = outcome.result {
            #expect(result.vectors == driver.expectedSum(of: result.includedClients.map(\.rawValue)))
        } else {
            aborted += 1
            #expect(outcome.serverError != nil)
        }
    }
    #expect(aborted > 0)
}
