import Foundation
import SecAggCrypto
import SecAggGraph
import Testing

private func seed(_ label: String) -> [UInt8] {
    Hkdf.sha256(Array(label.utf8))
}

/// Checks k-regularity, symmetry, no self loops, sorted output and agreement with `areNeighbours`.
private func checkStructure(_ graph: some CommunicationGraph) {
    let n = graph.clientCount
    var edgeEnds = 0
    for i in 1...UInt32(n) {
        let list = graph.neighbours(of: i)
        #expect(list.count == graph.degree)
        #expect(list == list.sorted())
        #expect(Set(list).count == list.count)
        #expect(!list.contains(i))
        let set = Set(list)
        for j in 1...UInt32(n) {
            #expect(graph.areNeighbours(i, j) == set.contains(j))
            #expect(graph.areNeighbours(i, j) == graph.areNeighbours(j, i))
        }
        edgeEnds += list.count
    }
    #expect(edgeEnds == n * graph.degree)
}

@Test(arguments: [(10, 2), (10, 4), (10, 8), (11, 6), (37, 10), (64, 14), (5, 2), (4, 2)])
func hararyIsRegularAndSymmetric(n: Int, k: Int) throws {
    let graph = try HararyGraph(clientCount: n, degree: k, seed: seed("regular \(n) \(k)"))
    #expect(graph.degree == k)
    #expect(!graph.isComplete)
    checkStructure(graph)
}

@Test func hararyIsRingOfItsPermutation() throws {
    let s = seed("ring")
    let graph = try HararyGraph(clientCount: 50, degree: 6, seed: s)
    let order = try HararyGraph.permutation(clientCount: 50, degree: 6, seed: s)
    #expect(order.sorted() == (1...50).map { UInt32($0) })
    for p in 0..<50 {
        #expect(graph.position(of: order[p]) == p)
        let expected = [1, 2, 3].flatMap { [order[(p + $0) % 50], order[(p - $0 + 50) % 50]] }.sorted()
        #expect(graph.neighbours(of: order[p]) == expected)
    }
}

@Test func sameSeedSameGraphDifferentSeedDifferentGraph() throws {
    let a = try HararyGraph(clientCount: 200, degree: 10, seed: seed("session A"))
    let b = try HararyGraph(clientCount: 200, degree: 10, seed: seed("session A"))
    let c = try HararyGraph(clientCount: 200, degree: 10, seed: seed("session B"))
    #expect(a == b)
    for i in 1...UInt32(200) {
        #expect(a.neighbours(of: i) == b.neighbours(of: i))
    }
    let differing = (1...UInt32(200)).filter { a.neighbours(of: $0) != c.neighbours(of: $0) }
    #expect(differing.count > 150)
    // The degree is bound into the permutation key: the ring order differs between degrees.
    let order10 = try HararyGraph.permutation(clientCount: 200, degree: 10, seed: seed("session A"))
    let order12 = try HararyGraph.permutation(clientCount: 200, degree: 12, seed: seed("session A"))
    #expect(order10 != order12)
}

@Test func permutationFollowsSpecDerivation() throws {
    // Independent re-derivation of SPEC §10.2 from the primitives: key = SHA-256(label ‖ LE32 n ‖ LE32 k ‖ seed),
    // Fisher–Yates i = n−1…1 with j = DRBG.next(below: i + 1).
    let n = 97
    let k = 8
    let s = seed("spec")
    var message = Array("secagg/v1/harary-graph".utf8)
    message += [UInt8(n), 0, 0, 0, UInt8(k), 0, 0, 0]
    message += s
    var rng = try DeterministicRandomGenerator(seed: Hkdf.sha256(message))
    var order = (1...n).map { UInt32($0) }
    for i in stride(from: n - 1, through: 1, by: -1) {
        order.swapAt(i, Int(rng.next(below: UInt64(i + 1))))
    }
    #expect(try HararyGraph.permutation(clientCount: n, degree: k, seed: s) == order)
}

@Test func largeDegreeMeansComplete() throws {
    for (n, k) in [(9, 8), (10, 9), (10, 12), (2, 2), (1, 2), (3, 2)] {
        let graph = try HararyGraph(clientCount: n, degree: k, seed: seed("complete"))
        #expect(graph.isComplete)
        #expect(graph.degree == n - 1)
        if n >= 2 { checkStructure(graph) }
    }
    // n even, k = n − 2: not complete, each client misses exactly its antipode.
    let graph = try HararyGraph(clientCount: 10, degree: 8, seed: seed("antipode"))
    #expect(!graph.isComplete)
    checkStructure(graph)
}

@Test func completeGraph() {
    let graph = CompleteGraph(clientCount: 7)
    #expect(graph.degree == 6)
    checkStructure(graph)
    #expect(graph.neighbours(of: 0).isEmpty)
    #expect(graph.neighbours(of: 8).isEmpty)
    #expect(!graph.areNeighbours(3, 3))
    #expect(!graph.areNeighbours(0, 3))
    #expect(CompleteGraph(clientCount: -5).clientCount == 0)
}

@Test func invalidQueriesAndParameters() throws {
    let graph = try HararyGraph(clientCount: 20, degree: 4, seed: seed("q"))
    #expect(graph.neighbours(of: 0).isEmpty)
    #expect(graph.neighbours(of: 21).isEmpty)
    #expect(graph.neighbours(of: .max).isEmpty)
    #expect(!graph.areNeighbours(0, 1))
    #expect(!graph.areNeighbours(5, 5))
    #expect(throws: GraphError.invalidDegree(degree: 3, clientCount: 20)) {
        try HararyGraph(clientCount: 20, degree: 3, seed: seed("q"))
    }
    #expect(throws: GraphError.invalidDegree(degree: 0, clientCount: 20)) {
        try HararyGraph(clientCount: 20, degree: 0, seed: seed("q"))
    }
    #expect(throws: GraphError.invalidSeedByteCount(actual: 31, expected: 32)) {
        try HararyGraph(clientCount: 20, degree: 4, seed: [UInt8](repeating: 0, count: 31))
    }
    #expect(throws: GraphError.invalidClientCount(count: 0, minimum: 1, maximum: HararyGraph.maximumClientCount)) {
        try HararyGraph(clientCount: 0, degree: 4, seed: seed("q"))
    }
    #expect(throws: GraphError.self) {
        try HararyGraph(clientCount: HararyGraph.maximumClientCount + 1, degree: 4, seed: seed("q"))
    }
}

@Test func graphKindCodableAndSessionGraph() throws {
    let kinds: [GraphKind] = [.complete, .harary(degree: 12)]
    for kind in kinds {
        let data = try JSONEncoder().encode(kind)
        #expect(try JSONDecoder().decode(GraphKind.self, from: data) == kind)
    }
    let json = String(decoding: try JSONEncoder().encode(GraphKind.harary(degree: 12)), as: UTF8.self)
    #expect(json.contains("\"type\":\"harary\"") && json.contains("\"degree\":12"))
    #expect(throws: DecodingError.self) {
        try JSONDecoder().decode(GraphKind.self, from: Data(#"{"type":"ring"}"#.utf8))
    }
    let session = try GraphKind.harary(degree: 6).makeGraph(clientCount: 30, seed: seed("s"))
    let direct = try HararyGraph(clientCount: 30, degree: 6, seed: seed("s"))
    #expect(session.degree == 6)
    for i in 1...UInt32(30) { #expect(session.neighbours(of: i) == direct.neighbours(of: i)) }
    let complete = try GraphKind.complete.makeGraph(clientCount: 30, seed: [])
    #expect(complete.degree == 29)
    #expect(complete.areNeighbours(1, 30))
}
