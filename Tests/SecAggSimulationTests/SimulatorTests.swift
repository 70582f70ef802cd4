import SecAggCrypto
import SecAggSimulation
import SecureAggregation
import Testing

@Test(arguments: [SecurityModel.semiHonest, .active])
func simulationVerifiesWithDropouts(_ model: SecurityModel) throws {
    var options = SimulationOptions()
    options.clientCount = 20
    options.vectorLength = 1000
    options.model = model
    options.seed = 7
    options.drops = [
        DropSpecification(fraction: 0.1, round: .shareKeys),
        DropSpecification(fraction: 0.1, round: .maskedInputCollection),
    ]
    let report = try Simulator.run(options)
    #expect(report.verified)
    #expect(report.included == 16)
    #expect(report.dropped["share-keys"] == 2)
    #expect(report.dropped["masked-input"] == 2)
    #expect(report.threshold == 13)
    #expect(report.expansion > 1)
    #expect(report.bytes["masked-input"]?.clientToServerPerClient ?? 0 >= 4000)
}

@Test func simulationIsReproducibleFromTheSeed() throws {
    var options = SimulationOptions()
    options.clientCount = 8
    options.vectorLength = 10
    options.seed = 99
    options.drops = [DropSpecification(fraction: 0.25, round: .unmasking)]
    let a = try Simulator.run(options)
    let b = try Simulator.run(options)
    #expect(a.verified && b.verified)
    #expect(a.bytes == b.bytes)
}

@Test func simulationReportsAnAbortBelowThreshold() throws {
    var options = SimulationOptions()
    options.clientCount = 10
    options.vectorLength = 10
    options.seed = 1
    options.drops = [DropSpecification(fraction: 0.5, round: .shareKeys)]
    let report = try Simulator.run(options)
    #expect(!report.verified)
    #expect(report.abortReason != nil)
}

@Test(arguments: ["0.3", "1.5@share-keys", "0.1@nowhere", "x@unmasking", ""])
func badDropSpecificationsAreRejected(_ text: String) {
    #expect(throws: SimulationError.self) { try DropSpecification(parsing: text) }
}

@Test func dropSpecificationParses() throws {
    #expect(try DropSpecification(parsing: "0.3@share-keys") == DropSpecification(fraction: 0.3, round: .shareKeys))
    #expect(try DropSpecification(parsing: "1@consistency-check").round == .consistencyCheck)
}
