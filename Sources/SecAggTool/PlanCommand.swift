import ArgumentParser
import Foundation
import SecAggSimulation

/// `secagg plan`: the quantization plan, graph, threshold and expected costs for a cohort.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan a cohort: quantization (scale, worst-case error, bits), graph (k, t) and expected costs.",
        discussion: """
            The quantization plan has the largest scale at which the sum of n clipped updates cannot wrap. \
            The graph and threshold follow the same rule as `secagg simulate`, so both print the same t for \
            the same flags: the complete graph by default, with t = ⌈2(n−1)/3⌉ unless --corrupt or \
            --dropout-bound is given; otherwise (and with --graph harary, the sparsest SecAgg+ graph) the \
            parameter finder's (privacy failure ≤ 2^-40, correctness failure ≤ 2^-20 for at most ⌊γn⌋ \
            corrupt clients and ⌊δn⌋ dropouts). The failure bounds are reported for γ and δ, 0.05 each when \
            not given.
            """)

    @Option(help: "Number of clients n.")
    var clients = SimulationOptions.defaultClientCount

    @Option(
        help:
            "Maximum corrupt fraction γ (default 0.05; giving γ or δ on the complete graph picks t by the finder's bounds instead of ⌈2(n−1)/3⌉)."
    )
    var corrupt: Double?

    @Option(name: .customLong("dropout-bound"), help: "Maximum dropout fraction δ (default 0.05; see --corrupt).")
    var dropoutBound: Double?

    @Option(help: "Clip range c: coordinates are clipped to [−c, c].")
    var clip = SimulationOptions.defaultClip

    @Option(help: "Element bit width b (ring Z_2^b, 1...64; default 32).")
    var bits: Int?

    @Option(help: "Integer modulus q (ring Z_q, 2...2^62) instead of --bits.")
    var modulus: UInt64?

    @Option(help: "Security model: semi-honest or active.")
    var model = "semi-honest"

    @Option(help: "Model coordinates per update m.")
    var length = SimulationOptions.defaultVectorLength

    @Option(
        help:
            "Communication graph: complete (the default, as in simulate) or harary (the finder's sparsest, may fall back to complete)."
    )
    var graph = "complete"

    @Option(help: "Shamir threshold t instead of the finder's (its failure bounds are evaluated).")
    var threshold: Int?

    @Option(name: .customLong("max-weight"), help: "Largest FedAvg client weight W (weighted mean).")
    var maximumWeight: Int?

    @Option(
        name: .customLong("session-attempts"),
        help:
            "Sessions an adversary could make the cohort start (each draws a new ring; SPEC.md §10.2): the privacy target becomes 2^-40 / attempts."
    )
    var sessionAttempts = 1

    @Flag(help: "Print one JSON object.")
    var json = false

    @OptionGroup(title: "Distributed differential privacy")
    var dp: DPArguments

    /// The library options these arguments ask for.
    func makeOptions() throws -> PlanOptions {
        var options = PlanOptions()
        options.clientCount = clients
        options.corruptFraction = corrupt
        options.dropoutBound = dropoutBound
        options.clip = clip
        options.modulus = try parseModulus(bits: bits, modulus: modulus)
        options.model = try parseModel(model)
        options.vectorLength = length
        options.graph = try parseGraph(graph)
        options.threshold = threshold
        options.maximumWeight = maximumWeight
        options.sessionAttempts = sessionAttempts
        options.dp = try dp.makeOptions()
        return options
    }

    func run() throws {
        let report: PlanReport
        do {
            report = try Planner.plan(try makeOptions())
        } catch let error as SimulationError {
            throw ToolError(error.description)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.description)
        }
    }
}
