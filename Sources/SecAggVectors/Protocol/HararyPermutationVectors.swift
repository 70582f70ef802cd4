import Foundation
import SecAggCrypto
import SecAggGraph

/// `graph/harary_permutation.json`: the ring order of random Harary graphs (SPEC.md §10.2) for several
/// (n, k, seed), with the neighbour lists of a few clients; invalid parameters must be rejected.
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
        /// SHA-256("secagg/v1/harary-graph" || LE32(n) || LE32(k) || seed); empty for invalid cases.
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

    static func storedOrder(_ order: [UInt32]) -> [UInt32] {
        order.count <= fullOrderLimit ? order : Array(order.prefix(16))
    }

    struct Generator: VectorGenerator {
        var relativePath: String { HararyPermutationVectors.relativePath }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/harary-permutation"
            var rng = ProtocolVectors.generator(label: label)
            var tests: [Test] = []
            for (n, k) in [(8, 4), (8, 2), (10, 6), (13, 4), (50, 10), (100, 8), (1000, 20), (65_536, 32)] {
                let seed = rng.bytes(count: HararyGraph.seedByteCount)
                let order = try HararyGraph.permutation(clientCount: n, degree: k, seed: seed)
                let graph = try HararyGraph(clientCount: n, degree: k, seed: seed)
                let clients: [UInt32] = [1, 2, UInt32(n / 2), UInt32(n)]
                tests.append(
                    Test(
                        tcId: tests.count + 1, comment: "H(\(n), \(k))", clientCount: n, degree: k,
                        seed: Hex.encode(seed),
                        permutationKey: Hex.encode(HararyGraph.permutationKey(clientCount: n, degree: k, seed: seed)),
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
                        seed: Hex.encode(seedBytes), permutationKey: "", order: [], orderDigest: "", neighbourhoods: [],
                        result: "invalid"))
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: HararyPermutationVectors.algorithm,
                    generator: "secagg vectors generate (Sources/SecAggVectors/Protocol); seeds drawn from "
                        + "DeterministicRandomGenerator with seed SHA-256(\"\(label)\") (SPEC.md §2.6), orders from "
                        + "SecAggGraph.HararyGraph.permutation",
                    header: "Random Harary graph ring order (SPEC.md §10.2): key = SHA-256(\"secagg/v1/harary-graph\" "
                        + "|| LE32(n) || LE32(k) || seed), Fisher–Yates over [1…n] with below() on the ChaCha20 "
                        + "keystream of that key. order[p] is the client at ring position p (whole for n ≤ 100, "
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
                let key = HararyGraph.permutationKey(clientCount: test.clientCount, degree: test.degree, seed: seed)
                if Hex.encode(key) != test.permutationKey { problems.append("permutation key differs") }
                if HararyPermutationVectors.storedOrder(order) != test.order { problems.append("order differs") }
                if Hex.encode(HararyPermutationVectors.digest(order)) != test.orderDigest {
                    problems.append("order digest differs")
                }
                for entry in test.neighbourhoods {
                    let actual = Neighbourhood(
                        client: entry.client, position: graph.position(of: entry.client) ?? -1,
                        neighbours: graph.neighbours(of: entry.client))
                    if actual != entry { problems.append("client \(entry.client): neighbourhood differs") }
                }
                recorder.record(id, problems.isEmpty, problems.joined(separator: "; "))
            }
            return recorder.results
        }
    }
}
