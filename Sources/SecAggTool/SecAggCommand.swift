import ArgumentParser

/// `secagg`: the command-line tool.
struct SecAggCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secagg",
        abstract: "Secure aggregation tools: known-answer vectors and benchmarks.",
        subcommands: [VectorsCommand.self, BenchCommand.self])
}
