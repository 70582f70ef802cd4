import SecAggCrypto
import SecureAggregation
import Testing

let mixedInputs = [
    InputSpecification(name: "weights", length: 300, modulus: .powerOfTwo(bitWidth: 32)),
    InputSpecification(name: "bias", length: 17, modulus: .integer(1_000_003)),
    InputSpecification(name: "counts", length: 40, modulus: .powerOfTwo(bitWidth: 13)),
    InputSpecification(name: "wide", length: 9, modulus: .powerOfTwo(bitWidth: 64)),
]

struct DropCase: CustomTestStringConvertible, Sendable {
    var model: SecurityModel
    var drops: [UInt32: ProtocolRound]
    var testDescription: String {
        "\(model) drops=\(drops.sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value)" })"
    }
}

let dropCases: [DropCase] = SecurityModel.allCases.flatMap { model in
    [
        DropCase(model: model, drops: [:]),
        DropCase(model: model, drops: [2: .advertiseKeys]),
        DropCase(model: model, drops: [3: .shareKeys]),
        DropCase(model: model, drops: [4: .maskedInputCollection, 7: .shareKeys]),
        DropCase(model: model, drops: [5: .unmasking, 1: .maskedInputCollection]),
    ] + (model == .active ? [DropCase(model: model, drops: [6: .consistencyCheck, 8: .maskedInputCollection])] : [])
}

@Test(arguments: dropCases)
func aggregateEqualsSumOfIncludedClients(_ c: DropCase) throws {
    var rng = DeterministicRandomGenerator(testLabel: "e2e \(c.testDescription)")
    let (config, keys) = SessionDriver.makeConfiguration(n: 9, t: 5, model: c.model, inputs: mixedInputs, rng: &rng)
    let inputs = SessionDriver.randomInputs(config, rng: &rng)
    let driver = SessionDriver(configuration: config, inputs: inputs, signingKeys: keys, dropAt: c.drops)
    let outcome = try driver.run()
    let result = try #require(outcome.result, "aborted: \(String(describing: outcome.serverError))")
    let expectedIncluded = (1...9).map(UInt32.init).filter { u in
        guard let r = c.drops[u] else { return true }
        return r.rawValue > ProtocolRound.maskedInputCollection.rawValue
    }
    #expect(result.includedClients.map(\.rawValue) == expectedIncluded)
    #expect(result.vectors == driver.expectedSum(of: expectedIncluded))
    #expect(outcome.clientErrors.isEmpty)
}

@Test func abortsBelowThreshold() throws {
    var rng = DeterministicRandomGenerator(testLabel: "abort")
    let (config, keys) = SessionDriver.makeConfiguration(n: 6, t: 4, model: .semiHonest, inputs: mixedInputs, rng: &rng)
    let inputs = SessionDriver.randomInputs(config, rng: &rng)
    let driver = SessionDriver(
        configuration: config, inputs: inputs, signingKeys: keys, dropAt: [1: .maskedInputCollection, 2: .unmasking])
    let outcome = try driver.run()
    #expect(outcome.result == nil)
    #expect(outcome.serverError == .insufficientClients(round: .unmasking, count: 4, required: 5))
}
