public import SecAggCrypto

extension SessionConfiguration {
    /// The default Shamir threshold when no threat model is given: t = ⌈2k/3⌉ for k neighbours per client,
    /// which is ⌈2(n − 1)/3⌉ on the complete graph (`secagg simulate` and `secagg plan` use it there unless a
    /// corrupt fraction or dropout bound is given).
    ///
    /// It passes ``validate()`` with ``ThreatAssumption/minimal`` (no corrupt or dropped client assumed) in both
    /// security models whenever k ≥ 2 (n ≥ 3):
    /// - every model needs t ≥ 2 and t ≤ k: ⌈2k/3⌉ ≥ ⌈4/3⌉ = 2 for k ≥ 2, and ⌈2k/3⌉ ≤ k;
    /// - the active model also needs 2t > k (a server showing two survivor sets must not collect t shares of
    ///   both of one client's secrets): 2⌈2k/3⌉ ≥ 4k/3 > k;
    /// - with C = 0 no neighbour is corrupt and, with D = 0 assumed, a sparse graph cannot be disconnected,
    ///   so the privacy-failure bound is 0.
    ///
    /// Why two thirds: it sits between the two limits, so a session survives the loss of up to k − t ≈ k/3
    /// of any client's neighbours (recovery needs t live ones) while the server would have to corrupt about
    /// 2k/3 of them to rebuild a secret in the semi-honest model (and about k/3 in the active one, where the
    /// bound is 2t − k). When a number of corrupt clients or dropouts is to be guaranteed, declare it in
    /// ``threat`` and take t from `ParameterFinder` (SecAggGraph) instead; on a sparse graph that is the only
    /// meaningful choice, since the minimal threat says nothing about corrupt neighbours.
    ///
    /// With n = 2 (k = 1) no threshold passes ``validate()`` (t ≥ 2 > k); the result is then 1, and for
    /// n < 2 also 1.
    ///
    /// - Parameters:
    ///   - clientCount: n.
    ///   - graph: the neighbourhood structure, which sets k (n − 1 on the complete graph, min(k, n − 1) on a
    ///     Harary graph).
    /// - Returns: ⌈2k/3⌉, at least 1.
    public static func defaultThreshold(clientCount: Int, graph: GraphSpecification = .complete) -> Int {
        let degree: Int
        switch graph {
        case .complete: degree = clientCount - 1
        case let .harary(k): degree = min(k, clientCount - 1)
        }
        guard degree >= 1 else { return 1 }
        return (2 * degree + 2) / 3
    }

    /// A fresh session nonce from the system CSPRNG: ``nonceByteCount`` random bytes for ``nonce``.
    ///
    /// The nonce is public (it only keeps two sessions' digests apart), so it is returned as plain bytes.
    public static func randomNonce() -> [UInt8] {
        var rng = SystemRandomGenerator()
        return randomNonce(using: &rng)
    }

    /// A session nonce drawn from `rng`: its next ``nonceByteCount`` bytes.
    public static func randomNonce(using rng: inout some RandomByteGenerator) -> [UInt8] {
        rng.bytes(count: nonceByteCount)
    }
}
