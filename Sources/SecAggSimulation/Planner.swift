public import SecAggCrypto
public import SecAggGraph
import SecAggPrivacy
import SecAggQuantization
public import SecureAggregation

/// What `secagg plan` is asked about: a cohort, a threat model and the updates' size and range.
public struct PlanOptions: Sendable, Hashable {
    /// n.
    public var clientCount = SimulationOptions.defaultClientCount
    /// γ: the largest fraction of corrupt clients; nil means 0.05 for the failure bounds and, on the complete
    /// graph with δ also nil, the default threshold ⌈2(n − 1)/3⌉ instead of the finder's (as in `secagg
    /// simulate`).
    public var corruptFraction: Double?
    /// δ: the largest fraction of clients that drop out; nil as for `corruptFraction`.
    public var dropoutBound: Double?
    /// Clip range c.
    public var clip = SimulationOptions.defaultClip
    /// The ring the quantized updates live in.
    public var modulus: RingModulus = .powerOfTwo(bitWidth: 32)
    /// Semi-honest or active.
    public var model: SecurityModel = .semiHonest
    /// Model coordinates per update m.
    public var vectorLength = SimulationOptions.defaultVectorLength
    /// `.complete` (the default, as in `secagg simulate`) keeps every client connected; `.harary` asks the
    /// finder for the sparsest graph.
    public var graph: GraphChoice = .complete
    /// Overrides the threshold (its failure bounds are then evaluated).
    public var threshold: Int?
    /// The largest FedAvg weight W, or nil for an unweighted mean.
    public var maximumWeight: Int?
    /// Session attempts an adversary could force on the cohort (SPEC.md §10.2): privacy target 2^−σ / attempts.
    public var sessionAttempts = 1
    /// Distributed differential privacy: plan the DP encoding instead of the quantization (`--dp-epsilon`).
    public var dp: DPOptions?

    /// n = 100, γ = δ = 0.05 (not given), c = 1, Z_2^32, semi-honest, m = 100,000, complete graph with
    /// t = ⌈2(n − 1)/3⌉, unweighted.
    public init() {}
}

/// The plan for a cohort: quantization, graph, threshold and expected costs. `--json` prints exactly these keys.
public struct PlanReport: Sendable, Codable, CustomStringConvertible {
    /// The fixed-point encoding.
    public struct Quantization: Sendable, Codable, Hashable {
        /// The ring, e.g. "2^32".
        public var modulus: String
        /// Bits per element of the ring.
        public var bits: Int
        /// Clip range c.
        public var clip: Double
        /// Fixed-point scale s: one integer unit is 1/s.
        public var scale: Double
        /// Worst-case error per coordinate of the decoded mean (weights ≥ 1): δ/s.
        public var worstCaseMeanError: Double
        /// Worst-case error per coordinate of the decoded sum of n clients: nδ/s.
        public var worstCaseSumError: Double
        /// The largest integer one client contributes per coordinate, ⌈c · W · s⌉.
        public var elementBound: UInt64
        /// W, when weighted.
        public var maximumWeight: Int?
        /// "stochastic".
        public var rounding: String
        /// Elements per masked vector (m, plus one weight coordinate when weighted).
        public var vectorLength: Int

        enum CodingKeys: String, CodingKey {
            case modulus, bits, clip, scale, rounding
            case worstCaseMeanError = "worst_case_mean_error"
            case worstCaseSumError = "worst_case_sum_error"
            case elementBound = "element_bound"
            case maximumWeight = "maximum_weight"
            case vectorLength = "vector_length"
        }
    }

    /// The graph and threshold with their failure bounds.
    public struct Graph: Sendable, Codable, Hashable {
        /// "complete" or "harary".
        public var kind: String
        /// Neighbours per client k.
        public var k: Int
        /// Shamir threshold t.
        public var t: Int
        /// "two-thirds", "finder" or "explicit".
        public var thresholdRule: String
        /// ⌊γn⌋.
        public var corruptClients: Int
        /// ⌊δn⌋.
        public var dropoutClients: Int
        /// log2 of the privacy failure bound (null: probability 0).
        public var privacyFailureLog2: Log2Probability
        /// log2 of the correctness failure bound.
        public var correctnessFailureLog2: Log2Probability
        /// σ: privacy target 2^−σ.
        public var sigma: Int
        /// η: correctness target 2^−η.
        public var eta: Int
        /// Session attempts charged against σ (SPEC.md §10.2): the privacy target is 2^−σ / attempts.
        public var sessionAttempts: Int
        /// True when both bounds meet their targets (false only with an explicit threshold).
        public var meetsBounds: Bool

        enum CodingKeys: String, CodingKey {
            case kind, k, t, sigma, eta
            case sessionAttempts = "session_attempts"
            case thresholdRule = "threshold_rule"
            case corruptClients = "corrupt_clients"
            case dropoutClients = "dropout_clients"
            case privacyFailureLog2 = "privacy_failure_log2"
            case correctnessFailureLog2 = "correctness_failure_log2"
            case meetsBounds = "meets_bounds"
        }
    }

    /// Expected work per client.
    public struct ClientCost: Sendable, Codable, Hashable {
        /// X25519 key agreements.
        public var keyAgreements: Int
        /// Shamir shares created.
        public var sharesCreated: Int
        /// Share ciphertexts sent.
        public var shareCiphertexts: Int
        /// Mask elements expanded.
        public var maskElements: Int
        /// Mask keystream bytes.
        public var maskBytes: Double
        /// Masked input upload in bytes (bit-packed).
        public var maskedInputBytes: Int

        enum CodingKeys: String, CodingKey {
            case keyAgreements = "key_agreements"
            case sharesCreated = "shares_created"
            case shareCiphertexts = "share_ciphertexts"
            case maskElements = "mask_elements"
            case maskBytes = "mask_bytes"
            case maskedInputBytes = "masked_input_bytes"
        }
    }

    /// Expected server work at ⌊δn⌋ dropouts.
    public struct ServerCost: Sendable, Codable, Hashable {
        /// Dropouts assumed.
        public var dropouts: Int
        /// Survivors.
        public var survivors: Int
        /// Secret reconstructions.
        public var reconstructions: Double
        /// Shares combined.
        public var sharesCombined: Double
        /// Key agreements to recompute pairwise seeds.
        public var keyAgreements: Double
        /// Mask elements re-expanded.
        public var maskElements: Double
        /// Mask keystream bytes.
        public var maskBytes: Double
        /// Masked-input bytes received.
        public var maskedInputBytes: Double

        enum CodingKeys: String, CodingKey {
            case dropouts, survivors, reconstructions
            case sharesCombined = "shares_combined"
            case keyAgreements = "key_agreements"
            case maskElements = "mask_elements"
            case maskBytes = "mask_bytes"
            case maskedInputBytes = "masked_input_bytes"
        }
    }

    /// n.
    public var clients: Int
    /// "semi-honest" or "active".
    public var model: String
    /// γ.
    public var corruptFraction: Double
    /// δ.
    public var dropoutBound: Double
    /// Model coordinates per update m.
    public var length: Int
    /// The fixed-point encoding (absent with distributed DP, whose encoding replaces it).
    public var quantization: Quantization?
    /// The distributed-DP encoding and its guarantee, with `--dp-epsilon`.
    public var dp: DPReport?
    /// The graph.
    public var graph: Graph
    /// Per client.
    public var clientCost: ClientCost
    /// Server.
    public var serverCost: ServerCost

    enum CodingKeys: String, CodingKey {
        case clients, model, length, quantization, graph, dp
        case corruptFraction = "corrupt_fraction"
        case dropoutBound = "dropout_bound"
        case clientCost = "client_cost"
        case serverCost = "server_cost"
    }

    /// The human summary printed by `secagg plan`.
    public var description: String {
        let g = graph
        let c = clientCost
        let s = serverCost
        let verdict = g.meetsBounds ? "" : "  (DOES NOT MEET THE TARGETS)"
        let attempts = g.sessionAttempts > 1 ? " / \(g.sessionAttempts) session attempts" : ""
        var lines = [
            "plan for n = \(clients) clients, \(model) adversary, γ = \(corruptFraction), δ = \(dropoutBound), "
                + "m = \(length) values"
        ]
        if let q = quantization {
            let weight = q.maximumWeight.map { ", weighted (W = \($0), one extra coordinate)" } ?? ""
            lines.append(
                "  quantization: Z_\(q.modulus) (\(q.bits) bits), clip ±\(q.clip), scale \(q.scale), \(q.rounding) "
                    + "rounding\(weight)")
            lines.append("    worst-case error: mean \(q.worstCaseMeanError), sum \(q.worstCaseSumError)")
        }
        if let dp { lines += dp.lines }
        lines.append(
            "  graph: \(g.kind), k = \(g.k), t = \(g.t) (\(g.thresholdRule)), \(g.corruptClients) corrupt and "
                + "\(g.dropoutClients) dropouts assumed")
        lines.append(
            "    P[privacy failure] \(bound(g.privacyFailureLog2)) (target 2^-\(g.sigma)\(attempts)), P[correctness failure] "
                + "\(bound(g.correctnessFailureLog2)) (target 2^-\(g.eta))\(verdict)")
        lines.append(
            "  per client: \(c.keyAgreements) key agreements, \(c.sharesCreated) shares in \(c.shareCiphertexts) "
                + "ciphertexts, \(c.maskElements) mask elements (\(bytes(c.maskBytes)) of keystream), upload "
                + "\(bytes(Double(c.maskedInputBytes)))")
        lines.append(
            "  server (\(s.dropouts) dropouts, \(s.survivors) survivors): \(format(s.reconstructions, 0)) "
                + "reconstructions (\(format(s.sharesCombined, 0)) shares), \(format(s.keyAgreements, 0)) key agreements, "
                + "\(format(s.maskElements, 0)) mask elements (\(bytes(s.maskBytes))), \(bytes(s.maskedInputBytes)) of "
                + "masked inputs in")
        return lines.joined(separator: "\n")
    }

    private func bytes(_ value: Double) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var scaled = value
        var unit = 0
        while scaled >= 1000, unit + 1 < units.count {
            scaled /= 1000
            unit += 1
        }
        return unit == 0 ? "\(format(scaled, 0)) B" : "\(format(scaled, 2)) \(units[unit])"
    }
}

/// The logic behind `secagg plan`.
public enum Planner {
    /// The quantization plan (largest safe scale for n, c, the ring and W; stochastic rounding), the graph and
    /// threshold (``GraphPlan/choose(clientCount:graph:model:corruptFraction:dropoutBound:threshold:sessionAttempts:)``
    /// with the options' γ and δ, as `secagg simulate` chooses them), their failure bounds for γ and δ (0.05
    /// each when not given) and their expected costs (`SecAggPlusParameters.costEstimate`).
    public static func plan(_ options: PlanOptions) throws(SimulationError) -> PlanReport {
        let n = options.clientCount
        guard n >= 2, n <= SessionConfiguration.maximumClientCount else {
            throw .invalidArgument("--clients must be in 2...\(SessionConfiguration.maximumClientCount), got \(n)")
        }
        guard options.vectorLength >= 1, options.vectorLength <= SessionConfiguration.maximumVectorLength else {
            throw .invalidArgument(
                "--length must be in 1...\(SessionConfiguration.maximumVectorLength), got \(options.vectorLength)")
        }
        guard options.clip.isFinite, options.clip > 0 else {
            throw .invalidArgument("--clip must be finite and positive, got \(options.clip)")
        }
        if let weight = options.maximumWeight, !(1...QuantizationPlan.weightLimit).contains(weight) {
            throw .invalidArgument("--max-weight must be in 1...2^53, got \(weight)")
        }
        do {
            try options.modulus.validate()
        } catch {
            throw .invalidArgument("--bits/--modulus: \(error)")
        }
        let graph = try GraphPlan.choose(
            clientCount: n, graph: options.graph, model: options.model, corruptFraction: options.corruptFraction,
            dropoutBound: options.dropoutBound, threshold: options.threshold, sessionAttempts: options.sessionAttempts)
        var quantization: QuantizationPlan?
        var dpReport: DPReport?
        var vectorLength: Int
        if let dp = options.dp {
            guard options.maximumWeight == nil else {
                throw .invalidArgument("--max-weight (FedAvg weights) is not supported with --dp-epsilon")
            }
            let request = try DPPlanning.request(
                dp, clientCount: n, threshold: graph.threshold, corruptFraction: options.corruptFraction,
                dimension: options.vectorLength, modulus: options.modulus)
            let plan = try DPPlanning.plan(request)
            var report = DPReport(plan: plan)
            report.bitsNeeded = try? PrivacyPlan.bitsNeeded(request) ?? nil
            dpReport = report
            vectorLength = plan.encoding.paddedDimension
        } else {
            do {
                let plan = try QuantizationPlan.plan(
                    clientCount: n, clipRange: options.clip, modulus: options.modulus,
                    maximumWeight: options.maximumWeight, rounding: .stochastic)
                quantization = plan
                vectorLength = plan.vectorLength(valueCount: options.vectorLength)
            } catch {
                throw .infeasiblePlan(error.description)
            }
        }
        let gamma = options.corruptFraction ?? SimulationOptions.defaultFraction
        let delta = options.dropoutBound ?? SimulationOptions.defaultFraction
        let parameters: SecAggPlusParameters
        if let found = graph.parameters {
            parameters = found
        } else {
            // The default threshold was chosen without a threat model: report its bounds under the default one.
            do {
                parameters = try ParameterFinder.evaluate(
                    clientCount: n, corruptFraction: gamma, dropoutFraction: delta,
                    model: options.model == .active ? .active : .semiHonest, degree: graph.degree,
                    threshold: graph.threshold, sessionAttempts: options.sessionAttempts)
            } catch {
                throw GraphPlan.graphError(error)
            }
        }
        let cost: CostEstimate
        do {
            cost = try parameters.costEstimate(vectorLength: vectorLength, modulus: options.modulus)
        } catch {
            throw .invalidArgument(error.description)
        }
        return PlanReport(
            clients: n, model: options.model.description, corruptFraction: gamma, dropoutBound: delta,
            length: options.vectorLength,
            quantization: quantization.map { quantization in
                PlanReport.Quantization(
                    modulus: options.modulus.description, bits: options.modulus.elementBitWidth, clip: options.clip,
                    scale: quantization.scale, worstCaseMeanError: quantization.worstCaseMeanError,
                    worstCaseSumError: quantization.worstCaseSumError, elementBound: quantization.elementBound,
                    maximumWeight: options.maximumWeight, rounding: quantization.rounding.rawValue,
                    vectorLength: vectorLength)
            }, dp: dpReport,
            graph: PlanReport.Graph(
                kind: graph.kind.rawValue, k: graph.degree, t: graph.threshold, thresholdRule: graph.rule.rawValue,
                corruptClients: parameters.corruptClientCount, dropoutClients: parameters.dropoutClientCount,
                privacyFailureLog2: parameters.privacyFailure, correctnessFailureLog2: parameters.correctnessFailure,
                sigma: parameters.sigma, eta: parameters.eta, sessionAttempts: parameters.sessionAttempts,
                meetsBounds: parameters.meetsBounds),
            clientCost: PlanReport.ClientCost(
                keyAgreements: cost.clientKeyAgreements, sharesCreated: cost.clientSharesCreated,
                shareCiphertexts: cost.clientShareCiphertexts, maskElements: cost.clientMaskElements,
                maskBytes: cost.clientMaskBytes, maskedInputBytes: cost.clientMaskedInputByteCount),
            serverCost: PlanReport.ServerCost(
                dropouts: cost.dropoutCount, survivors: cost.survivorCount,
                reconstructions: cost.serverReconstructions, sharesCombined: cost.serverSharesCombined,
                keyAgreements: cost.serverKeyAgreements, maskElements: cost.serverMaskElements,
                maskBytes: cost.serverMaskBytes, maskedInputBytes: cost.serverMaskedInputBytes))
    }
}
