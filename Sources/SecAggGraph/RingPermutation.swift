internal import CSodiumShims
internal import Dispatch
internal import SecAggCrypto

/// The keyed pseudorandom ring order of the v3 Harary graph (SPEC.md §10.2): the swap-or-not shuffle of Hoang,
/// Morris and Rogaway (CRYPTO 2012) over the positions [0, n), with round keys K_j drawn by `below(n)` from the
/// ChaCha20 DRBG and SipHash-2-4 as the round function. Client i sits at position E(i − 1); one evaluation costs
/// r = 16⌈log2 n⌉ + 300 rounds and no O(n) memory, so a client finds its k neighbours in O(k·r) time.
///
/// It applies only when 16(k + 1) ≤ n (``isPseudorandom(clientCount:degree:)``); denser rings keep the exact
/// Fisher–Yates order, whose O(n) cost is then O(16(k + 1)).
public struct RingPermutation: Sendable, Hashable {
    /// Domain-separation label hashed into the key (SPEC.md §10.2, 18 bytes).
    public static let derivationLabel = "secagg/v3/ring-prp"
    /// The pseudorandom permutation is used iff `densityFactor · (k + 1) ≤ n`.
    public static let densityFactor = 16
    /// The SipHash-2-4 key size in bytes.
    public static let sipKeyByteCount = 16

    /// The number of clients n.
    public let clientCount: Int
    /// The degree k.
    public let degree: Int
    /// SHA-256(label ‖ LE32(n) ‖ LE32(k) ‖ seed), the DRBG seed.
    public let key: [UInt8]
    /// K_0 … K_{r−1}, each in [0, n).
    public let roundKeys: [UInt32]
    /// The SipHash-2-4 key: the 16 DRBG bytes after the last round key.
    public let sipKey: [UInt8]

    /// r = 16·L + 300 with L = ⌈log2 n⌉ (the smallest L with 2^L ≥ n).
    public static func roundCount(clientCount: Int) -> Int {
        let l = clientCount <= 1 ? 0 : Int.bitWidth - (clientCount - 1).leadingZeroBitCount
        return 16 * l + 300
    }

    /// True when the ring of H(n, k) is the pseudorandom permutation: k even, 2 ≤ k and 16(k + 1) ≤ n
    /// (which implies k ≤ n − 2). False otherwise (Fisher–Yates, or not a sparse Harary graph at all).
    public static func isPseudorandom(clientCount: Int, degree: Int) -> Bool {
        degree >= 2 && degree.isMultiple(of: 2) && clientCount / densityFactor >= degree + 1
    }

    /// The 32-byte key SHA-256("secagg/v3/ring-prp" ‖ LE32(n) ‖ LE32(k) ‖ seed) (SPEC.md §10.2).
    public static func key(clientCount: Int, degree: Int, seed: [UInt8]) -> [UInt8] {
        var message = Array(derivationLabel.utf8)
        appendLittleEndian(UInt32(truncatingIfNeeded: clientCount), to: &message)
        appendLittleEndian(UInt32(truncatingIfNeeded: degree), to: &message)
        message += seed
        return Hkdf.sha256(message)
    }

    /// The permutation of H(n, k) for `seed` (32 bytes).
    ///
    /// - Throws: ``GraphError/invalidClientCount(count:minimum:maximum:)`` unless 1 ≤ n ≤ 2^24;
    ///   ``GraphError/invalidDegree(degree:clientCount:)`` unless k is even and ≥ 2;
    ///   ``GraphError/invalidParameter(name:value:allowed:)`` (name `degree`) unless 16(k + 1) ≤ n (a denser ring
    ///   is the Fisher–Yates order of ``HararyGraph``); ``GraphError/invalidSeedByteCount(actual:expected:)``
    ///   unless the seed has 32 bytes.
    public init(clientCount: Int, degree: Int, seed: [UInt8]) throws(GraphError) {
        guard (1...HararyGraph.maximumClientCount).contains(clientCount) else {
            throw .invalidClientCount(count: clientCount, minimum: 1, maximum: HararyGraph.maximumClientCount)
        }
        guard degree >= 2, degree.isMultiple(of: 2) else {
            throw .invalidDegree(degree: degree, clientCount: clientCount)
        }
        guard Self.isPseudorandom(clientCount: clientCount, degree: degree) else {
            throw .invalidParameter(
                name: "degree", value: Double(degree),
                allowed: "16·(k + 1) ≤ n = \(clientCount); denser rings use the Fisher–Yates order (SPEC.md §10.2)")
        }
        guard seed.count == HararyGraph.seedByteCount else {
            throw .invalidSeedByteCount(actual: seed.count, expected: HararyGraph.seedByteCount)
        }
        let key = Self.key(clientCount: clientCount, degree: degree, seed: seed)
        var generator: DeterministicRandomGenerator
        do {
            generator = try DeterministicRandomGenerator(seed: key)
        } catch {
            // Only reachable if libsodium cannot initialise (the key is always a 32-byte digest).
            throw .cryptoFailure(underlying: error)
        }
        let rounds = Self.roundCount(clientCount: clientCount)
        var roundKeys: [UInt32] = []
        roundKeys.reserveCapacity(rounds)
        for _ in 0..<rounds {
            roundKeys.append(UInt32(generator.next(below: UInt64(clientCount))))
        }
        self.clientCount = clientCount
        self.degree = degree
        self.key = key
        self.roundKeys = roundKeys
        sipKey = generator.bytes(count: Self.sipKeyByteCount)
    }

    /// E(x) for x in [0, n).
    public func forward(_ x: UInt32) -> UInt32 {
        evaluate(x, inverse: false)
    }

    /// E⁻¹(y) for y in [0, n).
    public func inverse(_ y: UInt32) -> UInt32 {
        evaluate(y, inverse: true)
    }

    /// The 0-based ring position of client i (1 ≤ i ≤ n): E(i − 1).
    public func position(ofClient client: UInt32) -> Int {
        precondition(client >= 1 && Int(client) <= clientCount, "client \(client) outside 1...\(clientCount)")
        return Int(forward(client - 1))
    }

    /// The client at ring position p (0 ≤ p < n): E⁻¹(p) + 1.
    public func client(atPosition position: Int) -> UInt32 {
        precondition(position >= 0 && position < clientCount, "position \(position) outside 0..<\(clientCount)")
        return inverse(UInt32(position)) + 1
    }

    /// E on every point: element i is E(i), the position of client i + 1. The range is split into chunks
    /// evaluated on up to `concurrency` threads (`DispatchQueue.concurrentPerform`); the result does not depend
    /// on `concurrency`.
    public func allPositions(concurrency: Int = 1) -> [UInt32] {
        let n = clientCount
        let chunk = 1 << 14
        let chunkCount = (n + chunk - 1) / chunk
        let threads = max(1, min(concurrency, chunkCount))
        return [UInt32](unsafeUninitializedCapacity: n) { buffer, initialized in
            let output = Output(base: buffer.baseAddress!)
            if threads == 1 {
                for c in 0..<chunkCount { evaluateChunk(c, chunk: chunk, into: output) }
            } else {
                // Thread t takes chunks t, t + threads, …: equal shares, disjoint output ranges.
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    var c = t
                    while c < chunkCount {
                        evaluateChunk(c, chunk: chunk, into: output)
                        c += threads
                    }
                }
            }
            initialized = n
        }
    }

    /// The output array of ``allPositions(concurrency:)``; each thread writes only its own chunks.
    private struct Output: @unchecked Sendable {
        let base: UnsafeMutablePointer<UInt32>
    }

    private func evaluateChunk(_ c: Int, chunk: Int, into output: Output) {
        let first = c * chunk
        forwardRange(first: first, count: min(chunk, clientCount - first), into: output.base + first)
    }

    private func evaluate(_ x: UInt32, inverse: Bool) -> UInt32 {
        precondition(Int(x) < clientCount, "point \(x) outside 0..<\(clientCount)")
        return roundKeys.withUnsafeBufferPointer { keys in
            sipKey.withUnsafeBufferPointer { sip in
                CSodiumShims_swap_or_not(
                    UInt32(clientCount), UInt32(keys.count), keys.baseAddress, sip.baseAddress, x, inverse ? 1 : 0)
            }
        }
    }

    private func forwardRange(first: Int, count: Int, into out: UnsafeMutablePointer<UInt32>) {
        roundKeys.withUnsafeBufferPointer { keys in
            sipKey.withUnsafeBufferPointer { sip in
                CSodiumShims_swap_or_not_forward_range(
                    UInt32(clientCount), UInt32(keys.count), keys.baseAddress, sip.baseAddress, UInt32(first), count,
                    out)
            }
        }
    }
}
