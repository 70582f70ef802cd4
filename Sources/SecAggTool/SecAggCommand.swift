import ArgumentParser

/// `secagg`: the command-line tool.
struct SecAggCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secagg",
        abstract:
            "Secure aggregation: simulate sessions, plan cohorts, verify known-answer vectors, benchmark, distributed DP.",
        subcommands: [SimulateCommand.self, PlanCommand.self, VectorsCommand.self, BenchCommand.self, DPCommand.self])
}
