import ArgumentParser
import Foundation
import SecAggCrypto
import SecAggPrivacy
import SecAggSimulation

/// `--dp-epsilon` and friends, shared by `secagg plan` and `secagg simulate`.
struct DPArguments: ParsableArguments {
    @Option(
        name: .customLong("dp-epsilon"),
        help: "Distributed differential privacy: target ε over all rounds (needs --dp-delta; SPEC.md §15).")
    var epsilon: Double?

    @Option(name: .customLong("dp-delta"), help: "Target δ (e.g. 1/n² = 1e-4 for 100 clients).")
    var delta: Double?

    @Option(help: "Rounds T the (ε, δ) guarantee composes over (default 1).")
    var rounds: Int?

    @Option(name: .customLong("clip-norm"), help: "L2 clip norm C of one update (default 1).")
    var clipNorm: Double?

    @Option(help: "ddgauss (distributed discrete Gaussian, the default) or skellam.")
    var mechanism: String?

    @Option(
        name: .customLong("dp-noiseless"),
        help: "Fraction of the n clients assumed to add no noise (default: --corrupt when given, else 0).")
    var noiseless: Double?

    /// The options these arguments ask for, or nil without --dp-epsilon.
    func makeOptions() throws -> DPOptions? {
        guard let epsilon else {
            let stray = [
                delta.map { _ in "--dp-delta" }, rounds.map { _ in "--rounds" }, clipNorm.map { _ in "--clip-norm" },
                mechanism.map { _ in "--mechanism" }, noiseless.map { _ in "--dp-noiseless" },
            ].compactMap { $0 }
            if !stray.isEmpty {
                throw ToolError("\(stray.joined(separator: ", ")) \(stray.count == 1 ? "needs" : "need") --dp-epsilon")
            }
            return nil
        }
        guard let delta else { throw ToolError("--dp-epsilon needs --dp-delta (for n clients, 1/n² is usual)") }
        var options = DPOptions(epsilon: epsilon, delta: delta)
        if let rounds { options.rounds = rounds }
        if let clipNorm { options.clipNorm = clipNorm }
        if let mechanism {
            guard let parsed = DistributedMechanism(rawValue: mechanism) else {
                throw ToolError("--mechanism must be ddgauss or skellam, got '\(mechanism)'")
            }
            options.mechanism = parsed
        }
        options.noiselessFraction = noiseless
        return options
    }
}

/// `secagg dp …`: the distributed-DP checks and tables.
struct DPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dp", abstract: "Distributed differential privacy: sampler checks and the planning table.",
        subcommands: [Check.self, Table.self])

    /// `secagg dp check [--samples N]`
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Chi-square goodness of fit of the exact samplers (use a release build).",
            discussion: """
                For the discrete Gaussian (σ = 0.5, 0.9, 3.16, 37.5, 10^4), Poisson (λ = 0.25, 3.7, 1000, 5·10^7) \
                and Skellam (σ ≈ 0.63, 3, 10^4) samplers: N samples from a fixed noise stream, Pearson's \
                chi-square against the exact pmf (bins of expected count ≥ max(5, N/1000)), and z-scores of the \
                mean and variance. A case fails when p < 10^-6 or |z| > 6. Exit code 1 on any failure.
                """)

        @Option(help: "Samples per case.")
        var samples = 1_000_000

        @Option(help: "Seed byte of the noise stream (the stream's seed is this byte 32 times).")
        var seed: UInt8 = 42

        func run() throws {
            guard samples >= 100 else { throw ToolError("--samples must be at least 100") }
            var failed = 0
            for distribution in SamplerCheck.standardCases {
                let report: SamplerCheck.Report
                do {
                    report = try SamplerCheck.run(distribution, count: samples, seed: seed)
                } catch {
                    throw ToolError("\(error)")
                }
                print(report)
                if !report.passed { failed += 1 }
            }
            print("\(SamplerCheck.standardCases.count - failed) passed, \(failed) failed")
            if failed > 0 { throw ExitCode(1) }
        }
    }

    /// `secagg dp table`
    struct Table: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The README's planning table: bits needed, γ, noise and MSE next to central DP.",
            discussion: """
                For n ∈ {100, 1000, 10000}, T ∈ {1, 1000}, ε ∈ {1, 8}, δ = 1/n², d = --length, C = --clip-norm, \
                no dropouts: each mechanism planned over the smallest ring Z_2^b whose MSE is within 10% of the \
                plan at 64 bits, next to the central Gaussian mechanism at the same (ε, δ, T): calibrated exactly \
                (Balle–Wang), and through the same RDP accounting (the last column: the price of distribution alone).
                """)

        @Option(help: "Model coordinates d.")
        var length = 100_000

        @Option(name: .customLong("clip-norm"), help: "L2 clip norm C.")
        var clipNorm = 1.0

        func run() throws {
            print(
                "| n | T | ε | mechanism | bits needed | γ | noise std (sum) | MSE of the mean | central σ (sum) "
                    + "| central MSE | MSE / central | MSE / central (RDP) |")
            print("|---|---|---|---|---|---|---|---|---|---|---|---|")
            for n in [100, 1000, 10_000] {
                for rounds in [1, 1000] {
                    for epsilon in [1.0, 8.0] {
                        for mechanism in DistributedMechanism.allCases {
                            print(try row(n: n, rounds: rounds, epsilon: epsilon, mechanism: mechanism))
                        }
                    }
                }
            }
        }

        private func row(n: Int, rounds: Int, epsilon: Double, mechanism: DistributedMechanism) throws -> String {
            var request = PrivacyPlanRequest(
                mechanism: mechanism, epsilon: epsilon, delta: 1 / Double(n * n), rounds: rounds, clientCount: n,
                dimension: length, clipNorm: clipNorm)
            let head = "| \(n) | \(rounds) | \(Int(epsilon)) | \(mechanism) | "
            do {
                guard let bits = try PrivacyPlan.bitsNeeded(request) else {
                    return head + "infeasible | | | | | | | |"
                }
                request.modulus = .powerOfTwo(bitWidth: bits)
                let plan = try PrivacyPlan.plan(request)
                let rdpSigma = PrivacyAccountant.centralGaussianStddevRdp(
                    epsilon: epsilon, delta: request.delta, rounds: rounds, sensitivity: clipNorm)
                let rdpMse = rdpSigma * rdpSigma / Double(n * n)
                let cells = [
                    "\(bits)", g(plan.encoding.scale), g(plan.noiseStddev(includedClientCount: n)),
                    g(plan.meanSquaredError), g(plan.centralGaussianStddev), g(plan.centralMeanSquaredError),
                    String(format: "%.2f", plan.meanSquaredError / plan.centralMeanSquaredError),
                    String(format: "%.2f", plan.meanSquaredError / rdpMse),
                ]
                return head + cells.joined(separator: " | ") + " |"
            } catch {
                throw ToolError("\(error)")
            }
        }

        private func g(_ value: Double) -> String { String(format: "%.3g", value) }
    }
}
