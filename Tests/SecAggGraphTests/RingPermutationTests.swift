import CSodium
import CSodiumShims
import Foundation
import SecAggCrypto
import SecAggGraph
import Testing

private func seed(_ label: String) -> [UInt8] {
    Hkdf.sha256(Array(label.utf8))
}

private func le32(_ value: Int) -> [UInt8] {
    (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}

/// SipHash-2-4 through libsodium's `crypto_shorthash_siphash24`, as a little-endian u64.
private func libsodiumSipHash(key: [UInt8], message: [UInt8]) -> UInt64 {
    var out = [UInt8](repeating: 0, count: 8)
    _ = crypto_shorthash_siphash24(&out, message, UInt64(message.count), key)
    return out.reversed().reduce(0) { $0 << 8 | UInt64($1) }
}

/// SPEC.md §10.2 (v3, pseudorandom case) written out from the primitives, without the C round loop.
private struct SpecRing {
    let n: Int
    let key: [UInt8]
    let roundKeys: [Int]
    let sipKey: [UInt8]

    init(n: Int, k: Int, seed: [UInt8]) throws {
        self.n = n
        key = Hkdf.sha256(Array("secagg/v3/ring-prp".utf8) + le32(n) + le32(k) + seed)
        var rng = try DeterministicRandomGenerator(seed: key)
        var l = 0
        while 1 << l < n { l += 1 }
        roundKeys = (0..<(16 * l + 300)).map { _ in Int(rng.next(below: UInt64(n))) }
        sipKey = rng.bytes(count: 16)
    }

    func round(_ j: Int, _ x: Int) -> Int {
        let partner = (roundKeys[j] + n - x) % n
        let bit = libsodiumSipHash(key: sipKey, message: le32(j) + le32(max(x, partner))) & 1
        return bit == 1 ? partner : x
    }

    func forward(_ x: Int) -> Int { roundKeys.indices.reduce(x) { round($1, $0) } }
    func inverse(_ y: Int) -> Int { roundKeys.indices.reversed().reduce(y) { round($1, $0) } }
}

@Test func sipHashMatchesLibsodiumAndTheReferenceVector() {
    // SipHash-2-4 reference: key 00…0f, message 00…0e (15 bytes) → a129ca6149be45e5 as LE u64.
    let key = (0..<16).map { UInt8($0) }
    #expect(libsodiumSipHash(key: key, message: (0..<15).map { UInt8($0) }) == 0xa129_ca61_49be_45e5)
    #expect(CSodiumShims_siphash24_self_test() == 1)
    var rng = DeterministicRandomGenerator(testLabel: "siphash")
    for _ in 0..<500 {
        let key = rng.bytes(count: 16)
        let message = rng.next(UInt64.self)
        let bytes = (0..<8).map { UInt8(truncatingIfNeeded: message >> (8 * $0)) }
        #expect(CSodiumShims_siphash24_8(key, message) == libsodiumSipHash(key: key, message: bytes))
    }
}

@Test func parametersOfThePermutation() throws {
    #expect(RingPermutation.derivationLabel.utf8.count == 18)
    for (n, r) in [(1, 300), (2, 316), (48, 396), (64, 396), (65, 412), (1000, 460), (1 << 20, 620)] {
        #expect(RingPermutation.roundCount(clientCount: n) == r)
    }
    #expect(RingPermutation.roundCount(clientCount: (1 << 24) - 1) == 684)
    #expect(RingPermutation.roundCount(clientCount: 1 << 24) == 684)
    #expect(RingPermutation.isPseudorandom(clientCount: 48, degree: 2))
    #expect(!RingPermutation.isPseudorandom(clientCount: 47, degree: 2))
    #expect(RingPermutation.isPseudorandom(clientCount: 1_000_000, degree: 38))
    #expect(!RingPermutation.isPseudorandom(clientCount: 623, degree: 38))
    #expect(RingPermutation.isPseudorandom(clientCount: 624, degree: 38))
    #expect(!RingPermutation.isPseudorandom(clientCount: 1000, degree: 3))
    #expect(!RingPermutation.isPseudorandom(clientCount: 1000, degree: 0))
    let s = seed("parameters")
    #expect(throws: GraphError.self) { try RingPermutation(clientCount: 47, degree: 2, seed: s) }
    #expect(throws: GraphError.invalidDegree(degree: 3, clientCount: 1000)) {
        try RingPermutation(clientCount: 1000, degree: 3, seed: s)
    }
    #expect(throws: GraphError.invalidSeedByteCount(actual: 31, expected: 32)) {
        try RingPermutation(clientCount: 1000, degree: 2, seed: Array(s.prefix(31)))
    }
    #expect(throws: GraphError.self) {
        try RingPermutation(clientCount: (1 << 24) + 1, degree: 2, seed: s)
    }
    let ring = try RingPermutation(clientCount: 1000, degree: 30, seed: s)
    #expect(ring.roundKeys.count == 460 && ring.roundKeys.allSatisfy { $0 < 1000 })
    #expect(ring.sipKey.count == 16 && ring.key.count == 32)
}

@Test func forwardAndInverseAreInverseBijections() throws {
    for n in [48, 49, 50, 63, 64, 65, 100, 127, 128, 129, 500, 1000, 1023, 1024, 1025, 2000] {
        for label in ["a", "b", "c"] {
            let ring = try RingPermutation(clientCount: n, degree: 2, seed: seed("bijection \(label)"))
            let positions = ring.allPositions()
            #expect(positions.sorted() == (0..<n).map { UInt32($0) }, "n = \(n)")
            #expect(ring.allPositions(concurrency: 3) == positions)
            for x in 0..<n {
                #expect(ring.forward(UInt32(x)) == positions[x])
                #expect(ring.inverse(positions[x]) == UInt32(x))
                #expect(ring.position(ofClient: UInt32(x + 1)) == Int(positions[x]))
                #expect(ring.client(atPosition: Int(positions[x])) == UInt32(x + 1))
            }
        }
    }
    // Spot checks at the largest n.
    let n = HararyGraph.maximumClientCount
    let ring = try RingPermutation(clientCount: n, degree: 38, seed: seed("bijection 2^24"))
    var rng = DeterministicRandomGenerator(testLabel: "spot 2^24")
    for x in [0, 1, UInt32(n - 2), UInt32(n - 1)] + (0..<200).map({ _ in UInt32(rng.next(below: UInt64(n))) }) {
        let y = ring.forward(x)
        #expect(Int(y) < n)
        #expect(ring.inverse(y) == x)
        #expect(ring.forward(ring.inverse(x)) == x)
    }
}

@Test func cPathMatchesIndependentDerivation() throws {
    for (n, k) in [(48, 2), (100, 4), (1000, 30), (4099, 36)] {
        let s = seed("independent \(n)")
        let spec = try SpecRing(n: n, k: k, seed: s)
        let ring = try RingPermutation(clientCount: n, degree: k, seed: s)
        #expect(ring.key == spec.key)
        #expect(ring.roundKeys.map(Int.init) == spec.roundKeys)
        #expect(ring.sipKey == spec.sipKey)
        let order = try HararyGraph.permutation(clientCount: n, degree: k, seed: s)
        let sample = n <= 1000 ? Array(0..<n) : Array(stride(from: 0, to: n, by: 37)) + [n - 1]
        for p in sample {
            #expect(Int(order[p]) == spec.inverse(p) + 1, "n = \(n), position \(p)")
            #expect(spec.forward(Int(order[p]) - 1) == p)
        }
    }
    // Dense configurations keep the Fisher–Yates order of version 1.
    let s = seed("dense")
    var rng = try DeterministicRandomGenerator(
        seed: Hkdf.sha256(Array("secagg/v1/harary-graph".utf8) + le32(200) + le32(12) + s))
    var order = (1...200).map { UInt32($0) }
    for i in stride(from: 199, through: 1, by: -1) { order.swapAt(i, Int(rng.next(below: UInt64(i + 1)))) }
    #expect(try HararyGraph.permutation(clientCount: 200, degree: 12, seed: s) == order)
}

private func checkModesAgree(n: Int, k: Int, seed s: [UInt8], clients: [UInt32], pairs: [(UInt32, UInt32)]) throws {
    let table = try HararyGraph(clientCount: n, degree: k, seed: s, evaluation: .table)
    let pointwise = try HararyGraph(clientCount: n, degree: k, seed: s, evaluation: .pointwise)
    #expect(table == pointwise)
    #expect(table.degree == pointwise.degree)
    for client in clients {
        #expect(table.position(of: client) == pointwise.position(of: client), "n \(n) k \(k) client \(client)")
        let neighbours = pointwise.neighbours(of: client)
        #expect(table.neighbours(of: client) == neighbours, "n \(n) k \(k) client \(client)")
        for other in neighbours.prefix(4) { #expect(pointwise.areNeighbours(client, other)) }
    }
    for (a, b) in pairs {
        #expect(table.areNeighbours(a, b) == pointwise.areNeighbours(a, b), "n \(n) k \(k) pair \(a) \(b)")
    }
}

@Test func pointwiseEqualsTable() throws {
    var rng = DeterministicRandomGenerator(testLabel: "modes")
    for n in [48, 60, 100, 333, 1000, 5000] {
        for k in [2, 4, 10, 38, n / 16 - 1 - (n / 16 - 1) % 2, n - 2 - n % 2] where k >= 2 && k <= n - 2 {
            for label in ["x", "y"] {
                let all = (1...UInt32(n)).map { $0 }
                let clients = n <= 100 ? all : (0..<40).map { _ in UInt32(rng.next(below: UInt64(n))) + 1 }
                let pairs = (0..<300).map { _ in
                    (UInt32(rng.next(below: UInt64(n + 2))), UInt32(rng.next(below: UInt64(n + 2))))
                }
                try checkModesAgree(n: n, k: k, seed: seed("modes \(n) \(k) \(label)"), clients: clients + [0], pairs: pairs)
            }
        }
    }
}

@Test func pointwiseEqualsTableAtTwoToTheSeventeen() throws {
    let n = 1 << 17  // L = 17, past the 10^5 clients of the benchmark; 2^20 took a minute in debug builds
    var rng = DeterministicRandomGenerator(testLabel: "modes 2^17")
    let clients = [1, 2, UInt32(n)] + (0..<20).map { _ in UInt32(rng.next(below: UInt64(n))) + 1 }
    let table = try HararyGraph(clientCount: n, degree: 38, seed: seed("2^17"), evaluation: .table)
    let pointwise = try HararyGraph(clientCount: n, degree: 38, seed: seed("2^17"), evaluation: .pointwise)
    var pairs: [(UInt32, UInt32)] = []
    for client in clients {
        #expect(table.position(of: client) == pointwise.position(of: client))
        let neighbours = pointwise.neighbours(of: client)
        #expect(neighbours.count == 38)
        #expect(table.neighbours(of: client) == neighbours)
        pairs.append((client, neighbours[0]))
        pairs.append((client, UInt32(rng.next(below: UInt64(n))) + 1))
    }
    for (a, b) in pairs { #expect(table.areNeighbours(a, b) == pointwise.areNeighbours(a, b)) }
}

/// χ² statistic of observed counts against equal expected counts.
private func chiSquare(_ counts: [Int]) -> Double {
    let expected = Double(counts.reduce(0, +)) / Double(counts.count)
    return counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
}

@Test func positionsLookUniform() throws {
    // n = 80 (not a power of two), 8,000 seeds: the position of client 1 over 80 bins, and the ring offset of
    // client 2 from client 1 over the 79 possible offsets. χ² with 79 (78) degrees of freedom has mean 79 and
    // standard deviation ≈ 12.6; 160 is beyond 6 standard deviations (p < 10^−7 for a uniform ring).
    let n = 80
    var position = [Int](repeating: 0, count: n)
    var offset = [Int](repeating: 0, count: n - 1)
    for trial in 0..<8000 {
        let ring = try RingPermutation(clientCount: n, degree: 2, seed: seed("uniform \(trial)"))
        let p1 = ring.position(ofClient: 1)
        let p2 = ring.position(ofClient: 2)
        position[p1] += 1
        offset[(p2 - p1 + n) % n - 1] += 1
    }
    #expect(chiSquare(position) < 160, "position χ² = \(chiSquare(position))")
    #expect(chiSquare(offset) < 160, "offset χ² = \(chiSquare(offset))")
}

@Test func neighbourOverlapIsHypergeometric() throws {
    // |N(i) ∩ S| for the fixed set S = {1…50} and client 200 ∉ S in H(200, 10): Hyp(199, 50, 10), mean
    // 10·50/199 ≈ 2.513, variance ≈ 1.796; over 2,000 seeds the sample mean has standard deviation ≈ 0.030.
    let n = 200
    let k = 10
    let s = 50
    let trials = 2000
    var sum = 0
    var sumOfSquares = 0
    for trial in 0..<trials {
        let graph = try HararyGraph(
            clientCount: n, degree: k, seed: seed("overlap \(trial)"), evaluation: .pointwise)
        let count = graph.neighbours(of: UInt32(n)).filter { $0 <= UInt32(s) }.count
        sum += count
        sumOfSquares += count * count
    }
    let mean = Double(sum) / Double(trials)
    let variance = Double(sumOfSquares) / Double(trials) - mean * mean
    let big = Double(n - 1)
    let expectedMean = Double(k * s) / big
    let expectedVariance = Double(k) * (Double(s) / big) * (1 - Double(s) / big) * (big - Double(k)) / (big - 1)
    #expect(abs(mean - expectedMean) < 0.15, "mean \(mean), expected \(expectedMean)")
    #expect(abs(variance - expectedVariance) < 0.3, "variance \(variance), expected \(expectedVariance)")
}

@Test func roundCountMakesTheUnionBoundNegligible() {
    // log2 of n² · 4n^{3/2}/(r + 4) · ((q + n)/(2n))^{r/4 + 1} with q = k + 1 = n/16 (the densest admissible k,
    // base 17/32) at n = 2^L, the largest n with a given r = 16L + 300 (the bound grows with n at fixed r).
    for l in 1...24 {
        let n = pow(2.0, Double(l))
        let r = Double(RingPermutation.roundCount(clientCount: 1 << l))
        let base = (n / 16 + n) / (2 * n)
        let log2Bound = 2 * log2(n) + log2(4) + 1.5 * log2(n) - log2(r + 4) + (r / 4 + 1) * log2(base)
        #expect(log2Bound <= -64, "L = \(l): log2 bound \(log2Bound)")
    }
}
