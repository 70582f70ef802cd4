/// Who the adversary is (SPEC.md §10.3).
public enum AdversaryModel: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// The server and the corrupt clients follow the protocol and pool their views.
    case semiHonest
    /// The server may deviate (lie about who dropped, send different views to different clients) and
    /// controls the corrupt clients.
    case active

    /// "semi-honest" or "active".
    public var description: String {
        switch self {
        case .semiHonest: "semi-honest"
        case .active: "active"
        }
    }
}

/// The output of ``ParameterFinder``: the graph, the Shamir threshold and the failure probabilities they
/// achieve under the stated threat model (SPEC.md §10.3–§10.5).
public struct SecAggPlusParameters: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Number of clients n.
    public var clientCount: Int
    /// Maximum fraction γ of corrupt clients.
    public var corruptFraction: Double
    /// Maximum fraction δ of clients that drop out.
    public var dropoutFraction: Double
    /// The adversary model.
    public var model: AdversaryModel
    /// Privacy parameter σ: privacy fails with probability at most 2^−σ.
    public var sigma: Int
    /// Correctness parameter η: recovery fails with probability at most 2^−η.
    public var eta: Int
    /// Session attempts an adversary may force on the cohort, each with a fresh ring (SPEC.md §10.2); the
    /// privacy bound holds for the best of them: privacyFailure ≤ 2^−σ / attempts.
    public var sessionAttempts: Int
    /// The graph to run on (`.complete` or `.harary(degree:)`).
    public var graph: GraphKind
    /// The degree k (n − 1 for the complete graph).
    public var degree: Int
    /// The Shamir threshold t (shares needed to reconstruct a client's secrets).
    public var threshold: Int
    /// ⌊γn⌋, the number of corrupt clients assumed.
    public var corruptClientCount: Int
    /// ⌊δn⌋, the number of dropouts assumed.
    public var dropoutClientCount: Int
    /// Union bound on some honest client having too many corrupt neighbours (≥ t, or ≥ 2t − k when active).
    public var shareFailure: Log2Probability
    /// Union bound on the honest survivors' subgraph being disconnected.
    public var disconnectionFailure: Log2Probability
    /// Bound on the privacy failure: shareFailure + disconnectionFailure.
    public var privacyFailure: Log2Probability
    /// Union bound on some client having fewer than t live neighbours (recovery fails).
    public var correctnessFailure: Log2Probability

    /// True when the complete graph was chosen.
    public var usesCompleteGraph: Bool { graph == .complete }

    /// True when privacyFailure ≤ 2^−σ / sessionAttempts and correctnessFailure ≤ 2^−η.
    public var meetsBounds: Bool {
        privacyFailure.value <= -Double(sigma) - LogMath.ln(Double(sessionAttempts)) / LogMath.ln2
            && correctnessFailure.value <= -Double(eta)
    }

    /// The graph for a session; `seed` (32 bytes) is used only by Harary graphs.
    public func makeGraph(seed: [UInt8]) throws(GraphError) -> SessionGraph {
        try graph.makeGraph(clientCount: clientCount, seed: seed)
    }

    /// A multi-line summary.
    public var description: String {
        let attemptsText = sessionAttempts > 1 ? " / \(Format.grouped(sessionAttempts)) session attempts" : ""
        let graphText = usesCompleteGraph ? "complete graph (k = n − 1 = \(degree))" : "random Harary graph H(n, k)"
        return """
            SecAgg+ parameters for n = \(Format.grouped(clientCount)) clients, \(model) adversary
              threat model:   γ = \(corruptFraction) (\(Format.grouped(corruptClientCount)) corrupt), \
            δ = \(dropoutFraction) (\(Format.grouped(dropoutClientCount)) dropouts)
              graph:          \(graphText)
              degree k:       \(degree)
              threshold t:    \(threshold)
              privacy:        \(privacyFailure) (target 2^-\(sigma)\(attemptsText)): shares \(shareFailure), \
            disconnection \(disconnectionFailure)
              correctness:    \(correctnessFailure) (target 2^-\(eta))
            """
    }
}
