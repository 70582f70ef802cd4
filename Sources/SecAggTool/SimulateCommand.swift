import ArgumentParser
import Foundation
import SecAggCrypto
import SecAggSimulation
import SecureAggregation

/// `secagg simulate`: one whole secure aggregation in process.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run one secure aggregation in process, with dropouts, and verify the aggregate.",
        discussion: """
            Every message goes through the wire encoding. With no options: 100 clients × 100,000 synthetic \
            values over Z_2^32, 10% of the clients dropping after share-keys, complete graph, t = ⌈2(n−1)/3⌉ \
            (the threshold `secagg plan` reports for the same flags).

            With --inputs DIR, each client's update file is clipped to ±c and quantized (stochastic rounding, \
            largest safe scale for n, c and the ring), and the decoded mean of the included clients (weighted \
            by weights.json) is checked against the planned worst-case error and written to --output. No \
            client drops out unless --drop is given, so by default the mean is over every file; the output \
            names the files in the mean and those left out. c defaults to auto: the largest |value| over all \
            files rounded up to two significant digits, so nothing is clipped. With a fixed --clip that clips \
            values, a WARNING gives the fraction clipped and the resulting error of the mean against the \
            unclipped Float64 mean.

            Exit code 0 only if the aggregate equals the plaintext sum of exactly the included clients (and, \
            for files, the mean is within the planned error of the clipped mean). On a terminal a progress bar \
            shows each round's clients on standard error (not with --json, nor when standard error is a pipe).
            """)

    @Option(help: "Number of clients n (default 100; with --inputs, the number of update files).")
    var clients: Int?

    @Option(help: "Synthetic vector length m (default 100000; not with --inputs).")
    var length: Int?

    @Option(help: "Element bit width b (ring Z_2^b, 1...64; default 32).")
    var bits: Int?

    @Option(help: "Integer modulus q (ring Z_q, 2...2^62) instead of --bits.")
    var modulus: UInt64?

    @Option(
        help:
            "Shamir threshold t (default: ⌈2(n−1)/3⌉ on the complete graph without --corrupt or --dropout-bound, else the parameter finder's; the same rule as secagg plan)."
    )
    var threshold: Int?

    @Option(help: "Security model: semi-honest or active.")
    var model = "semi-honest"

    @Option(help: "Communication graph: complete or harary (k and t from the parameter finder).")
    var graph = "complete"

    @Option(
        help:
            "Maximum corrupt fraction γ for the parameter finder (default 0.05; with --graph complete, giving γ or δ picks t by the finder's bounds, n−1−⌊δn⌋, instead of ⌈2(n−1)/3⌉)."
    )
    var corrupt: Double?

    @Option(
        name: .customLong("dropout-bound"),
        help:
            "Maximum dropout fraction δ for the parameter finder (default: the larger of 0.05 and the total of the dropout schedule, so a run plans for the dropouts it simulates; secagg plan defaults to 0.05)."
    )
    var dropoutBound: Double?

    @Option(
        name: .customLong("drop"),
        help:
            "FRACTION@ROUND: that fraction of the clients stops answering at ROUND (advertise-keys, seed-reveal (sparse graphs; a dropout there aborts for a restart), share-keys, masked-input, consistency-check, unmasking). Repeatable; default 0.1@share-keys for synthetic inputs, none with --inputs."
    )
    var drops: [String] = []

    @Option(
        help:
            "Folder with one .npy or .safetensors update per client, sorted by file name, and an optional weights.json ({\"file name\": integer weight})."
    )
    var inputs: String?

    @Option(
        help:
            "Clip range c for file inputs: 'auto' (the default: the largest |value| over all files, rounded up to 2 significant digits, so nothing is clipped) or a number (values outside ±c are clipped, with a WARNING)."
    )
    var clip: String?

    @Option(help: "Write the decoded mean of the included clients (.npy for one tensor, or .safetensors).")
    var output: String?

    @Option(help: "Seed for a reproducible run.")
    var seed: UInt64?

    @Flag(help: "Print one JSON object.")
    var json = false

    @OptionGroup(title: "Distributed differential privacy")
    var dp: DPArguments

    /// The library options these arguments ask for.
    func makeOptions() throws -> SimulationOptions {
        var options = SimulationOptions()
        options.clientCount = clients
        options.vectorLength = length
        options.modulus = try parseModulus(bits: bits, modulus: modulus)
        options.threshold = threshold
        options.model = try parseModel(model)
        options.graph = try parseGraph(graph)
        options.corruptFraction = corrupt
        options.dropoutBound = dropoutBound
        do {
            if !drops.isEmpty {
                options.drops = try drops.map { text throws(SimulationError) in try DropSpecification(parsing: text) }
            }
            options.clip = try clip.map { text throws(SimulationError) in try ClipChoice(parsing: text) }
        } catch {
            throw ToolError(error.description)
        }
        options.inputsDirectory = inputs.map { URL(fileURLWithPath: $0) }
        options.output = output.map { URL(fileURLWithPath: $0) }
        options.seed = seed
        options.dp = try dp.makeOptions()
        return options
    }

    func run() throws {
        let options = try makeOptions()
        // A progress bar on a terminal only: not with --json, nor in CI or when standard error is redirected.
        let reporter = ProgressReporter.standardError(
            enabled: !json && ProcessInfo.processInfo.environment["CI"] == nil)
        let report: SimulationReport
        do {
            defer { reporter.finish() }
            report = try Simulator.run(options, progress: reporter.isActive ? reporter.handle : nil)
        } catch {
            throw ToolError(error.description)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.summary)
        }
        if !report.verified { throw ExitCode(2) }
    }
}

/// Parses --bits / --modulus (2^32 when neither is given).
func parseModulus(bits: Int?, modulus: UInt64?) throws -> RingModulus {
    if bits != nil && modulus != nil { throw ToolError("give --bits or --modulus, not both") }
    let ring: RingModulus = modulus.map { .integer($0) } ?? .powerOfTwo(bitWidth: bits ?? 32)
    do {
        try ring.validate()
    } catch {
        throw ToolError(bits != nil ? "--bits must be in 1...64, got \(bits ?? 0)" : "--modulus: \(error)")
    }
    return ring
}

/// Parses --model.
func parseModel(_ text: String) throws -> SecurityModel {
    guard let model = SecurityModel.allCases.first(where: { $0.description == text }) else {
        throw ToolError("--model must be semi-honest or active, got '\(text)'")
    }
    return model
}

/// Parses --graph.
func parseGraph(_ text: String) throws -> GraphChoice {
    guard let graph = GraphChoice(rawValue: text) else {
        throw ToolError("--graph must be complete or harary, got '\(text)'")
    }
    return graph
}
