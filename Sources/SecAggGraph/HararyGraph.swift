internal import SecAggCrypto

#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Musl)
    internal import Musl
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// The random Harary graph H(n, k) of SecAgg+ (Bell et al., CCS 2020): the n clients are placed on a ring in
/// a pseudorandom order derived from a public seed, and each is linked to its k/2 nearest ring neighbours on
/// each side, so the graph is k-regular. Every party derives the same graph from the same seed (SPEC.md §10.2).
///
/// The ring order is the v3 rule: when 16(k + 1) ≤ n, the keyed swap-or-not permutation ``RingPermutation``;
/// otherwise the Fisher–Yates order of version 1. With ``Evaluation/table`` the permutation and its inverse are
/// stored (8 bytes per client); with ``Evaluation/pointwise`` and the keyed permutation no O(n) table is built and
/// every query evaluates the permutation at the points it needs. The edge list is never materialised. For
/// k ≥ n − 1 the graph is complete, the seed is not used and no permutation is stored.
///
/// Two graphs are equal when they have the same n, k and ring (compared by the ring's derived key), whatever
/// their evaluation mode.
public struct HararyGraph: CommunicationGraph, Hashable {
    /// How the ring order is evaluated. Both modes answer every query identically.
    public enum Evaluation: Sendable, Hashable {
        /// Store the permutation and its inverse (O(n) memory; built with the keyed permutation in O(n·r) time
        /// when it applies). For parties that query many clients, e.g. the server.
        case table
        /// Store no O(n) table when the keyed permutation applies: a position is one evaluation (O(r)), a
        /// neighbour list 1 + k evaluations. Dense rings (16(k + 1) > n) fall back to the table, which is
        /// O(k) there. For a client that needs only its own neighbours.
        case pointwise
    }

    private enum Ring: Sendable {
        case complete
        /// `clientAtPosition[p]` is the client at ring position p (0-based); `positionOfClient[i − 1]` the
        /// ring position of client i.
        case table(clientAtPosition: [UInt32], positionOfClient: [UInt32])
        case pointwise(RingPermutation)
    }

    /// The seed size in bytes.
    public static let seedByteCount = 32
    /// The largest supported client count (2^24: the permutation tables take 8 bytes per client).
    public static let maximumClientCount = 1 << 24
    /// Domain-separation label hashed into the Fisher–Yates permutation key (SPEC.md §10.2, 16(k + 1) > n).
    /// The keyed permutation uses ``RingPermutation/derivationLabel``.
    public static let derivationLabel = "secagg/v1/harary-graph"

    /// The number of clients n.
    public let clientCount: Int
    /// The degree k (n − 1 when the requested degree was ≥ n − 1).
    public let degree: Int
    /// How the ring is evaluated (as requested; a dense ring is stored as a table either way).
    public let evaluation: Evaluation
    /// The key the ring is derived from (the keyed permutation's or the Fisher–Yates one); empty when complete.
    private let ringKey: [UInt8]
    private let ring: Ring

    /// The random Harary graph H(n, k): clients placed on a ring in a random order derived from `seed`
    /// (32 bytes; the engine passes a hash of the session configuration), each linked to its k/2 nearest
    /// ring neighbours on each side. `evaluation` chooses between the stored table (default) and pointwise
    /// evaluation of the keyed permutation; the graph is the same.
    ///
    /// - Throws: ``GraphError/invalidClientCount(count:minimum:maximum:)`` unless 1 ≤ n ≤ 2^24;
    ///   ``GraphError/invalidDegree(degree:clientCount:)`` unless k is even with 2 ≤ k ≤ n − 2, or k ≥ max(2, n − 1)
    ///   (complete); ``GraphError/invalidSeedByteCount(actual:expected:)`` unless the seed has 32 bytes.
    public init(clientCount: Int, degree: Int, seed: [UInt8], evaluation: Evaluation = .table) throws(GraphError) {
        try Self.validate(clientCount: clientCount, degree: degree, seed: seed)
        self.clientCount = clientCount
        self.evaluation = evaluation
        if degree >= clientCount - 1 {
            self.degree = clientCount - 1
            ringKey = []
            ring = .complete
            return
        }
        self.degree = degree
        let order: [UInt32]
        if RingPermutation.isPseudorandom(clientCount: clientCount, degree: degree) {
            let permutation = try RingPermutation(clientCount: clientCount, degree: degree, seed: seed)
            ringKey = permutation.key
            if evaluation == .pointwise {
                ring = .pointwise(permutation)
                return
            }
            let positions = permutation.allPositions(concurrency: Self.tableConcurrency(clientCount: clientCount))
            ring = .table(clientAtPosition: Self.order(fromPositions: positions), positionOfClient: positions)
            return
        }
        ringKey = Self.permutationKey(clientCount: clientCount, degree: degree, seed: seed)
        order = try Self.fisherYates(clientCount: clientCount, key: ringKey)
        ring = .table(clientAtPosition: order, positionOfClient: Self.positions(fromOrder: order))
    }

    /// The ring order of H(n, k) for `seed` under the v3 rule: element p is the client at ring position p.
    /// Exposed so that tests and other implementations can compare the derivation (SPEC.md §10.2). Empty when
    /// k ≥ n − 1.
    public static func permutation(clientCount: Int, degree: Int, seed: [UInt8]) throws(GraphError) -> [UInt32] {
        try validate(clientCount: clientCount, degree: degree, seed: seed)
        guard degree < clientCount - 1 else { return [] }
        if RingPermutation.isPseudorandom(clientCount: clientCount, degree: degree) {
            let permutation = try RingPermutation(clientCount: clientCount, degree: degree, seed: seed)
            return order(fromPositions: permutation.allPositions(concurrency: tableConcurrency(clientCount: clientCount)))
        }
        return try fisherYates(
            clientCount: clientCount, key: permutationKey(clientCount: clientCount, degree: degree, seed: seed))
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
    public var isComplete: Bool {
        if case .complete = ring { true } else { false }
    }

    /// The ring position (0-based) of `client`, or nil for an invalid client or a complete graph.
    public func position(of client: UInt32) -> Int? {
        guard isValidClient(client) else { return nil }
        switch ring {
        case .complete: return nil
        case let .table(_, positionOfClient): return Int(positionOfClient[Int(client) - 1])
        case let .pointwise(permutation): return permutation.position(ofClient: client)
        }
    }

    /// The client at ring position `position` (0 ≤ position < n), or nil for a position outside the ring or a
    /// complete graph.
    public func client(atPosition position: Int) -> UInt32? {
        guard position >= 0, position < clientCount else { return nil }
        switch ring {
        case .complete: return nil
        case let .table(clientAtPosition, _): return clientAtPosition[position]
        case let .pointwise(permutation): return permutation.client(atPosition: position)
        }
    }

    /// The window of `client` (SPEC.md §11.2): its ring position p and the clients at positions p − k/2 … p + k/2
    /// (mod n), in that order (k + 1 clients, `client` itself in the middle); nil for an invalid client or a complete
    /// graph. One forward and k inverse evaluations in pointwise mode.
    public func window(of client: UInt32) -> (position: Int, clients: [UInt32])? {
        guard let position = position(of: client) else { return nil }
        let n = clientCount
        let half = degree / 2
        var clients: [UInt32] = []
        clients.reserveCapacity(degree + 1)
        for distance in -half...half {
            if distance == 0 {
                clients.append(client)
            } else if let v = self.client(atPosition: ((position + distance) % n + n) % n) {
                clients.append(v)
            }
        }
        return (position, clients)
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
        switch ring {
        case .complete:
            break
        case let .table(clientAtPosition, _):
            for distance in 1...(degree / 2) {
                result.append(clientAtPosition[(position + distance) % n])
                result.append(clientAtPosition[(position - distance + n) % n])
            }
        case let .pointwise(permutation):
            for distance in 1...(degree / 2) {
                result.append(permutation.client(atPosition: (position + distance) % n))
                result.append(permutation.client(atPosition: (position - distance + n) % n))
            }
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

    /// Equal n, k and ring key (the evaluation mode does not matter).
    public static func == (lhs: HararyGraph, rhs: HararyGraph) -> Bool {
        lhs.clientCount == rhs.clientCount && lhs.degree == rhs.degree && lhs.ringKey == rhs.ringKey
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(clientCount)
        hasher.combine(degree)
        hasher.combine(ringKey)
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

    /// Fisher–Yates over positions n−1 down to 1, driven by the ChaCha20 DRBG of `key` (SPEC.md §10.2, dense rings).
    private static func fisherYates(clientCount n: Int, key: [UInt8]) throws(GraphError) -> [UInt32] {
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

    /// order[p] = the client at position p, from positions[i − 1] = the position of client i.
    private static func order(fromPositions positions: [UInt32]) -> [UInt32] {
        var order = [UInt32](repeating: 0, count: positions.count)
        for (index, position) in positions.enumerated() { order[Int(position)] = UInt32(index + 1) }
        return order
    }

    /// positions[i − 1] = the position of client i, from order[p] = the client at position p.
    private static func positions(fromOrder order: [UInt32]) -> [UInt32] {
        var positions = [UInt32](repeating: 0, count: order.count)
        for (position, client) in order.enumerated() { positions[Int(client) - 1] = UInt32(position) }
        return positions
    }

    /// Threads for building a table: all processors, but at most one per 2^16 clients.
    private static func tableConcurrency(clientCount: Int) -> Int {
        max(1, min(processorCount, clientCount >> 16))
    }

    private static var processorCount: Int {
        #if canImport(Glibc) || canImport(Darwin) || canImport(Musl)
            return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
            return 1
        #endif
    }
}
