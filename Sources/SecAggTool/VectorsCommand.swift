import ArgumentParser
import Foundation
import SecAggVectors

/// `secagg vectors …`
struct VectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectors", abstract: "Check or regenerate the known-answer vector files.",
        subcommands: [Verify.self, Generate.self])

    /// `secagg vectors verify [DIR]`
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every vector file under DIR; ends with \"N passed, N failed\".")

        @Argument(help: "The vectors directory.")
        var directory: String = "Vectors"

        @Flag(help: "Also list the documented decision for each Wycheproof acceptable case.")
        var verbose = false

        func run() throws {
            let report: VectorReport
            do {
                report = try VectorVerifier().verify(directory: URL(fileURLWithPath: directory))
            } catch {
                throw ToolError(error.description)
            }
            for file in report.files {
                let suite = file.suite ?? "-"
                print("\(file.file) [\(suite)]: \(file.passedCount) passed, \(file.failedCount) failed")
                if let fileError = file.fileError { print("  error: \(fileError)") }
                for failure in file.failures.prefix(20) { print("  case \(failure.caseId): \(failure.message)") }
                if file.failures.count > 20 { print("  … \(file.failures.count - 20) more failures") }
                let decisions = Dictionary(grouping: file.notes, by: \.message)
                for (decision, cases) in decisions.sorted(by: { $0.key < $1.key }) {
                    print("  \(cases.count) × \(decision)")
                    if verbose { print("    cases: \(cases.map { String($0.caseId) }.joined(separator: ", "))") }
                }
            }
            print(report.summaryLine)
            if report.failedCount > 0 { throw ExitCode.failure }
        }
    }

    /// `secagg vectors generate [--output DIR]`
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rewrite our own vector files (deterministic from fixed seeds).")

        @Option(help: "The vectors directory.")
        var output: String = "Vectors"

        func run() throws {
            do {
                for path in try VectorVerifier.generate(into: URL(fileURLWithPath: output)) {
                    print("wrote \(output)/\(path)")
                }
            } catch {
                throw ToolError("cannot generate vectors: \(error)")
            }
        }
    }
}

/// A one-line error for the user; ArgumentParser prints it without a stack trace.
struct ToolError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
