import ArgumentParser
import SecAggVectors

/// `secagg bench …`
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks (use a release build).", subcommands: [Mask.self])

    /// `secagg bench mask [--length M] [--bits B] [--json]`
    struct Mask: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mask PRG throughput versus raw libsodium ChaCha20 keystream.")

        @Option(help: "Mask elements.")
        var length: Int = 10_000_000

        @Option(help: "Element bit width b (ring Z_2^b).")
        var bits: Int = 32

        @Option(help: "Timed repetitions (best is kept).")
        var repetitions: Int = 7

        @Flag(help: "Print one JSON object with mask_gbps, keystream_gbps and ratio.")
        var json = false

        func run() throws {
            let result: MaskBenchmarkResult
            do {
                result = try MaskBenchmark.run(elementCount: length, bitWidth: bits, repetitions: repetitions)
            } catch {
                throw ToolError("\(error)")
            }
            print(json ? result.jsonReport : result.textReport)
        }
    }
}
