import SecAggCrypto

/// One secret the server must reconstruct.
struct ReconstructionRequest: Sendable {
    var owner: UInt32
    var kind: ShareKind
    var shares: [ShamirShare]
}

/// Lagrange coefficients shared between reconstructions: the server reconstructs many secrets from
/// overlapping responder sets and computes each set's coefficients once. On the complete graph the sets
/// are "the first t + 1 responders other than the owner", all inside the first t + 2 responders, so they
/// come from one ``ShamirReconstructorFamily`` in O(t) each instead of O(t²).
struct LagrangeCache: Sendable {
    private var family: ShamirReconstructorFamily?
    private var reconstructors: [[UInt32]: ShamirReconstructor] = [:]

    /// A cache deriving subsets of `superset` from one family (nil: every set computed directly).
    init(superset: [UInt32]? = nil) {
        family = superset.flatMap { try? ShamirReconstructorFamily(xCoordinates: $0) }
    }

    /// The shares a reconstruction uses: the first t + 1 by x when available, so one extra share checks
    /// consistency.
    static func chosen(_ shares: [ShamirShare], threshold: Int) -> [ShamirShare] {
        Array(shares.sorted { $0.x < $1.x }.prefix(threshold + 1))
    }

    /// The reconstructor for `xs` (cached).
    mutating func reconstructor(for xs: [UInt32], threshold: Int) throws(SecAggCryptoError) -> ShamirReconstructor {
        if let cached = reconstructors[xs] { return cached }
        let made = try Self.make(xs, threshold: threshold, family: family)
        reconstructors[xs] = made
        return made
    }

    private static func make(_ xs: [UInt32], threshold: Int, family: ShamirReconstructorFamily?)
        throws(SecAggCryptoError) -> ShamirReconstructor
    {
        if let family, family.contains(xs) { return try family.reconstructor(xCoordinates: xs, threshold: threshold) }
        return try ShamirReconstructor(xCoordinates: xs, threshold: threshold)
    }

    /// Reconstructs from at least t shares, using the first t + 1 (by x) when available.
    mutating func reconstruct(_ shares: [ShamirShare], threshold: Int, owner: UInt32, kind: ShareKind)
        throws(SecAggError) -> SecretBytes
    {
        let chosen = Self.chosen(shares, threshold: threshold)
        guard shares.count >= threshold else {
            throw .insufficientShares(owner: owner, kind: kind, available: shares.count, threshold: threshold)
        }
        do {
            return try reconstructor(for: chosen.map(\.x), threshold: threshold)
                .reconstruct(chosen, secretByteCount: 32)
        } catch {
            throw .reconstructionFailed(owner: owner, kind: kind)
        }
    }

    /// Reconstructs every request's 32-byte secret on up to `concurrency` threads, one result per request
    /// in order. Each distinct set of x-coordinates gets its coefficients once (from a family over the
    /// first t + 2 coordinates seen, when it contains the set). A secret that the first t + 1 shares do not
    /// reconstruct consistently, or that `verify` rejects, is decoded again from all its shares correcting
    /// errors (``ShamirSecretSharing/reconstructCorrectingErrors(_:threshold:secretByteCount:isValid:)``),
    /// which also names the shares that were wrong. A request fails with
    /// ``SecAggError/insufficientShares(owner:kind:available:threshold:)`` when it has fewer than t shares
    /// and ``SecAggError/reconstructionFailed(owner:kind:)`` when no secret that `verify` accepts is found.
    static func reconstructAll(
        _ requests: [ReconstructionRequest], threshold t: Int, concurrency: Int,
        verify: @escaping @Sendable (ReconstructionRequest, SecretBytes) -> Bool
    ) -> [Result<(secret: SecretBytes, faultyShares: [UInt32]), SecAggError>] {
        let chosen = requests.map { Self.chosen($0.shares, threshold: t) }
        // Distinct coordinate sets, and the family's superset: the first t + 2 coordinates of all shares.
        var setIndex: [[UInt32]: Int] = [:]
        var distinctSets: [[UInt32]] = []
        var requestSets = [Int](repeating: -1, count: requests.count)
        var seen = Set<UInt32>()
        for (r, request) in requests.enumerated() where request.shares.count >= t {
            let xs = chosen[r].map(\.x)
            for x in xs { seen.insert(x) }
            if let i = setIndex[xs] {
                requestSets[r] = i
            } else {
                setIndex[xs] = distinctSets.count
                requestSets[r] = distinctSets.count
                distinctSets.append(xs)
            }
        }
        let sets = distinctSets
        let setOfRequest = requestSets
        let family: ShamirReconstructorFamily? =
            sets.count > 1 ? try? ShamirReconstructorFamily(xCoordinates: Array(seen.sorted().prefix(t + 2))) : nil
        let reconstructors = ParallelWork.map(count: sets.count, concurrency: concurrency, batch: 1) { i in
            try? make(sets[i], threshold: t, family: family)
        }
        let secrets = ParallelWork.map(count: requests.count, concurrency: concurrency) {
            (r) -> (secret: SecretBytes, faultyShares: [UInt32])? in
            let request = requests[r]
            guard request.shares.count >= t else { return nil }
            if setOfRequest[r] >= 0, let reconstructor = reconstructors[setOfRequest[r]],
                let secret = try? reconstructor.reconstruct(chosen[r], secretByteCount: 32), verify(request, secret)
            {
                return (secret, [])
            }
            // A wrong share (or a wrong commitment): decode from every share, correcting errors.
            return ShamirSecretSharing.reconstructCorrectingErrors(
                request.shares.sorted { $0.x < $1.x }, threshold: t, secretByteCount: 32
            ) { verify(request, $0) }
        }
        return requests.enumerated().map { (r, request) in
            guard request.shares.count >= t else {
                return .failure(
                    .insufficientShares(
                        owner: request.owner, kind: request.kind, available: request.shares.count, threshold: t))
            }
            guard let secret = secrets[r] else {
                return .failure(.reconstructionFailed(owner: request.owner, kind: request.kind))
            }
            return .success(secret)
        }
    }
}
