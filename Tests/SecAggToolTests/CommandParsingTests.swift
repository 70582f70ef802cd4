import ArgumentParser
import Foundation
import SecAggCrypto
import SecAggPrivacy
import SecAggSimulation
import SecureAggregation
import Testing

@testable import SecAggTool

@Test func simulateParsesEveryOption() throws {
    let command = try SimulateCommand.parse([
        "--clients", "12", "--length", "34", "--bits", "20", "--threshold", "5", "--model", "active",
        "--graph", "harary", "--corrupt", "0.1", "--dropout-bound", "0.2", "--drop", "0.1@share-keys",
        "--drop", "0.05@unmasking", "--seed", "42", "--json",
    ])
    let options = try command.makeOptions()
    #expect(options.clientCount == 12)
    #expect(options.vectorLength == 34)
    #expect(options.modulus == .powerOfTwo(bitWidth: 20))
    #expect(options.threshold == 5)
    #expect(options.model == .active)
    #expect(options.graph == .harary)
    #expect(options.corruptFraction == 0.1)
    #expect(options.dropoutBound == 0.2)
    #expect(
        options.drops == [
            DropSpecification(fraction: 0.1, round: .shareKeys), DropSpecification(fraction: 0.05, round: .unmasking),
        ])
    #expect(options.seed == 42)
    #expect(command.json)

    let files = try SimulateCommand.parse([
        "--inputs", "/tmp/updates", "--clip", "0.5", "--output", "/tmp/mean.safetensors", "--modulus", "1000003",
    ]).makeOptions()
    #expect(files.inputsDirectory?.path == "/tmp/updates")
    #expect(files.clip == .fixed(0.5))
    #expect(files.output?.path == "/tmp/mean.safetensors")
    #expect(files.modulus == .integer(1_000_003))
}

@Test func simulateDefaultsAreTheDemo() throws {
    let options = try SimulateCommand.parse([]).makeOptions()
    #expect(options.clientCount == nil)
    #expect(options.vectorLength == nil)
    #expect(options.modulus == .powerOfTwo(bitWidth: 32))
    #expect(options.graph == .complete)
    #expect(options.drops == nil)
    #expect(options.effectiveDrops == [DropSpecification(fraction: 0.1, round: .shareKeys)])
    #expect(options.inputsDirectory == nil)
    #expect(options.clip == nil)
}

@Test func simulateWithInputsDefaultsToNoDropoutsAndAutomaticClip() throws {
    let options = try SimulateCommand.parse(["--inputs", "/tmp/updates"]).makeOptions()
    #expect(options.drops == nil)
    #expect(options.effectiveDrops.isEmpty)
    #expect(options.clip == nil)
    let explicit = try SimulateCommand.parse([
        "--inputs", "/tmp/updates", "--drop", "0.2@masked-input", "--clip", "auto",
    ]).makeOptions()
    #expect(explicit.effectiveDrops == [DropSpecification(fraction: 0.2, round: .maskedInputCollection)])
    #expect(explicit.clip == .automatic)
}

@Test(arguments: [
    ["--clients", "ten"], ["--bits", "32", "--modulus", "7"], ["--bits", "65"], ["--modulus", "1"],
    ["--model", "byzantine"], ["--graph", "ring"], ["--drop", "0.1"], ["--drop", "2@share-keys"],
    ["--drop", "0.1@nowhere"], ["--seed", "-1"], ["--unknown"], ["--clip", "big"], ["--clip", "-1"],
    ["--clip", "0"], ["--clip", "inf"],
])
func simulateRejectsBadArguments(_ arguments: [String]) {
    #expect(throws: (any Error).self) { try SimulateCommand.parse(arguments).makeOptions() }
}

@Test func planParsesEveryOption() throws {
    let command = try PlanCommand.parse([
        "--clients", "500", "--corrupt", "0.1", "--dropout-bound", "0.3", "--clip", "2", "--bits", "40",
        "--model", "active", "--length", "77", "--graph", "complete", "--threshold", "300", "--max-weight", "9",
        "--json",
    ])
    let options = try command.makeOptions()
    #expect(options.clientCount == 500)
    #expect(options.corruptFraction == 0.1)
    #expect(options.dropoutBound == 0.3)
    #expect(options.clip == 2)
    #expect(options.modulus == .powerOfTwo(bitWidth: 40))
    #expect(options.model == .active)
    #expect(options.vectorLength == 77)
    #expect(options.graph == .complete)
    #expect(options.threshold == 300)
    #expect(options.maximumWeight == 9)
    #expect(command.json)
    #expect(try PlanCommand.parse([]).makeOptions() == PlanOptions())
}

@Test(arguments: [["--clients", "x"], ["--model", "evil"], ["--bits", "0"], ["--graph", "star"], ["--corrupt"]])
func planRejectsBadArguments(_ arguments: [String]) {
    #expect(throws: (any Error).self) { try PlanCommand.parse(arguments).makeOptions() }
}

@Test func commandErrorsAreOneLine() {
    // What ArgumentParser prints after "Error: " for our errors.
    for arguments in [["simulate", "--graph", "ring"], ["plan", "--bits", "99"]] {
        do {
            var command = try SecAggCommand.parseAsRoot(arguments)
            try command.run()
            Issue.record("expected \(arguments) to fail")
        } catch {
            let message = SecAggCommand.message(for: error)
            #expect(!message.isEmpty)
            #expect(!message.contains("\n"), "\(message)")
        }
    }
}

@Test func planCommandRunsAndInfeasiblePlansFail() throws {
    var ok = try SecAggCommand.parseAsRoot(["plan", "--clients", "50", "--length", "10"])
    try ok.run()
    var infeasible = try SecAggCommand.parseAsRoot(["plan", "--clients", "100", "--bits", "4"])
    #expect(throws: ToolError.self) { try infeasible.run() }
}

@Test func distributedPrivacyOptionsParse() throws {
    let plan = try PlanCommand.parse([
        "--dp-epsilon", "1", "--dp-delta", "1e-4", "--rounds", "1000", "--clip-norm", "0.5", "--mechanism", "skellam",
        "--dp-noiseless", "0.1",
    ]).makeOptions()
    let dp = try #require(plan.dp)
    #expect(dp.epsilon == 1 && dp.delta == 1e-4 && dp.rounds == 1000 && dp.clipNorm == 0.5)
    #expect(dp.mechanism == .skellam && dp.noiselessFraction == 0.1)
    let simulate = try SimulateCommand.parse(["--dp-epsilon", "8", "--dp-delta", "1e-6"]).makeOptions()
    #expect(simulate.dp?.mechanism == .ddgauss && simulate.dp?.rounds == 1 && simulate.dp?.clipNorm == 1)
    #expect(try PlanCommand.parse([]).makeOptions().dp == nil)
    for bad in [
        ["--dp-epsilon", "1"], ["--dp-delta", "1e-4"], ["--rounds", "3"],
        ["--dp-epsilon", "1", "--dp-delta", "1e-4", "--mechanism", "laplace"],
    ] {
        #expect(throws: (any Error).self) { try PlanCommand.parse(bad).makeOptions() }
    }
}
