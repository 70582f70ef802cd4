import Foundation
public import SecAggGraph
public import SecureAggregation

/// The communication graph and Shamir threshold of a session, with the failure bounds they achieve when
/// they were chosen (or checked) against a threat model.
public struct GraphPlan: Sendable, Hashable {
    /// How the threshold was chosen.
    public enum ThresholdRule: String, Sendable, Hashable, Codable {
        /// The parameter finder's conditions (SPEC.md §10.3–§10.5) for the given γ and δ.
        case finder
        /// ⌈2(n − 1)/3⌉ on the complete graph (no γ or δ given).
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
    /// - `.complete`: with γ and δ both nil, t = ⌈2(n − 1)/3⌉ (the historical default of the demo); when
    ///   either is given, the threshold that balances the finder's privacy and correctness margins on
    ///   k = n − 1 (the same rule the finder applies to sparse degrees), found by bisection over
    ///   `ParameterFinder.evaluate`.
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
                let t = max(1, Int((2.0 * Double(n - 1) / 3.0).rounded(.up)))
                plan = GraphPlan(
                    kind: .complete, specification: .complete, degree: n - 1, threshold: t, rule: .twoThirds,
                    parameters: nil)
            } else {
                let found = try completeGraphParameters(
                    clientCount: n, gamma: gamma, delta: delta, model: adversary, sessionAttempts: sessionAttempts)
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

    /// The balanced feasible threshold on the complete graph (k = n − 1): privacy failure falls and
    /// correctness failure grows with t, so the feasible thresholds form an interval whose ends, and the
    /// point where the two margins cross, are found by bisection.
    static func completeGraphParameters(
        clientCount n: Int, gamma: Double, delta: Double, model: AdversaryModel, sessionAttempts: Int = 1
    ) throws(SimulationError) -> SecAggPlusParameters {
        let k = n - 1
        var cache: [Int: SecAggPlusParameters] = [:]
        func at(_ t: Int) throws(SimulationError) -> SecAggPlusParameters {
            if let hit = cache[t] { return hit }
            do {
                let value = try ParameterFinder.evaluate(
                    clientCount: n, corruptFraction: gamma, dropoutFraction: delta, model: model, degree: k,
                    threshold: t, sessionAttempts: sessionAttempts)
                cache[t] = value
                return value
            } catch {
                throw graphError(error)
            }
        }
        // The margin in bits against the per-attempt target 2^−σ / attempts.
        let attemptsBits = log2(Double(sessionAttempts))
        func privacyMargin(_ p: SecAggPlusParameters) -> Double {
            p.privacyFailure.value + Double(p.sigma) + attemptsBits
        }
        func correctnessMargin(_ p: SecAggPlusParameters) -> Double { p.correctnessFailure.value + Double(p.eta) }
        /// The first t in `range` where `predicate` holds (it is monotone: false…false true…true).
        func firstIndex(in range: ClosedRange<Int>, where predicate: (SecAggPlusParameters) -> Bool)
            throws(SimulationError) -> Int?
        {
            var low = range.lowerBound
            var high = range.upperBound + 1
            while low < high {
                let middle = low + (high - low) / 2
                if predicate(try at(middle)) { high = middle } else { low = middle + 1 }
            }
            return low <= range.upperBound ? low : nil
        }
        let lowest = min(ParameterFinder.minimumThreshold, k)
        guard let tMin = try firstIndex(in: lowest...k, where: { privacyMargin($0) <= 0 }) else {
            throw .infeasiblePlan(
                "the complete graph of \(n) clients cannot keep privacy failure below 2^-\(ParameterFinder.defaultSigma) "
                    + "against a corrupt fraction of \(gamma) (\(model)); lower --corrupt")
        }
        let tMaxPlusOne = try firstIndex(in: lowest...k, where: { correctnessMargin($0) > 0 }) ?? (k + 1)
        guard tMaxPlusOne - 1 >= tMin else {
            throw .infeasiblePlan(
                "on the complete graph of \(n) clients no threshold meets both bounds for γ = \(gamma), "
                    + "δ = \(delta) (\(model)): privacy needs t ≥ \(tMin), recovery needs t ≤ \(tMaxPlusOne - 1)")
        }
        let range = tMin...(tMaxPlusOne - 1)
        // correctnessMargin − privacyMargin is non-decreasing in t: take the better side of the crossing.
        guard let crossing = try firstIndex(in: range, where: { correctnessMargin($0) > privacyMargin($0) }) else {
            return try at(range.upperBound)
        }
        guard crossing > range.lowerBound else { return try at(crossing) }
        let before = try at(crossing - 1)
        let after = try at(crossing)
        let worstBefore = max(privacyMargin(before), correctnessMargin(before))
        let worstAfter = max(privacyMargin(after), correctnessMargin(after))
        return worstAfter <= worstBefore ? after : before
    }

    static func graphError(_ error: GraphError) -> SimulationError {
        switch error {
        case .noFeasibleParameters: .infeasiblePlan(error.description)
        case .invalidParameter, .invalidClientCount, .invalidDegree: .invalidArgument(error.description)
        default: .configuration(error.description)
        }
    }
}
