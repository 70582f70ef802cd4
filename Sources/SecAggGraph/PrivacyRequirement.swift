/// Whether a fixed (degree, threshold) keeps a declared number of corrupt clients from unmasking an honest
/// client (SPEC.md §10.4, conditions P1/A1 and P2), computed for exact counts rather than fractions.
///
/// The session configuration declares how many corrupt and dropped clients it is meant to withstand; the
/// engine refuses a configuration whose threshold fails this check (SPEC.md §11.1).
public struct PrivacyRequirement: Hashable, Sendable, CustomStringConvertible {
    /// Number of clients n.
    public var clientCount: Int
    /// The degree k (n − 1 for the complete graph).
    public var degree: Int
    /// The threshold t checked.
    public var threshold: Int
    /// Corrupt clients assumed (C).
    public var corruptClients: Int
    /// Dropped clients assumed (D); they only enter the disconnection bound of sparse graphs.
    public var droppedClients: Int
    /// The adversary model.
    public var model: AdversaryModel
    /// Privacy parameter σ.
    public var sigma: Int
    /// The privacy-failure bound of `threshold`: shares plus disconnection (0 when impossible).
    public var privacyFailure: Log2Probability
    /// True when `threshold` ≥ 2, privacyFailure ≤ 2^−σ and, in the active model, 2t > k.
    public var isMet: Bool
    /// The smallest threshold in 2...k that would meet the requirement, or nil when none does (the degree
    /// itself is too small, or the disconnection bound alone exceeds 2^−σ).
    public var smallestPassingThreshold: Int?

    /// Evaluates the requirement. `degree` is an even number in 2...n − 2 for a Harary graph or n − 1 for the
    /// complete graph; the counts are in 0..<n.
    public init(
        clientCount: Int, degree: Int, threshold: Int, corruptClients: Int, droppedClients: Int,
        model: AdversaryModel, sigma: Int = ParameterFinder.defaultSigma
    ) throws(GraphError) {
        let analysis = try Analysis(
            clientCount: clientCount, corruptClients: corruptClients, droppedClients: droppedClients, model: model,
            sigma: sigma, eta: ParameterFinder.defaultEta)
        let n = clientCount
        guard degree >= 1, degree <= n - 1, degree == n - 1 || degree.isMultiple(of: 2) else {
            throw .invalidDegree(degree: degree, clientCount: n)
        }
        let k = degree
        self.clientCount = n
        self.degree = k
        self.threshold = threshold
        self.corruptClients = corruptClients
        self.droppedClients = droppedClients
        self.model = model
        self.sigma = sigma
        func passes(_ t: Int) -> Bool {
            guard t >= ParameterFinder.minimumThreshold, t <= k else { return false }
            // The active model needs 2t > k even with no corrupt client (a server splitting views, §10.4 A1).
            if model == .active && 2 * t <= k { return false }
            return analysis.logPrivacyFailure(degree: k, threshold: t) <= analysis.privacyBudget
        }
        let clamped = min(max(threshold, 1), k)
        privacyFailure = Log2Probability(analysis.logPrivacyFailure(degree: k, threshold: clamped) / LogMath.ln2)
        isMet = passes(threshold)
        // Privacy only improves with t (the tails shrink and 2t − k grows), so bisect for the first pass.
        let lowest = min(ParameterFinder.minimumThreshold, k)
        smallestPassingThreshold =
            k >= ParameterFinder.minimumThreshold ? firstIndex(in: lowest...k, where: passes) : nil
    }

    /// The rule in words, with the numbers of this requirement.
    public var rule: String {
        let complete = degree == clientCount - 1
        switch (model, complete) {
        case (.semiHonest, true):
            return "the semi-honest model on the complete graph needs t ≥ 2 and t > C (C = \(corruptClients) "
                + "assumed corrupt clients)"
        case (.active, true):
            return "the active model needs t > (k + C)/2 = (\(degree) + \(corruptClients))/2 (k = \(degree) "
                + "neighbours, C = \(corruptClients) assumed corrupt clients), so that a server showing two "
                + "survivor sets cannot collect t shares of both secrets of one client"
        case (.semiHonest, false):
            return "the semi-honest model on H(\(clientCount), \(degree)) needs t ≥ 2 and n · P[Hyp(n − 1, C, k) ≥ t] "
                + "+ P[disconnected] ≤ 2^-\(sigma) (C = \(corruptClients), D = \(droppedClients))"
        case (.active, false):
            return
                "the active model on H(\(clientCount), \(degree)) needs 2t > k = \(degree) and n · P[Hyp(n − 1, C, k) "
                + "≥ 2t − k] + P[disconnected] ≤ 2^-\(sigma) (C = \(corruptClients), D = \(droppedClients))"
        }
    }

    /// "threshold t fails/meets: rule; t ≥ … would pass".
    public var description: String {
        let passing =
            smallestPassingThreshold.map { "t ≥ \($0) would pass" } ?? "no threshold up to k = \(degree) passes"
        return isMet
            ? "threshold \(threshold) meets the privacy requirement (\(privacyFailure))"
            : "threshold \(threshold) does not protect privacy: \(rule); privacy failure bound \(privacyFailure); \(passing)"
    }
}
