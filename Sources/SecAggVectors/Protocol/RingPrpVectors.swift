import Foundation
import SecAggCrypto
import SecAggGraph

/// `graph/ring_prp.json`: the swap-or-not ring permutation of the v3 Harary graph (SPEC.md §10.2, 16(k + 1) ≤ n):
/// its key, round count, first round keys, SipHash key, the whole order for small n and single points (client →
/// position, position → client, neighbour lists) for n up to 2^24; parameters outside its domain must be rejected.
public enum RingPrpVectors {
    /// The `algorithm` value.
    public static let algorithm = "secagg-ring-prp"
    /// The file path.
    public static let relativePath = "graph/ring_prp.json"
    /// Orders of at most this many clients are stored whole.
    static let fullOrderLimit = 1000
    /// How many round keys are stored.
    static let storedRoundKeyCount = 8

    struct Point: Codable, Sendable, Equatable {
        var client: UInt32
        /// 0-based ring position.
        var position: Int
    }

    struct Neighbourhood: Codable, Sendable, Equatable {
        var client: UInt32
        var position: Int
        var neighbours: [UInt32]
    }

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        var clientCount: Int
        var degree: Int
        var seed: String
        /// SHA-256("secagg/v3/ring-prp" || LE32(n) || LE32(k) || seed); empty for invalid cases.
        var key: String
        /// r = 16⌈log2 n⌉ + 300; 0 for invalid cases.
        var rounds: Int
        /// K_0 … K_7.
        var firstRoundKeys: [UInt32]
        /// SHA-256(LE32(K_0) || … || LE32(K_{r−1})).
        var roundKeysDigest: String
        var sipKey: String
        /// order[p] = E⁻¹(p) + 1, the client at position p, for n ≤ 1000; empty above.
        var order: [UInt32]
        /// SHA-256(LE32(order[0]) || … || LE32(order[n − 1])) for n ≤ 1000; empty above.
        var orderDigest: String
        /// Clients and their positions E(i − 1).
        var positions: [Point]
        /// Positions and the clients there, E⁻¹(p) + 1.
        var clientsAtPositions: [Point]
        /// A few clients' positions and ascending neighbour lists in H(n, k).
        var neighbourhoods: [Neighbourhood]
        var result: String
    }

    struct Group: Codable, Sendable {
        var tests: [Test]
    }

    static func digest(_ values: [UInt32]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 4)
        for value in values { appendLittleEndian(value, to: &bytes) }
        return Hkdf.sha256(bytes)
    }

    /// The points a case lists: fixed ones and a few drawn from `rng`.
    static func points(n: Int, rng: inout DeterministicRandomGenerator) -> (clients: [UInt32], positions: [Int]) {
        let clients = [1, 2, UInt32(n)] + (0..<5).map { _ in UInt32(rng.next(below: UInt64(n))) + 1 }
        let positions = [0, 1, n - 1] + (0..<5).map { _ in Int(rng.next(below: UInt64(n))) }
        return (clients, positions)
    }

    static func makeTest(id: Int, n: Int, k: Int, seed: [UInt8], clients: [UInt32], positions: [Int]) throws
        -> Test
    {
        let ring = try RingPermutation(clientCount: n, degree: k, seed: seed)
        let graph = try HararyGraph(clientCount: n, degree: k, seed: seed, evaluation: .pointwise)
        let order = n <= fullOrderLimit ? (0..<n).map { ring.client(atPosition: $0) } : []
        return Test(
            tcId: id, comment: "n = \(n), k = \(k)", clientCount: n, degree: k, seed: Hex.encode(seed),
            key: Hex.encode(ring.key), rounds: ring.roundKeys.count,
            firstRoundKeys: Array(ring.roundKeys.prefix(storedRoundKeyCount)),
            roundKeysDigest: Hex.encode(digest(ring.roundKeys)), sipKey: Hex.encode(ring.sipKey), order: order,
            orderDigest: order.isEmpty ? "" : Hex.encode(digest(order)),
            positions: clients.map { Point(client: $0, position: ring.position(ofClient: $0)) },
            clientsAtPositions: positions.map { Point(client: ring.client(atPosition: $0), position: $0) },
            neighbourhoods: clients.prefix(3).map {
                Neighbourhood(client: $0, position: graph.position(of: $0) ?? -1, neighbours: graph.neighbours(of: $0))
            },
            result: "valid")
    }

    struct Generator: VectorGenerator {
        var relativePath: String { RingPrpVectors.relativePath }

        func generate() throws -> Data {
            let label = "secagg/v3/vectors/ring-prp"
            var rng = ProtocolVectors.generator(label: label)
            var tests: [Test] = []
            for (n, k) in [(48, 2), (100, 4), (1000, 30), (100_000, 36), (1_000_000, 38), (1 << 24, 38)] {
                let seed = rng.bytes(count: HararyGraph.seedByteCount)
                let (clients, positions) = RingPrpVectors.points(n: n, rng: &rng)
                tests.append(
                    try RingPrpVectors.makeTest(
                        id: tests.count + 1, n: n, k: k, seed: seed, clients: clients, positions: positions))
            }
            let seed = rng.bytes(count: HararyGraph.seedByteCount)
            for (n, k, seedBytes, why) in [
                (47, 2, seed, "16(k + 1) > n: the Fisher–Yates order applies"),
                (623, 38, seed, "16(k + 1) > n: the Fisher–Yates order applies"), (1000, 3, seed, "odd degree"),
                (1000, 0, seed, "degree below 2"), (1000, 2, Array(seed.prefix(31)), "31-byte seed"),
                ((1 << 24) + 1, 2, seed, "more than 2^24 clients"),
            ] {
                tests.append(
                    Test(
                        tcId: tests.count + 1, comment: "rejected: \(why)", clientCount: n, degree: k,
                        seed: Hex.encode(seedBytes), key: "", rounds: 0, firstRoundKeys: [], roundKeysDigest: "",
                        sipKey: "", order: [], orderDigest: "", positions: [], clientsAtPositions: [],
                        neighbourhoods: [], result: "invalid"))
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: RingPrpVectors.algorithm,
                    generator: "secagg vectors generate (Sources/SecAggVectors/Protocol); seeds and points drawn from "
                        + "DeterministicRandomGenerator with seed SHA-256(\"\(label)\") (SPEC.md §2.6), values from "
                        + "SecAggGraph.RingPermutation and HararyGraph(evaluation: .pointwise)",
                    header: "Swap-or-not ring permutation of the v3 Harary graph (SPEC.md §10.2, 16(k + 1) ≤ n): "
                        + "key = SHA-256(\"secagg/v3/ring-prp\" || LE32(n) || LE32(k) || seed); from "
                        + "DRBG(key): r = 16·⌈log2 n⌉ + 300 round keys K_j = below(n), then the 16-byte sipKey; "
                        + "round j: x' = (K_j + n − x) mod n, swap iff SipHash-2-4(sipKey, LE32(j) || "
                        + "LE32(max(x, x'))) is odd. positions: client i → E(i − 1); clientsAtPositions: p → "
                        + "E⁻¹(p) + 1; order (n ≤ 1000) lists E⁻¹(p) + 1 for every p, orderDigest hashes it as "
                        + "LE32; roundKeysDigest hashes all K_j as LE32; neighbourhoods are those of H(n, k). "
                        + "Parameters outside the permutation's domain must be rejected.",
                    testGroups: [Group(tests: tests)], testCount: tests.count))
        }
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { RingPrpVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for test in file.testGroups.flatMap(\.tests) {
                let id = test.tcId
                try reader.result(test.result, caseId: id)
                let seed = try reader.bytes(test.seed, "seed", caseId: id)
                let ring = try? RingPermutation(clientCount: test.clientCount, degree: test.degree, seed: seed)
                guard test.result == "valid" else {
                    recorder.record(id, ring == nil, "invalid parameters were accepted")
                    continue
                }
                guard ring != nil else {
                    recorder.record(id, false, "valid parameters were rejected")
                    continue
                }
                let clients = test.positions.map(\.client)
                let positions = test.clientsAtPositions.map(\.position)
                guard clients.allSatisfy({ $0 >= 1 && Int($0) <= test.clientCount }),
                    positions.allSatisfy({ $0 >= 0 && $0 < test.clientCount }),
                    test.neighbourhoods.map(\.client) == Array(clients.prefix(3))
                else {
                    recorder.record(id, false, "points outside the ring or neighbourhoods not of the first clients")
                    continue
                }
                let expected = try RingPrpVectors.makeTest(
                    id: id, n: test.clientCount, k: test.degree, seed: seed, clients: clients, positions: positions)
                var problems: [String] = []
                if expected.key != test.key { problems.append("key differs") }
                if expected.rounds != test.rounds { problems.append("round count differs") }
                if expected.firstRoundKeys != test.firstRoundKeys { problems.append("round keys differ") }
                if expected.roundKeysDigest != test.roundKeysDigest { problems.append("round key digest differs") }
                if expected.sipKey != test.sipKey { problems.append("SipHash key differs") }
                if expected.order != test.order { problems.append("order differs") }
                if expected.orderDigest != test.orderDigest { problems.append("order digest differs") }
                if expected.positions != test.positions { problems.append("a client's position differs") }
                if expected.clientsAtPositions != test.clientsAtPositions {
                    problems.append("the client at a position differs")
                }
                if expected.neighbourhoods != test.neighbourhoods { problems.append("a neighbourhood differs") }
                recorder.record(id, problems.isEmpty, problems.joined(separator: "; "))
            }
            return recorder.results
        }
    }
}
