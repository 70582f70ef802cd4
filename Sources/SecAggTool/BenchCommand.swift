import ArgumentParser
import Foundation
import SecAggBenchmarks
import SecAggCrypto
import SecAggPrivacy
import SecAggSimulation
import SecureAggregation

/// `secagg bench …`
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks (use a release build).",
        subcommands: [Mask.self, ProtocolSession.self, ClientAlone.self, Shamir.self, Wire.self, Apply.self, Privacy.self])

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

    /// `secagg bench protocol --clients N --length M --drop F [--bits B] [--graph complete|harary] [--json]`
    struct ProtocolSession: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "protocol",
            abstract: "One whole session: each side's compute next to the keystream floor of its mask bytes.",
            discussion: """
                Client compute is one client's thread CPU time over the session (mean over the included clients); \
                server compute is the wall clock of the server's calls, on all cores. The floors divide the \
                keystream bytes each side expands by the single-core raw libsodium ChaCha20 throughput measured \
                in the same run (before and after the session; the better figure). --drop F means \
                F@masked-input: clients that shared keys and then sent no masked input, the dropouts that cost \
                the server one mask per surviving neighbour.
                """)

        @Option(help: "Number of clients n.")
        var clients: Int = 500

        @Option(help: "Vector length m.")
        var length: Int = 100_000

        @Option(help: "Element bit width b (ring Z_2^b, 1...64).")
        var bits: Int = 32

        @Option(help: "Integer modulus q (ring Z_q, 2...2^62) instead of --bits.")
        var modulus: UInt64?

        @Option(
            name: .customLong("drop"),
            help: "FRACTION or FRACTION@ROUND (share-keys, masked-input, unmasking); repeatable.")
        var drops: [String] = []

        @Option(help: "Communication graph: complete or harary.")
        var graph: String = "complete"

        @Option(help: "Shamir threshold t (default: ⌈2(n−1)/3⌉ on the complete graph, the finder's on Harary).")
        var threshold: Int?

        @Option(help: "Maximum corrupt fraction γ for the parameter finder (Harary).")
        var corrupt = 0.05

        @Option(name: .customLong("dropout-bound"), help: "Maximum dropout fraction δ for the parameter finder.")
        var dropoutBound = 0.05

        @Option(name: .customLong("server-threads"), help: "Server unmasking threads (default: every core).")
        var serverThreads: Int?

        @Option(name: .customLong("client-threads"), help: "Each client's masking threads (default 1).")
        var clientThreads = 1

        @Option(
            name: .customLong("side-by-side"),
            help: "Clients run at once, one thread each (default: every core; 1 keeps the other cores quiet).")
        var sideBySide: Int?

        @Option(help: "Seed of keys, inputs and dropout schedule.")
        var seed: UInt64 = 1

        @Flag(help: "Print one JSON object (client_s, server_s, mask_bytes_*, floor_*_s, cores, ratios, …).")
        var json = false

        func run() throws {
            var options = ProtocolBenchmarkOptions()
            options.clientCount = clients
            options.vectorLength = length
            if let modulus {
                options.modulus = .integer(modulus)
            } else {
                options.modulus = .powerOfTwo(bitWidth: bits)
            }
            guard let choice = GraphChoice(rawValue: graph) else {
                throw ToolError("--graph must be complete or harary")
            }
            options.graph = choice
            options.threshold = threshold
            options.corruptFraction = corrupt
            options.dropoutBound = dropoutBound
            if let serverThreads {
                guard serverThreads >= 1 else { throw ToolError("--server-threads must be at least 1") }
                options.serverConcurrency = serverThreads
            }
            guard clientThreads >= 1 else { throw ToolError("--client-threads must be at least 1") }
            options.clientMaskingConcurrency = clientThreads
            if let sideBySide {
                guard sideBySide >= 1 else { throw ToolError("--side-by-side must be at least 1") }
                options.clientsSideBySide = sideBySide
            }
            options.seed = seed
            do {
                options.drops = try drops.map { text throws(SimulationError) in
                    try DropSpecification(parsing: text.contains("@") ? text : text + "@masked-input")
                }
                // The server's time per round goes to stderr as the session runs.
                let result = try ProtocolBenchmark.run(options) { line in
                    FileHandle.standardError.write(Data(("server round " + line + "\n").utf8))
                }
                print(json ? result.jsonReport : result.textReport)
                guard result.verified else { throw ToolError("the aggregate does not match the plaintext sum") }
            } catch let error as SimulationError {
                throw ToolError(error.description)
            }
        }
    }

    /// `secagg bench client [--clients N] [--length M] [--json]`
    struct ClientAlone: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "client",
            abstract: "One SecAgg+ client of an n-client cohort, measured alone (rounds 0–2, bytes received).",
            discussion: """
                Every one of the n clients advertises keys and reveals its graph-seed contribution, so the server \
                builds its three Merkle trees (key, reveal, ring) over n slots; from round 1 on only the measured \
                client and its k neighbours go on. Reports the measured client's CPU per round and the bytes it \
                received and sent (k and t from the parameter finder, semi-honest, γ and δ as given).
                """)

        @Option(help: "Number of clients n.") var clients = 1_000
        @Option(help: "Vector length m.") var length = 10_000
        @Option(help: "γ for the parameter finder.") var corrupt = 0.05
        @Option(name: .customLong("dropout-bound"), help: "δ for the parameter finder.") var dropoutBound = 0.05
        @Option(help: "The measured client (1…n).") var client: UInt32 = 1
        @Option(help: "k instead of the finder's (with --threshold).") var degree: Int?
        @Option(help: "t instead of the finder's (with --degree).") var threshold: Int?
        @Option(help: "Seed.") var seed: UInt64 = 1
        @Flag(help: "One JSON object.") var json = false

        func run() throws {
            var options = ClientBenchmarkOptions()
            options.clientCount = clients
            options.vectorLength = length
            options.corruptFraction = corrupt
            options.dropoutBound = dropoutBound
            options.client = client
            options.degree = degree
            options.threshold = threshold
            options.seed = seed
            do {
                let result = try ClientBenchmark.run(options)
                print(json ? result.jsonReport : result.textReport)
            } catch {
                throw ToolError(error.description)
            }
        }
    }

    /// `secagg bench shamir [--clients N] [--json]`
    struct Shamir: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Shamir split and reconstruction at n shares (the complete graph's unmasking).")

        @Option(help: "Shares per secret n.")
        var clients: Int = 1000

        @Option(help: "Threshold t (default ⌈2(n−1)/3⌉).")
        var threshold: Int?

        @Flag(help: "Print one JSON object.")
        var json = false

        func run() throws {
            do {
                let result = try ShamirBenchmark.run(shareCount: clients, threshold: threshold)
                print(json ? result.jsonReport : result.textReport)
            } catch {
                throw ToolError(error.description)
            }
        }
    }

    /// `secagg bench wire [--length M] [--bits B] [--json]`
    struct Wire: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode and decode throughput of one masked-input message.")

        @Option(help: "Vector length m.")
        var length: Int = 100_000

        @Option(help: "Element bit width b (ring Z_2^b, 1...64).")
        var bits: Int = 32

        @Flag(help: "Print one JSON object.")
        var json = false

        func run() throws {
            do {
                let result = try WireBenchmark.run(length: length, modulus: .powerOfTwo(bitWidth: bits))
                print(json ? result.jsonReport : result.textReport)
            } catch {
                throw ToolError(error.description)
            }
        }
    }

    /// `secagg bench apply [--masks K] [--length M] [--bits B] [--threads T]`
    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The engine's mask application (K masks onto one vector) against the keystream floor.")

        @Option(help: "Masks K.")
        var masks: Int = 100

        @Option(help: "Vector length m.")
        var length: Int = 100_000

        @Option(help: "Element bit width b.")
        var bits: Int = 32

        @Option(help: "Threads (default 1).")
        var threads: Int = 1

        func run() throws {
            do {
                print(
                    try ApplyBenchmark.run(masks: masks, length: length, bits: bits, threads: max(1, threads))
                        .textReport)
            } catch {
                throw ToolError(error.description)
            }
        }
    }

    /// `secagg bench dp [--clients N] [--length M] [--mechanism ddgauss|skellam] [--json]`
    struct Privacy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dp",
            abstract:
                "A client's distributed-DP noise generation (rotation, rounding, exact sampling) next to its masking.",
            discussion: """
                Plans ε = --epsilon, δ = 1/n², T = 1, C = 1 over Z_2^32 for n clients and d = m, then times one \
                client's encoding (best of three) and the engine's masking loop applying n masks to an m-element \
                vector on one thread (and to the padded D-element vector the DP encoding sends).
                """)

        @Option(help: "Number of clients n.")
        var clients: Int = 500

        @Option(help: "Model coordinates m = d.")
        var length: Int = 100_000

        @Option(help: "ddgauss or skellam.")
        var mechanism: String = "ddgauss"

        @Option(help: "Target ε of the plan.")
        var epsilon: Double = 1

        @Flag(help: "Print one JSON object.")
        var json = false

        func run() throws {
            guard let parsed = DistributedMechanism(rawValue: mechanism) else {
                throw ToolError("--mechanism must be ddgauss or skellam, got '\(mechanism)'")
            }
            let result: PrivacyBenchmarkResult
            do {
                result = try PrivacyBenchmark.run(mechanism: parsed, clients: clients, length: length, epsilon: epsilon)
            } catch {
                throw ToolError(error.description)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                print(result.textReport)
            }
        }
    }
}
