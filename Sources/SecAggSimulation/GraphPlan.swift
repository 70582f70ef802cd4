public import SecAggGraph
public import SecureAggregation

/// The communication graph and Shamir threshold of a session, with the failure bounds they achieve when
/// they were chosen (or checked) against a threat model.
public struct GraphPlan: Sendable, Hashable {
    /// How the threshold was chosen.
    public enum ThresholdRule: String, Sendable, Hashable, Codable {
        /// The parameter finder's conditions (SPEC.md §10.3–§10.5) for the given γ and δ.
        case finder
        /// ⌈2(n − 1)/3⌉ on the complete graph (no γ or δ given):
        /// `SessionConfiguration.defaultThreshold(clientCount:graph:)`.
        case twoThirds = "two-thirds"
        /// Given explicitly (`--threshold`).
        case explicit
    }

    /// The graph actually used: `.harary` can fall back to `.complete` when no sparse degree is feasible.
    public var kind: GraphChoice
    /// The engine's graph.
    public var specification: GraphSpecification
    /// Neighbours per client k (n − 1 on the complete graph).
    public var degree: Int
    /// Shamir threshold t.
    public var threshold: Int
    /// How `threshold` was chosen.
    public var rule: ThresholdRule
    /// The failure bounds of (k, t) under γ and δ; nil when no threat model was given (complete graph,
    /// ⌈2(n − 1)/3⌉ threshold).
    public var parameters: SecAggPlusParameters?

    /// The threat the session's configuration declares (SPEC.md §11.1), so that clients and server re-check the
    /// threshold against it: the finder's ⌊γn⌋ corrupt and ⌊δn⌋ dropped clients and σ when a threat model was
    /// given, else the minimal assumption (t ≥ 2; 2t > k in the active model).
    public var threat: ThreatAssumption {
        guard let parameters else { return .minimal }
        return ThreatAssumption(
            corruptClients: parameters.corruptClientCount, droppedClients: parameters.dropoutClientCount,
            sigma: parameters.sigma)
    }

    /// Chooses the graph and threshold for `clientCount` clients.
    ///
    /// - `.harary`: `ParameterFinder.find` with γ = `corruptFraction` and δ = `dropoutBound` (0.05 each when
    ///   nil); the finder may answer with the complete graph when no even degree ≤ n − 2 works.
    /// - `.complete`: with γ and δ both nil, `SessionConfiguration.defaultThreshold(clientCount:graph:)`,
    ///   t = ⌈2(n − 1)/3⌉; when either is given, `ParameterFinder.completeGraphThreshold`, the threshold that
    ///   balances the finder's privacy and correctness margins on k = n − 1 (the rule the finder applies to
    ///   every degree, and the threshold it returns when `.harary` falls back to the complete graph).
    /// - `threshold` overrides t in every case (1 ≤ t ≤ k); the bounds are then evaluated for that t.
    ///
    /// `sessionAttempts` (≥ 1) is the number of sessions an adversary could make the cohort start, each with a
    /// fresh SecAgg+ ring (SPEC.md §10.2); the privacy target becomes 2^−σ / attempts.
    public static func choose(
        clientCount n: Int, graph: GraphChoice, model: SecurityModel, corruptFraction: Double?,
        dropoutBound: Double?, threshold: Int?, sessionAttempts: Int = 1
    ) throws(SimulationError) -> GraphPlan {
        guard sessionAttempts >= 1 else { throw .invalidArgument("--session-attempts must be at least 1") }
        guard n >= 2, n <= SessionConfiguration.maximumClientCount else {
            throw .invalidArgument("--clients must be in 2...\(SessionConfiguration.maximumClientCount), got \(n)")
        }
        for (name, value) in [("--corrupt", corruptFraction), ("--dropout-bound", dropoutBound)] {
            if let value, !(value >= 0 && value < 1) {
                throw .invalidArgument("\(name) must be a fraction in [0, 1), got \(value)")
            }
        }
        let gamma = corruptFraction ?? SimulationOptions.defaultFraction
        let delta = dropoutBound ?? SimulationOptions.defaultFraction
        let adversary: AdversaryModel = model == .active ? .active : .semiHonest
        var plan: GraphPlan
        switch graph {
        case .harary:
            let found: SecAggPlusParameters
            do {
                found = try ParameterFinder.find(
                    clientCount: n, corruptFraction: gamma, dropoutFraction: delta, model: adversary,
                    sessionAttempts: sessionAttempts)
            } catch {
                throw graphError(error)
            }
            plan = GraphPlan(
                kind: found.usesCompleteGraph ? .complete : .harary,
                specification: found.usesCompleteGraph ? .complete : .harary(degree: found.degree),
                degree: found.degree, threshold: found.threshold, rule: .finder, parameters: found)
        case .complete:
            if corruptFraction == nil && dropoutBound == nil {
                let t = SessionConfiguration.defaultThreshold(clientCount: n, graph: .complete)
                plan = GraphPlan(
                    kind: .complete, specification: .complete, degree: n - 1, threshold: t, rule: .twoThirds,
                    parameters: nil)
            } else {
                let found: SecAggPlusParameters
                do {
                    found = try ParameterFinder.completeGraphThreshold(
                        clientCount: n, corruptFraction: gamma, dropoutFraction: delta, model: adversary,
                        sessionAttempts: sessionAttempts)
                } catch {
                    throw graphError(error)
                }
                plan = GraphPlan(
                    kind: .complete, specification: .complete, degree: n - 1, threshold: found.threshold,
                    rule: .finder, parameters: found)
            }
        }
        if let threshold {
            guard threshold >= 1, threshold <= plan.degree else {
                throw .invalidArgument(
                    "--threshold must be in 1...\(plan.degree) (the neighbours of each client), got \(threshold)")
            }
            plan.threshold = threshold
            plan.rule = .explicit
            if plan.parameters != nil {
                do {
                    plan.parameters = try ParameterFinder.evaluate(
                        clientCount: n, corruptFraction: gamma, dropoutFraction: delta, model: adversary,
                        degree: plan.degree, threshold: threshold, sessionAttempts: sessionAttempts)
                } catch {
                    throw graphError(error)
                }
            }
        }
        return plan
    }

    static func graphError(_ error: GraphError) -> SimulationError {
        switch error {
        case .noFeasibleParameters: .infeasiblePlan(error.description)
        case .invalidParameter, .invalidClientCount, .invalidDegree: .invalidArgument(error.description)
        default: .configuration(error.description)
        }
    }
}
