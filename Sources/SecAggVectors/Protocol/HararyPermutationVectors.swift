import Foundation
import SecAggCrypto
import SecAggGraph

/// `graph/harary_permutation.json`: the ring order of random Harary graphs (SPEC.md §10.2, the v3 rule: the
/// swap-or-not permutation when 16(k + 1) ≤ n, Fisher–Yates otherwise) for several (n, k, seed), with the
/// neighbour lists of a few clients; invalid parameters must be rejected.
public enum HararyPermutationVectors {
    /// The `algorithm` value.
    public static let algorithm = "secagg-harary-permutation"
    /// The file path.
    public static let relativePath = "graph/harary_permutation.json"
    /// Orders of at most this many clients are stored whole; longer ones as a prefix and a digest.
    static let fullOrderLimit = 100

    struct Neighbourhood: Codable, Sendable, Equatable {
        var client: UInt32
        /// 0-based ring position.
        var position: Int
        var neighbours: [UInt32]
    }

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        var clientCount: Int
        var degree: Int
        var seed: String
        /// `fisher-yates` (16(k + 1) > n) or `swap-or-not` (16(k + 1) ≤ n); empty for invalid cases.
        var rule: String
        /// The key of that rule: SHA-256("secagg/v1/harary-graph" || LE32(n) || LE32(k) || seed), resp.
        /// SHA-256("secagg/v3/ring-prp" || LE32(n) || LE32(k) || seed); empty for invalid cases.
        var permutationKey: String
        /// order[p] = the client at ring position p: all of it for n ≤ 100, else the first 16.
        var order: [UInt32]
        /// SHA-256 of LE32(order[0]) || … || LE32(order[n − 1]); empty for invalid cases.
        var orderDigest: String
        var neighbourhoods: [Neighbourhood]
        var result: String
    }

    struct Group: Codable, Sendable {
        var tests: [Test]
    }

    static func digest(_ order: [UInt32]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(order.count * 4)
        for value in order { appendLittleEndian(value, to: &bytes) }
        return Hkdf.sha256(bytes)
    }

    static func rule(clientCount: Int, degree: Int) -> String {
        RingPermutation.isPseudorandom(clientCount: clientCount, degree: degree) ? "swap-or-not" : "fisher-yates"
    }

    static func ruleKey(clientCount: Int, degree: Int, seed: [UInt8]) -> [UInt8] {
        RingPermutation.isPseudorandom(clientCount: clientCount, degree: degree)
            ? RingPermutation.key(clientCount: clientCount, degree: degree, seed: seed)
            : HararyGraph.permutationKey(clientCount: clientCount, degree: degree, seed: seed)
    }

    static func storedOrder(_ order: [UInt32]) -> [UInt32] {
        order.count <= fullOrderLimit ? order : Array(order.prefix(16))
    }

    struct Generator: VectorGenerator {
        var relativePath: String { HararyPermutationVectors.relativePath }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/harary-permutation"
            var rng = ProtocolVectors.generator(label: label)
            var tests: [Test] = []
            for (n, k) in [(8, 4), (8, 2), (10, 6), (13, 4), (50, 10), (100, 8), (1000, 20), (65_536, 32), (47, 2), (48, 2), (623, 38),
                (624, 38),
            ] {
                let seed = rng.bytes(count: HararyGraph.seedByteCount)
                let order = try HararyGraph.permutation(clientCount: n, degree: k, seed: seed)
                let graph = try HararyGraph(clientCount: n, degree: k, seed: seed)
                let clients: [UInt32] = [1, 2, UInt32(n / 2), UInt32(n)]
                tests.append(
                    Test(
                        tcId: tests.count + 1, comment: "H(\(n), \(k))", clientCount: n, degree: k,
                        seed: Hex.encode(seed), rule: HararyPermutationVectors.rule(clientCount: n, degree: k),
                        permutationKey: Hex.encode(
                            HararyPermutationVectors.ruleKey(clientCount: n, degree: k, seed: seed)),
                        order: HararyPermutationVectors.storedOrder(order),
                        orderDigest: Hex.encode(HararyPermutationVectors.digest(order)),
                        neighbourhoods: clients.map {
                            Neighbourhood(
                                client: $0, position: graph.position(of: $0) ?? -1, neighbours: graph.neighbours(of: $0)
                            )
                        }, result: "valid"))
            }
            let seed = rng.bytes(count: HararyGraph.seedByteCount)
            for (n, k, seedBytes, why) in [
                (8, 3, seed, "odd degree"), (8, 0, seed, "degree below 2"),
                (8, 4, Array(seed.prefix(31)), "31-byte seed"), (0, 2, seed, "no clients"),
            ] {
                tests.append(
                    Test(
                        tcId: tests.count + 1, comment: "rejected: \(why)", clientCount: n, degree: k,
                        seed: Hex.encode(seedBytes), rule: "", permutationKey: "", order: [], orderDigest: "", neighbourhoods: [],
                        result: "invalid"))
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: HararyPermutationVectors.algorithm,
                    generator: "secagg vectors generate (Sources/SecAggVectors/Protocol); seeds drawn from "
                        + "DeterministicRandomGenerator with seed SHA-256(\"\(label)\") (SPEC.md §2.6), orders from "
                        + "SecAggGraph.HararyGraph.permutation",
                    header: "Random Harary graph ring order (SPEC.md §10.2), the v3 rule: if 16(k + 1) ≤ n (rule "
                        + "swap-or-not) the swap-or-not permutation keyed by SHA-256(\"secagg/v3/ring-prp\" || "
                        + "LE32(n) || LE32(k) || seed) (see graph/ring_prp.json), else (rule fisher-yates) key = "
                        + "SHA-256(\"secagg/v1/harary-graph\" || LE32(n) || LE32(k) || seed) and Fisher–Yates over "
                        + "[1…n] with below() on the ChaCha20 keystream of that key; permutationKey is the key of the "
                        + "rule. order[p] is the client at ring position p (whole for n ≤ 100, "
                        + "else the first 16 entries; orderDigest covers all n as LE32); neighbourhoods list a few "
                        + "clients' positions and ascending neighbour lists. Invalid parameters must be rejected.",
                    testGroups: [Group(tests: tests)], testCount: tests.count))
        }
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { HararyPermutationVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for test in file.testGroups.flatMap(\.tests) {
                let id = test.tcId
                try reader.result(test.result, caseId: id)
                let seed = try reader.bytes(test.seed, "seed", caseId: id)
                let order = try? HararyGraph.permutation(clientCount: test.clientCount, degree: test.degree, seed: seed)
                guard test.result == "valid" else {
                    recorder.record(id, order == nil, "invalid parameters were accepted")
                    continue
                }
                guard let order,
                    let graph = try? HararyGraph(
                        clientCount: test.clientCount, degree: test.degree, seed: seed)
                else {
                    recorder.record(id, false, "valid parameters were rejected")
                    continue
                }
                var problems: [String] = []
                let key = HararyPermutationVectors.ruleKey(
                    clientCount: test.clientCount, degree: test.degree, seed: seed)
                if HararyPermutationVectors.rule(clientCount: test.clientCount, degree: test.degree) != test.rule {
                    problems.append("rule differs")
                }
                if Hex.encode(key) != test.permutationKey { problems.append("permutation key differs") }
                if HararyPermutationVectors.storedOrder(order) != test.order { problems.append("order differs") }
                if Hex.encode(HararyPermutationVectors.digest(order)) != test.orderDigest {
                    problems.append("order digest differs")
                }
                let pointwise = try? HararyGraph(
                    clientCount: test.clientCount, degree: test.degree, seed: seed, evaluation: .pointwise)
                for entry in test.neighbourhoods {
                    for (mode, graph) in [("table", graph), ("pointwise", pointwise)] {
                        let actual = graph.map {
                            Neighbourhood(
                                client: entry.client, position: $0.position(of: entry.client) ?? -1,
                                neighbours: $0.neighbours(of: entry.client))
                        }
                        if actual != entry { problems.append("client \(entry.client): neighbourhood differs (\(mode))") }
                    }
                }
                recorder.record(id, problems.isEmpty, problems.joined(separator: "; "))
            }
            return recorder.results
        }
    }
}
