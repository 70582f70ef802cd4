/// Lagrange coefficients for many subsets of one set of x-coordinates, each in O(t) after an O(N²) setup.
///
/// The server reconstructs one secret per client from the shares its neighbours revealed. On the complete
/// graph every owner's share set is "the first t + 1 responders other than the owner", so the sets differ
/// in one coordinate and all lie in S = the first t + 2 responders. Building each set's coefficients from
/// scratch costs O(t²) per set, and there are up to t + 2 sets; this family computes the barycentric
/// weights of S once, w_i = 1 / Π_{j≠i} (s_i − s_j), and derives a subset B = S \ O (|O| small) from them:
/// 1 / Π_{j∈B, j≠i} (x_i − x_j) = w_i · Π_{o∈O} (x_i − o), and λ_i(z) = that · L_B(z) / (z − x_i) with
/// L_B(z) = Π_{j∈B} (z − x_j), one batched inversion per evaluation point. The coefficients are the same
/// field elements as ``ShamirReconstructor/init(xCoordinates:threshold:)`` computes, so every result is too.
public struct ShamirReconstructorFamily: Sendable {
    /// Subsets that omit more coordinates than this are computed directly (the derivation costs O(|O| · t)).
    public static let maximumOmittedCount = 16

    /// The superset S.
    public let xCoordinates: [UInt32]
    private let weights: [UInt64]
    private let positions: [UInt32: Int]

    /// Precomputes the weights of `xCoordinates` (distinct, nonzero): O(N²) multiplications.
    public init(xCoordinates: [UInt32]) throws(SecAggCryptoError) {
        try ShamirSecretSharing.checkCoordinates(xCoordinates)
        self.xCoordinates = xCoordinates
        let s = xCoordinates.map { UInt64($0) }
        var products = [UInt64](repeating: 1, count: s.count)
        for i in s.indices {
            var p: UInt64 = 1
            for j in s.indices where j != i { p = Mersenne61.multiply(p, Mersenne61.subtract(s[i], s[j])) }
            products[i] = p
        }
        weights = Self.batchInverse(products)
        var positions: [UInt32: Int] = [:]
        for (i, x) in xCoordinates.enumerated() { positions[x] = i }
        self.positions = positions
    }

    /// Whether every coordinate of `xs` lies in the superset.
    public func contains(_ xs: [UInt32]) -> Bool {
        xs.allSatisfy { positions[$0] != nil }
    }

    /// A reconstructor for `xCoordinates` (basis first: the first `threshold` interpolate, the rest are
    /// checks), the same as ``ShamirReconstructor/init(xCoordinates:threshold:)`` would build. Coordinates
    /// outside the superset, or a basis omitting more than ``maximumOmittedCount`` of it, are computed
    /// directly.
    public func reconstructor(xCoordinates xs: [UInt32], threshold: Int) throws(SecAggCryptoError)
        -> ShamirReconstructor
    {
        guard threshold >= 1 else { throw .invalidThreshold(threshold: threshold, shareCount: xs.count) }
        guard xs.count >= threshold else { throw .notEnoughShares(count: xs.count, threshold: threshold) }
        try ShamirSecretSharing.checkCoordinates(xs)
        var basisPositions: [Int] = []
        basisPositions.reserveCapacity(threshold)
        var inBasis = [Bool](repeating: false, count: xCoordinates.count)
        for x in xs.prefix(threshold) {
            guard let p = positions[x] else { return try ShamirReconstructor(xCoordinates: xs, threshold: threshold) }
            basisPositions.append(p)
            inBasis[p] = true
        }
        let omitted = xCoordinates.indices.filter { !inBasis[$0] }
        guard omitted.count <= Self.maximumOmittedCount else {
            return try ShamirReconstructor(xCoordinates: xs, threshold: threshold)
        }
        // 1 / Π_{j∈B, j≠i} (x_i − x_j) for every basis coordinate.
        let basis = basisPositions.map { UInt64(xCoordinates[$0]) }
        var basisWeights = basisPositions.map { weights[$0] }
        for o in omitted {
            let so = UInt64(xCoordinates[o])
            for i in basis.indices {
                basisWeights[i] = Mersenne61.multiply(basisWeights[i], Mersenne61.subtract(basis[i], so))
            }
        }
        let atZero = Self.coefficients(basis: basis, basisWeights: basisWeights, at: 0)
        let atChecks = xs.dropFirst(threshold).map {
            Self.coefficients(basis: basis, basisWeights: basisWeights, at: UInt64($0))
        }
        return ShamirReconstructor(validCoordinates: xs, threshold: threshold, atZero: atZero, atChecks: atChecks)
    }

    /// λ_i(z) = basisWeights_i · L_B(z) / (z − x_i) for z outside the basis.
    private static func coefficients(basis: [UInt64], basisWeights: [UInt64], at z: UInt64) -> [UInt64] {
        let differences = basis.map { Mersenne61.subtract(z, $0) }
        var total: UInt64 = 1
        for d in differences { total = Mersenne61.multiply(total, d) }
        let inverses = batchInverse(differences)
        return basis.indices.map {
            Mersenne61.multiply(Mersenne61.multiply(basisWeights[$0], total), inverses[$0])
        }
    }

    /// The inverses of nonzero field elements with one exponentiation (Montgomery's trick).
    private static func batchInverse(_ values: [UInt64]) -> [UInt64] {
        guard !values.isEmpty else { return [] }
        var prefix = [UInt64](repeating: 1, count: values.count + 1)
        for i in values.indices { prefix[i + 1] = Mersenne61.multiply(prefix[i], values[i]) }
        var inverse = Mersenne61.inverse(prefix[values.count])
        var out = [UInt64](repeating: 0, count: values.count)
        for i in values.indices.reversed() {
            out[i] = Mersenne61.multiply(inverse, prefix[i])
            inverse = Mersenne61.multiply(inverse, values[i])
        }
        return out
    }
}
