/// Finds the smallest even degree k and a threshold t for SecAgg+ on a random Harary graph, or the complete
/// graph when no sparse degree works (Bell et al., CCS 2020; conditions and derivations in SPEC.md §10.3–§10.5).
public enum ParameterFinder {
    /// Default privacy parameter σ.
    public static let defaultSigma = 40
    /// Default correctness parameter η.
    public static let defaultEta = 20
    /// Even degrees up to this value are scanned one by one; above it the search doubles and bisects.
    public static let linearScanLimit = 1024
    /// Above ``linearScanLimit``, the search continues below the bisection result until this many consecutive
    /// even degrees are infeasible, because feasibility flickers at the boundary (t is an integer).
    public static let refinementWindow = 64
    /// The smallest threshold returned (t = 1 would hand each neighbour the secret itself).
    public static let minimumThreshold = 2

    /// The smallest even k ≤ n − 2 (or the complete graph) and a threshold t such that privacy fails with
    /// probability ≤ 2^−σ and recovery with probability ≤ 2^−η, for at most ⌊γn⌋ corrupt clients and at most
    /// ⌊δn⌋ dropouts.
    ///
    /// `sessionAttempts` is the number of sessions an adversary could make the same cohort start (aborting
    /// each after seeing its ring, SPEC.md §10.2): every attempt draws a fresh ring, so each must fail with
    /// probability ≤ 2^−σ / attempts. The default 1 states the bound per session.
    ///
    /// - Throws: ``GraphError/invalidParameter(name:value:allowed:)`` or
    ///   ``GraphError/invalidClientCount(count:minimum:maximum:)`` for out-of-range inputs;
    ///   ``GraphError/noFeasibleParameters(reason:)`` when not even the complete graph works.
    public static func find(
        clientCount: Int, corruptFraction: Double, dropoutFraction: Double, model: AdversaryModel,
        sigma: Int = defaultSigma, eta: Int = defaultEta, sessionAttempts: Int = 1
    ) throws(GraphError) -> SecAggPlusParameters {
        let analysis = try Analysis(
            clientCount: clientCount, corruptFraction: corruptFraction, dropoutFraction: dropoutFraction,
            model: model, sigma: sigma, eta: eta, sessionAttempts: sessionAttempts)
        if let (degree, range) = analysis.smallestSparseDegree() {
            let threshold = analysis.balancedThreshold(degree: degree, range: range)
            return analysis.parameters(graph: .harary(degree: degree), degree: degree, threshold: threshold)
        }
        return try analysis.completeGraph()
    }

    /// The threshold of step 2 of the search (SPEC.md §10.6) on the complete graph (k = n − 1), whatever a
    /// sparse degree would achieve: among the t in 2...k meeting both bounds for at most ⌊γn⌋ corrupt clients and
    /// ⌊δn⌋ dropouts, the one minimising max(log2 p_privacy + σ, log2 p_correctness + η), ties to the larger
    /// t. On the complete graph both bounds are 0 or 1 (every client sees every other), so the feasible
    /// interval is ⌊γn⌋ < t ≤ n − 1 − ⌊δn⌋ in the semi-honest model and (k + ⌊γn⌋)/2 < t ≤ n − 1 − ⌊δn⌋ in
    /// the active one, and the balanced choice is its upper end, n − 1 − ⌊δn⌋: the largest threshold that
    /// still survives ⌊δn⌋ dropouts.
    ///
    /// This is the threshold ``find(clientCount:corruptFraction:dropoutFraction:model:sigma:eta:sessionAttempts:)``
    /// returns when it falls back to the complete graph.
    ///
    /// - Throws: ``GraphError/invalidParameter(name:value:allowed:)`` or
    ///   ``GraphError/invalidClientCount(count:minimum:maximum:)`` for out-of-range inputs;
    ///   ``GraphError/noFeasibleParameters(reason:)`` when no threshold meets both bounds.
    public static func completeGraphThreshold(
        clientCount: Int, corruptFraction: Double, dropoutFraction: Double, model: AdversaryModel,
        sigma: Int = defaultSigma, eta: Int = defaultEta, sessionAttempts: Int = 1
    ) throws(GraphError) -> SecAggPlusParameters {
        let analysis = try Analysis(
            clientCount: clientCount, corruptFraction: corruptFraction, dropoutFraction: dropoutFraction,
            model: model, sigma: sigma, eta: eta, sessionAttempts: sessionAttempts)
        return try analysis.completeGraph()
    }

    /// The failure bounds of a given (k, t): `degree` even in 2...n − 2 for a Harary graph, or ≥ n − 1 for the
    /// complete graph; 1 ≤ t ≤ k. Check ``SecAggPlusParameters/meetsBounds`` on the result.
    public static func evaluate(
        clientCount: Int, corruptFraction: Double, dropoutFraction: Double, model: AdversaryModel,
        degree: Int, threshold: Int, sigma: Int = defaultSigma, eta: Int = defaultEta, sessionAttempts: Int = 1
    ) throws(GraphError) -> SecAggPlusParameters {
        let analysis = try Analysis(
            clientCount: clientCount, corruptFraction: corruptFraction, dropoutFraction: dropoutFraction,
            model: model, sigma: sigma, eta: eta, sessionAttempts: sessionAttempts)
        let n = clientCount
        guard degree >= 2, degree.isMultiple(of: 2) || degree >= n - 1 else {
            throw .invalidDegree(degree: degree, clientCount: n)
        }
        let k = min(degree, n - 1)
        guard (1...k).contains(threshold) else {
            throw .invalidParameter(name: "threshold", value: Double(threshold), allowed: "1...\(k)")
        }
        return analysis.parameters(graph: k == n - 1 ? .complete : .harary(degree: k), degree: k, threshold: threshold)
    }
}

/// The failure bounds for one threat model; all logarithms are natural unless named log2.
struct Analysis {
    let n: Int
    let corruptFraction: Double
    let dropoutFraction: Double
    let model: AdversaryModel
    let sigma: Int
    let eta: Int
    /// Session attempts an adversary can make the cohort run, each a fresh ring (SPEC.md §10.2).
    let sessionAttempts: Int
    /// ⌊γn⌋ and ⌊δn⌋.
    let corrupt: Int
    let dropped: Int
    /// ln n (the union bound over clients) and the budgets −σ ln 2 − ln(attempts), −η ln 2.
    let logClients: Double
    let privacyBudget: Double
    let correctnessBudget: Double

    init(
        clientCount: Int, corruptFraction: Double, dropoutFraction: Double, model: AdversaryModel, sigma: Int,
        eta: Int, sessionAttempts: Int = 1
    ) throws(GraphError) {
        guard (2...HararyGraph.maximumClientCount).contains(clientCount) else {
            throw .invalidClientCount(count: clientCount, minimum: 2, maximum: HararyGraph.maximumClientCount)
        }
        guard corruptFraction.isFinite, corruptFraction >= 0, corruptFraction < 1 else {
            throw .invalidParameter(name: "corruptFraction", value: corruptFraction, allowed: "0 ≤ γ < 1")
        }
        guard dropoutFraction.isFinite, dropoutFraction >= 0, dropoutFraction < 1 else {
            throw .invalidParameter(name: "dropoutFraction", value: dropoutFraction, allowed: "0 ≤ δ < 1")
        }
        let n = clientCount
        // ⌊γn⌋ < n because γ < 1; clamp to n − 1 against rounding of γn just below n.
        try self.init(
            clientCount: n, corruptClients: min(n - 1, Int((corruptFraction * Double(n)).rounded(.down))),
            droppedClients: min(n - 1, Int((dropoutFraction * Double(n)).rounded(.down))), model: model,
            sigma: sigma, eta: eta, sessionAttempts: sessionAttempts, corruptFraction: corruptFraction,
            dropoutFraction: dropoutFraction)
    }

    /// The bounds for exact counts: at most `corruptClients` corrupt and `droppedClients` dropped clients.
    init(
        clientCount: Int, corruptClients: Int, droppedClients: Int, model: AdversaryModel, sigma: Int, eta: Int,
        sessionAttempts: Int = 1, corruptFraction: Double? = nil, dropoutFraction: Double? = nil
    ) throws(GraphError) {
        guard (2...HararyGraph.maximumClientCount).contains(clientCount) else {
            throw .invalidClientCount(count: clientCount, minimum: 2, maximum: HararyGraph.maximumClientCount)
        }
        guard (0..<clientCount).contains(corruptClients) else {
            throw .invalidParameter(
                name: "corruptClients", value: Double(corruptClients), allowed: "0...\(clientCount - 1)")
        }
        guard (0..<clientCount).contains(droppedClients) else {
            throw .invalidParameter(
                name: "droppedClients", value: Double(droppedClients), allowed: "0...\(clientCount - 1)")
        }
        guard (1...1000).contains(sigma) else {
            throw .invalidParameter(name: "sigma", value: Double(sigma), allowed: "1...1000")
        }
        guard (1...1000).contains(eta) else {
            throw .invalidParameter(name: "eta", value: Double(eta), allowed: "1...1000")
        }
        guard sessionAttempts >= 1 else {
            throw .invalidParameter(name: "sessionAttempts", value: Double(sessionAttempts), allowed: "≥ 1")
        }
        n = clientCount
        self.corruptFraction = corruptFraction ?? Double(corruptClients) / Double(clientCount)
        self.dropoutFraction = dropoutFraction ?? Double(droppedClients) / Double(clientCount)
        self.model = model
        self.sigma = sigma
        self.eta = eta
        self.sessionAttempts = sessionAttempts
        corrupt = corruptClients
        dropped = droppedClients
        logClients = LogMath.ln(Double(n))
        // Each session attempt is a fresh draw of the ring (SPEC.md §10.2): the per-attempt privacy bound must
        // be 2^−σ / attempts so that the best of all attempts still fails with probability ≤ 2^−σ.
        privacyBudget = -Double(sigma) * LogMath.ln2 - LogMath.ln(Double(sessionAttempts))
        correctnessBudget = -Double(eta) * LogMath.ln2
    }

    /// Corrupt neighbours of an honest client: Hyp(n − 1, ⌊γn⌋, k) (§10.3).
    private func corruptNeighbours(_ k: Int) -> Hypergeometric {
        // Valid by construction: corrupt ≤ n − 1 and k ≤ n − 1.
        Hypergeometric(uncheckedPopulation: n - 1, successes: corrupt, draws: k)
    }

    /// Dropped neighbours of a client: Hyp(n − 1, ⌊δn⌋, k) (§10.3).
    private func droppedNeighbours(_ k: Int) -> Hypergeometric {
        Hypergeometric(uncheckedPopulation: n - 1, successes: dropped, draws: k)
    }

    /// The corrupt-neighbour count that breaks a client's shares: t (semi-honest) or 2t − k (active).
    func breakingCount(degree k: Int, threshold t: Int) -> Int {
        model == .semiHonest ? t : 2 * t - k
    }

    /// ln of the share-privacy bound n · P[Hyp(n − 1, ⌊γn⌋, k) ≥ τ(t)] (§10.3, conditions P1/A1).
    func logShareFailure(degree k: Int, threshold t: Int) -> Double {
        logClients + corruptNeighbours(k).logUpperTail(atLeast: breakingCount(degree: k, threshold: t))
    }

    /// ln of the disconnection bound (§10.4): n(n − k − 1)/2 · Π_{j<k} (R − j)/(n − j), R = min(n, ⌊γn⌋ + ⌊δn⌋);
    /// −∞ when two separated runs of k/2 removed ring positions cannot exist (k ≥ n − 1, n < k + 2, R < k).
    func logDisconnection(degree k: Int) -> Double {
        let removed = min(n, corrupt + dropped)
        guard k < n - 1, n >= k + 2, removed >= k else { return -.infinity }
        let pairs = Double(n) * Double(n - k - 1) / 2
        let logAllRemoved =
            LogMath.logFactorial(removed) - LogMath.logFactorial(removed - k) - LogMath.logFactorial(n)
            + LogMath.logFactorial(n - k)
        return LogMath.ln(pairs) + logAllRemoved
    }

    /// ln of the correctness bound n · P[Hyp(n − 1, ⌊δn⌋, k) ≥ k − t + 1] (§10.5, condition R).
    func logCorrectnessFailure(degree k: Int, threshold t: Int) -> Double {
        logClients + droppedNeighbours(k).logUpperTail(atLeast: k - t + 1)
    }

    func logPrivacyFailure(degree k: Int, threshold t: Int) -> Double {
        LogMath.logAddExp(logShareFailure(degree: k, threshold: t), logDisconnection(degree: k))
    }

    /// The thresholds t in minimumThreshold...k meeting both budgets at degree k, or nil.
    func thresholdRange(degree k: Int) -> ClosedRange<Int>? {
        let lowest = min(ParameterFinder.minimumThreshold, k)
        guard logDisconnection(degree: k) <= privacyBudget else { return nil }
        // Privacy improves with t, correctness worsens: bisect both ends.
        guard
            let tMin = firstIndex(
                in: lowest...k, where: { logPrivacyFailure(degree: k, threshold: $0) <= privacyBudget })
        else { return nil }
        guard
            let tMaxPlusOne = firstIndex(
                in: lowest...(k + 1),
                where: { $0 > k || logCorrectnessFailure(degree: k, threshold: $0) > correctnessBudget }),
            tMaxPlusOne - 1 >= tMin
        else { return nil }
        return tMin...(tMaxPlusOne - 1)
    }

    /// The smallest feasible even k in 2...n − 2 with its threshold range: a linear scan up to
    /// ``ParameterFinder/linearScanLimit``, then doubling, bisection and a downward scan that
    /// stops after ``ParameterFinder/refinementWindow`` consecutive infeasible even degrees (SPEC.md §10.6).
    func smallestSparseDegree() -> (Int, ClosedRange<Int>)? {
        let largest = (n - 2) & ~1
        guard largest >= 2 else { return nil }
        let linearEnd = min(largest, ParameterFinder.linearScanLimit)
        for k in stride(from: 2, through: linearEnd, by: 2) {
            if let range = thresholdRange(degree: k) { return (k, range) }
        }
        guard largest > linearEnd, var upperRange = thresholdRange(degree: largest) else { return nil }
        var low = linearEnd
        var high = largest
        var probe = linearEnd * 2
        while probe < high {
            if let range = thresholdRange(degree: probe) {
                high = probe
                upperRange = range
                break
            }
            low = probe
            probe *= 2
        }
        while high - low > 2 {
            let middle = (low + high) / 4 * 2
            if let range = thresholdRange(degree: middle) {
                high = middle
                upperRange = range
            } else {
                low = middle
            }
        }
        // Feasibility is monotone in k except for flicker where the threshold interval is about one value wide:
        // keep scanning down until `refinementWindow` consecutive even degrees are infeasible.
        var best = (high, upperRange)
        var k = high - 2
        var misses = 0
        while k > linearEnd && misses < ParameterFinder.refinementWindow {
            if let range = thresholdRange(degree: k) {
                best = (k, range)
                misses = 0
            } else {
                misses += 1
            }
            k -= 2
        }
        return best
    }

    /// The t in `range` minimising max(log2 privacy + σ, log2 correctness + η), ties to the larger t (§10.6).
    func balancedThreshold(degree k: Int, range: ClosedRange<Int>) -> Int {
        func privacyMargin(_ t: Int) -> Double { logPrivacyFailure(degree: k, threshold: t) - privacyBudget }
        func correctnessMargin(_ t: Int) -> Double {
            logCorrectnessFailure(degree: k, threshold: t) - correctnessBudget
        }
        // correctnessMargin − privacyMargin is non-decreasing in t: find where it becomes positive.
        guard let crossing = firstIndex(in: range, where: { correctnessMargin($0) > privacyMargin($0) }) else {
            return range.upperBound
        }
        guard crossing > range.lowerBound else { return crossing }
        let before = max(privacyMargin(crossing - 1), correctnessMargin(crossing - 1))
        let at = max(privacyMargin(crossing), correctnessMargin(crossing))
        return at <= before ? crossing : crossing - 1
    }

    func parameters(graph: GraphKind, degree k: Int, threshold t: Int) -> SecAggPlusParameters {
        SecAggPlusParameters(
            clientCount: n, corruptFraction: corruptFraction, dropoutFraction: dropoutFraction, model: model,
            sigma: sigma, eta: eta, sessionAttempts: sessionAttempts, graph: graph, degree: k, threshold: t,
            corruptClientCount: corrupt,
            dropoutClientCount: dropped,
            shareFailure: Log2Probability(logShareFailure(degree: k, threshold: t) / LogMath.ln2),
            disconnectionFailure: Log2Probability(logDisconnection(degree: k) / LogMath.ln2),
            privacyFailure: Log2Probability(logPrivacyFailure(degree: k, threshold: t) / LogMath.ln2),
            correctnessFailure: Log2Probability(logCorrectnessFailure(degree: k, threshold: t) / LogMath.ln2))
    }

    /// The complete graph (k = n − 1) with the balanced threshold of its feasible interval (SPEC.md §10.6).
    func completeGraph() throws(GraphError) -> SecAggPlusParameters {
        guard let range = thresholdRange(degree: n - 1) else {
            throw .noFeasibleParameters(reason: infeasibilityReason())
        }
        let threshold = balancedThreshold(degree: n - 1, range: range)
        return parameters(graph: .complete, degree: n - 1, threshold: threshold)
    }

    /// Why not even the complete graph works (its counts are deterministic: §10.5).
    func infeasibilityReason() -> String {
        let k = n - 1
        let recoveryMaximum = k - dropped
        switch model {
        case .semiHonest:
            let privacyMinimum = max(corrupt + 1, ParameterFinder.minimumThreshold)
            return """
                even the complete graph (k = \(k)) fails: privacy needs t ≥ \(privacyMinimum) (more than the \
                \(corrupt) corrupt clients), but recovery after \(dropped) dropouts allows t ≤ \(recoveryMaximum); \
                the semi-honest model needs ⌊γn⌋ + ⌊δn⌋ < n − 1 (γ + δ = \(corruptFraction + dropoutFraction))
                """
        case .active:
            let privacyMinimum = max((k + corrupt) / 2 + 1, ParameterFinder.minimumThreshold)
            return """
                even the complete graph (k = \(k)) fails: an active server that splits views needs t > (k + \
                corrupt)/2, i.e. t ≥ \(privacyMinimum), but recovery after \(dropped) dropouts allows t ≤ \
                \(recoveryMaximum); the active model needs ⌊γn⌋ + 2⌊δn⌋ < n − 1, \
                roughly γ + 2δ < 1 (here \(corruptFraction + 2 * dropoutFraction))
                """
        }
    }
}

/// The first value in `range` satisfying a predicate that is false then true (monotone), or nil.
func firstIndex(in range: ClosedRange<Int>, where predicate: (Int) -> Bool) -> Int? {
    var low = range.lowerBound
    var high = range.upperBound + 1
    while low < high {
        let middle = low + (high - low) / 2
        if predicate(middle) { high = middle } else { low = middle + 1 }
    }
    return low <= range.upperBound ? low : nil
}

extension Hypergeometric {
    /// For arguments valid by construction (0 ≤ successes, draws ≤ population).
    init(uncheckedPopulation population: Int, successes: Int, draws: Int) {
        self.population = population
        self.successes = successes
        self.draws = draws
    }
}
