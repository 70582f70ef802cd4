import ArgumentParser

/// `secagg`: the command-line tool.
struct SecAggCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secagg",
        abstract: "Secure aggregation: simulate sessions, verify known-answer vectors, benchmark.",
        subcommands: [SimulateCommand.self, VectorsCommand.self, BenchCommand.self])
}
