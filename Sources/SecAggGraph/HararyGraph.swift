internal import SecAggCrypto

/// The random Harary graph H(n, k) of SecAgg+ (Bell et al., CCS 2020): the n clients are placed on a ring in
/// a pseudorandom order derived from a public seed, and each is linked to its k/2 nearest ring neighbours on
/// each side, so the graph is k-regular. Every party derives the same graph from the same seed (SPEC.md §10.2).
///
/// Only the permutation and its inverse are stored (O(n)); the edge list is never materialised.
/// For k ≥ n − 1 the graph is complete, the seed is not used and no permutation is stored.
public struct HararyGraph: CommunicationGraph, Hashable {
    /// The seed size in bytes.
    public static let seedByteCount = 32
    /// The largest supported client count (2^24: the permutation tables take 8 bytes per client).
    public static let maximumClientCount = 1 << 24
    /// Domain-separation label hashed into the permutation key (SPEC.md §10.2).
    public static let derivationLabel = "secagg/v1/harary-graph"

    /// The number of clients n.
    public let clientCount: Int
    /// The degree k (n − 1 when the requested degree was ≥ n − 1).
    public let degree: Int
    /// `clientAtPosition[p]` is the client placed at ring position p (0-based). Empty when complete.
    private let clientAtPosition: [UInt32]
    /// `positionOfClient[i − 1]` is the ring position of client i. Empty when complete.
    private let positionOfClient: [UInt32]

    /// The random Harary graph H(n, k): clients placed on a ring in a random order derived from `seed`
    /// (32 bytes; the engine passes a hash of the session configuration), each linked to its k/2 nearest
    /// ring neighbours on each side. Stores the permutation and its inverse (O(n)), not the edge list.
    ///
    /// - Throws: ``GraphError/invalidClientCount(count:minimum:maximum:)`` unless 1 ≤ n ≤ 2^24;
    ///   ``GraphError/invalidDegree(degree:clientCount:)`` unless k is even with 2 ≤ k ≤ n − 2, or k ≥ max(2, n − 1)
    ///   (complete); ``GraphError/invalidSeedByteCount(actual:expected:)`` unless the seed has 32 bytes.
    public init(clientCount: Int, degree: Int, seed: [UInt8]) throws(GraphError) {
        try Self.validate(clientCount: clientCount, degree: degree, seed: seed)
        self.clientCount = clientCount
        if degree >= clientCount - 1 {
            self.degree = clientCount - 1
            clientAtPosition = []
            positionOfClient = []
            return
        }
        self.degree = degree
        let order = try Self.ringOrder(clientCount: clientCount, degree: degree, seed: seed)
        var inverse = [UInt32](repeating: 0, count: clientCount)
        for (position, client) in order.enumerated() {
            inverse[Int(client) - 1] = UInt32(position)
        }
        clientAtPosition = order
        positionOfClient = inverse
    }

    /// The ring order of H(n, k) for `seed`: element p is the client at ring position p. Exposed so that
    /// tests and other implementations can compare the derivation (SPEC.md §10.2). Empty when k ≥ n − 1.
    public static func permutation(clientCount: Int, degree: Int, seed: [UInt8]) throws(GraphError) -> [UInt32] {
        try validate(clientCount: clientCount, degree: degree, seed: seed)
        guard degree < clientCount - 1 else { return [] }
        return try ringOrder(clientCount: clientCount, degree: degree, seed: seed)
    }

    /// The 32-byte ChaCha20 key of the permutation:
    /// SHA-256(label ‖ LE32(n) ‖ LE32(k) ‖ seed) (SPEC.md §10.2).
    public static func permutationKey(clientCount: Int, degree: Int, seed: [UInt8]) -> [UInt8] {
        var message = Array(derivationLabel.utf8)
        appendLittleEndian(UInt32(truncatingIfNeeded: clientCount), to: &message)
        appendLittleEndian(UInt32(truncatingIfNeeded: degree), to: &message)
        message += seed
        return Hkdf.sha256(message)
    }

    /// True when the graph is complete (k = n − 1).
    public var isComplete: Bool { clientAtPosition.isEmpty }

    /// The ring position (0-based) of `client`, or nil for an invalid client or a complete graph.
    public func position(of client: UInt32) -> Int? {
        guard isValidClient(client), !isComplete else { return nil }
        return Int(positionOfClient[Int(client) - 1])
    }

    /// The clients at ring distance 1...k/2 on either side of `client`, ascending.
    public func neighbours(of client: UInt32) -> [UInt32] {
        guard isValidClient(client) else { return [] }
        guard let position = position(of: client) else {
            return CompleteGraph(clientCount: clientCount).neighbours(of: client)
        }
        let n = clientCount
        var result: [UInt32] = []
        result.reserveCapacity(degree)
        // k ≤ n − 2, so the k positions p ± 1...k/2 are distinct and exclude p itself.
        for distance in 1...(degree / 2) {
            result.append(clientAtPosition[(position + distance) % n])
            result.append(clientAtPosition[(position - distance + n) % n])
        }
        result.sort()
        return result
    }

    /// True when `a` and `b` are distinct valid clients at ring distance ≤ k/2.
    public func areNeighbours(_ a: UInt32, _ b: UInt32) -> Bool {
        guard a != b, isValidClient(a), isValidClient(b) else { return false }
        guard let pa = position(of: a), let pb = position(of: b) else { return true }
        let difference = abs(pa - pb)
        return min(difference, clientCount - difference) <= degree / 2
    }

    private static func validate(clientCount: Int, degree: Int, seed: [UInt8]) throws(GraphError) {
        guard (1...maximumClientCount).contains(clientCount) else {
            throw .invalidClientCount(count: clientCount, minimum: 1, maximum: maximumClientCount)
        }
        guard degree >= 2, degree.isMultiple(of: 2) || degree >= clientCount - 1 else {
            throw .invalidDegree(degree: degree, clientCount: clientCount)
        }
        guard seed.count == seedByteCount else {
            throw .invalidSeedByteCount(actual: seed.count, expected: seedByteCount)
        }
    }

    /// Fisher–Yates over positions n−1 down to 1, driven by the ChaCha20 DRBG (SPEC.md §10.2).
    private static func ringOrder(clientCount n: Int, degree: Int, seed: [UInt8]) throws(GraphError) -> [UInt32] {
        let key = permutationKey(clientCount: n, degree: degree, seed: seed)
        let rng: DeterministicRandomGenerator
        do {
            rng = try DeterministicRandomGenerator(seed: key)
        } catch {
            // Only reachable if libsodium cannot initialise (the key is always a 32-byte digest).
            throw .cryptoFailure(underlying: error)
        }
        var generator = rng
        var order = (0..<n).map { UInt32($0 + 1) }
        var i = n - 1
        while i >= 1 {
            let j = Int(generator.next(below: UInt64(i + 1)))
            order.swapAt(i, j)
            i -= 1
        }
        return order
    }
}
