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
            Every message goes through the wire encoding. With no options: 100 clients × 100,000 values over \
            Z_2^32, 10% of the clients dropping after share-keys. Exit code 0 only if the aggregate equals the \
            plaintext sum of exactly the included clients.
            """)

    @Option(help: "Number of clients n.")
    var clients = 100

    @Option(help: "Synthetic vector length m.")
    var length = 100_000

    @Option(help: "Element bit width b (ring Z_2^b, 1...64).")
    var bits: Int?

    @Option(help: "Integer modulus q (ring Z_q, 2...2^62) instead of --bits.")
    var modulus: UInt64?

    @Option(help: "Shamir threshold t (default: from the plan).")
    var threshold: Int?

    @Option(help: "Security model: semi-honest or active.")
    var model = "semi-honest"

    @Option(help: "Communication graph: complete or harary.")
    var graph = "complete"

    @Option(help: "Maximum corrupt fraction γ for the parameter finder.")
    var corrupt = 0.05

    @Option(name: .customLong("dropout-bound"), help: "Maximum dropout fraction δ for the parameter finder.")
    var dropoutBound = 0.05

    @Option(
        name: .customLong("drop"),
        help: "FRACTION@ROUND: that fraction of the clients stops answering at ROUND (advertise-keys, share-keys, masked-input, consistency-check, unmasking). Repeatable."
    )
    var drops: [String] = []

    @Option(help: "Folder with one .npy or .safetensors update per client (and optional weights.json).")
    var inputs: String?

    @Option(help: "Clip range c for file inputs.")
    var clip = 1.0

    @Option(help: "Write the decoded mean (.npy or .safetensors).")
    var output: String?

    @Option(help: "Seed for a reproducible run.")
    var seed: UInt64?

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        var options = SimulationOptions()
        options.clientCount = clients
        options.vectorLength = length
        if bits != nil && modulus != nil { throw ToolError("give --bits or --modulus, not both") }
        if let modulus { options.modulus = .integer(modulus) }
        if let bits { options.modulus = .powerOfTwo(bitWidth: bits) }
        options.threshold = threshold
        options.model = try parseModel(model)
        options.graph = try parseGraph(graph)
        options.corruptFraction = corrupt
        options.dropoutBound = dropoutBound
        do {
            if !drops.isEmpty { options.drops = try drops.map { text throws(SimulationError) in try DropSpecification(parsing: text) } }
        } catch {
            throw ToolError(error.description)
        }
        options.inputsDirectory = inputs.map { URL(fileURLWithPath: $0) }
        options.clip = clip
        options.output = output.map { URL(fileURLWithPath: $0) }
        options.seed = seed
        let showProgress = !json && isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["CI"] == nil
        let progress: (@Sendable (String) -> Void)? =
            showProgress ? { @Sendable line in FileHandle.standardError.write(Data(("  … " + line + "\n").utf8)) } : nil
        let report: SimulationReport
        do {
            report = try Simulator.run(options, progress: progress)
        } catch {
            throw ToolError(error.description)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.summary)
        }
        if !report.verified { throw ExitCode(2) }
    }
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
