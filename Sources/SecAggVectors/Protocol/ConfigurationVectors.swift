import Foundation
import SecAggCrypto
import SecureAggregation

/// `protocol/configuration.json`: session configurations (SPEC.md §11.1) — encoding, digest, the effective degree,
/// sparseness and rounds of valid ones (including Harary configurations with k ≥ n − 1, which keep graph kind 1 and
/// their k in the encoding), and encodings that must be refused, with the error of the first failing check.
enum ConfigurationVectors {
    static let algorithm = "secagg-configuration"
    static let relativePath = "protocol/configuration.json"

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        /// The encoding of §11.1, hex.
        var configuration: String
        /// Valid cases: SHA-256("secagg/v1/config" || configuration), the degree every client has (n − 1 for the
        /// complete graph, min(k, n − 1) for Harary), whether the graph is sparse (seeded ring, round 0′), and the
        /// rounds in order.
        var configurationDigest: String?
        var degree: Int?
        var sparse: Bool?
        var rounds: [String]?
        var result: String
        /// Invalid cases: `invalidConfiguration`, `insecureThreshold` (with the least passing threshold, absent when
        /// none up to the degree passes) or the ``WireFormatError`` case of a malformed encoding.
        var error: String?
        var smallestSecureThreshold: Int?
    }

    struct Group: Codable, Sendable {
        var tests: [Test]
    }

    struct Outcome: Equatable {
        var digest: String?
        var degree: Int?
        var sparse: Bool?
        var rounds: [String]?
        var error: String?
        var smallestSecureThreshold: Int?
    }

    static func run(_ bytes: [UInt8]) -> Outcome {
        do {
            let configuration = try SessionConfiguration(encoded: bytes)
            return Outcome(
                digest: Hex.encode(configuration.digest), degree: configuration.degree, sparse: configuration.isSparse,
                rounds: configuration.rounds.map(\.description))
        } catch {
            switch error {
            case let .wire(wire): return Outcome(error: WireVectors.name(of: wire))
            case .invalidConfiguration: return Outcome(error: "invalidConfiguration")
            case let .insecureThreshold(_, _, smallest):
                return Outcome(error: "insecureThreshold", smallestSecureThreshold: smallest)
            default: return Outcome(error: "\(error)")
            }
        }
    }

    struct Generator: VectorGenerator {
        var relativePath: String { ConfigurationVectors.relativePath }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/configuration"
            var rng = ProtocolVectors.generator(label: label)
            let nonce = rng.bytes(count: 32)
            let one = [InputSpecification(name: "update", length: 1000, modulus: .powerOfTwo(bitWidth: 32))]
            func config(
                n: Int, t: Int, model: SecurityModel = .semiHonest, graph: GraphSpecification = .complete,
                threat: ThreatAssumption = .minimal, inputs: [InputSpecification]? = nil, keys: Int? = nil
            ) -> [UInt8] {
                let keyCount = keys ?? (model == .active ? n : 0)
                let verificationKeys = (0..<keyCount).compactMap { i -> Ed25519.PublicKey? in
                    let seed = Hkdf.sha256(Array("\(label)/signing-key/\(i + 1)".utf8))
                    return try? Ed25519.PrivateKey(seed: SecretBytes(copying: seed)).publicKey
                }
                return SessionConfiguration(
                    clientCount: n, threshold: t, securityModel: model, inputs: inputs ?? one, graph: graph,
                    threat: threat, nonce: nonce, verificationKeys: verificationKeys
                ).encoded
            }
            func edited(_ bytes: [UInt8], at offset: Int, _ new: [UInt8]) -> [UInt8] {
                var out = bytes
                out.replaceSubrange(offset..<(offset + new.count), with: new)
                return out
            }
            let base = config(n: 6, t: 3)
            var cases: [(String, [UInt8])] = [
                ("complete graph, n = 6, t = 3, one Z_2^32 input of 1000 elements", base),
                (
                    "Harary H(10, 4), t = 3: sparse (seed commitments, round 0′)",
                    config(n: 10, t: 3, graph: .harary(degree: 4))
                ),
                (
                    "Harary with k = n − 1 = 4 (n = 5): kept as kind 1 with k = 4, not sparse, the complete graph",
                    config(n: 5, t: 3, graph: .harary(degree: 4))
                ),
                ("the same session as a complete graph (n = 5): another digest", config(n: 5, t: 3)),
                (
                    "Harary with k = 6 > n − 1 (n = 6): degree 5, not sparse",
                    config(n: 6, t: 3, graph: .harary(degree: 6))
                ),
                ("Harary with k = 8 > n − 1 (n = 7): degree 6", config(n: 7, t: 4, graph: .harary(degree: 8))),
                (
                    "Harary with k = n − 2 = 8 (n = 10): the densest sparse graph",
                    config(n: 10, t: 5, graph: .harary(degree: 8))
                ),
                (
                    "active, complete, n = 4, t = 3 with four verification keys: consistency round",
                    config(n: 4, t: 3, model: .active)
                ),
                (
                    "active Harary with k ≥ n − 1 (n = 5, k = 4, t = 3)",
                    config(n: 5, t: 3, model: .active, graph: .harary(degree: 4))
                ),
                (
                    "two inputs (Z_q with q = 2^61 − 1, Z_2^13), C = 2, D = 3, σ = 30 declared",
                    config(
                        n: 12, t: 6, threat: ThreatAssumption(corruptClients: 2, droppedClients: 3, sigma: 30),
                        inputs: [
                            InputSpecification(name: "weights", length: 5, modulus: .integer((1 << 61) - 1)),
                            InputSpecification(name: "counts", length: 3, modulus: .powerOfTwo(bitWidth: 13)),
                        ])
                ),
                // Refused.
                ("Harary with odd k = n − 1 = 5 (n = 6)", config(n: 6, t: 3, graph: .harary(degree: 5))),
                ("Harary with odd k = 9 > n − 1 (n = 6)", config(n: 6, t: 3, graph: .harary(degree: 9))),
                ("Harary with odd k = n = 7", config(n: 7, t: 3, graph: .harary(degree: 7))),
                ("Harary with odd k = 3 < n − 1 (n = 10)", config(n: 10, t: 2, graph: .harary(degree: 3))),
                ("Harary with k = 0", config(n: 10, t: 2, graph: .harary(degree: 0))),
                ("one client", config(n: 1, t: 1)),
                ("threshold above the degree (t = 6, n = 6)", config(n: 6, t: 6)),
                ("threshold 0", config(n: 6, t: 0)),
                ("threshold 1: the threshold rule needs t ≥ 2", config(n: 6, t: 1)),
                ("active, t = 2 on k = 5: 2t > k fails", config(n: 6, t: 2, model: .active)),
                (
                    "active, C = 2 on k = 5: t > (k + C)/2 needs t ≥ 4",
                    config(n: 6, t: 3, model: .active, threat: ThreatAssumption(corruptClients: 2, droppedClients: 0))
                ),
                (
                    "semi-honest, C = 5 on n = 6: no threshold up to k = 5 passes",
                    config(n: 6, t: 5, threat: ThreatAssumption(corruptClients: 5, droppedClients: 0))
                ),
                ("active without verification keys", config(n: 4, t: 3, model: .active, keys: 0)),
                ("semi-honest with verification keys", config(n: 4, t: 2, keys: 4)),
                (
                    "C = n: outside 0 … n − 1",
                    config(n: 6, t: 3, threat: ThreatAssumption(corruptClients: 6, droppedClients: 0))
                ),
                (
                    "σ = 0",
                    config(n: 6, t: 3, threat: ThreatAssumption(corruptClients: 0, droppedClients: 0, sigma: 0))
                ),
                (
                    "duplicate input names",
                    config(
                        n: 6, t: 3,
                        inputs: [
                            InputSpecification(name: "a", length: 1, modulus: .powerOfTwo(bitWidth: 8)),
                            InputSpecification(name: "a", length: 2, modulus: .powerOfTwo(bitWidth: 8)),
                        ])
                ),
                (
                    "input of length 0",
                    config(
                        n: 6, t: 3,
                        inputs: [InputSpecification(name: "a", length: 0, modulus: .powerOfTwo(bitWidth: 8))])
                ),
                (
                    "ring Z_q with q = 2^62 + 1",
                    config(
                        n: 6, t: 3, inputs: [InputSpecification(name: "a", length: 4, modulus: .integer((1 << 62) + 1))]
                    )
                ),
                (
                    "two defects: odd Harary degree and threshold 1: the graph is checked first",
                    config(n: 10, t: 1, graph: .harary(degree: 3))
                ),
                ("protocol version 1", edited(base, at: 0, [1])),
                ("protocol version 2 (before the key tree, SPEC.md §11.2)", edited(base, at: 0, [2])),
                ("a trailing byte", base + [0]),
                ("one byte short", Array(base.dropLast())),
                ("complete graph with a non-zero degree field", edited(base, at: 11, [5])),
                ("graph kind 2", edited(base, at: 10, [2])),
                ("security model 2", edited(base, at: 9, [2])),
                ("257 inputs", edited(base, at: 59, [1, 1, 0, 0])),
                (
                    "version 1 and a trailing byte: the version is read first",
                    edited(base, at: 0, [1]) + [0]
                ),
            ]
            cases = cases.map { ($0.0, $0.1) }
            var tests: [Test] = []
            for (comment, bytes) in cases {
                let outcome = ConfigurationVectors.run(bytes)
                tests.append(
                    Test(
                        tcId: tests.count + 1, comment: comment, configuration: Hex.encode(bytes),
                        configurationDigest: outcome.digest, degree: outcome.degree, sparse: outcome.sparse,
                        rounds: outcome.rounds, result: outcome.error == nil ? "valid" : "invalid",
                        error: outcome.error,
                        smallestSecureThreshold: outcome.smallestSecureThreshold))
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: ConfigurationVectors.algorithm,
                    generator: "secagg vectors generate (Sources/SecAggVectors/Protocol); nonce drawn from "
                        + "DeterministicRandomGenerator with seed SHA-256(\"\(label)\") (SPEC.md §2.6), verification "
                        + "keys from the Ed25519 seeds SHA-256(\"\(label)/signing-key/<i>\"), encodings from "
                        + "SecureAggregation.SessionConfiguration",
                    header: "Session configurations (SPEC.md §11.1). Valid: decoding and checking the encoding "
                        + "succeeds; configurationDigest = SHA-256(\"secagg/v1/config\" || configuration), degree = "
                        + "the number of neighbours of every client, sparse = Harary with k < n - 1, rounds in order. "
                        + "Invalid: error is the first failing check of §11.1 (a WireFormatError case while decoding, "
                        + "then invalidConfiguration or insecureThreshold with smallestSecureThreshold).",
                    testGroups: [Group(tests: tests)], testCount: tests.count))
        }
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { ConfigurationVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for test in file.testGroups.flatMap(\.tests) {
                try reader.result(test.result, caseId: test.tcId)
                let outcome = ConfigurationVectors.run(
                    try reader.bytes(test.configuration, "configuration", caseId: test.tcId))
                let expected = Outcome(
                    digest: test.configurationDigest, degree: test.degree, sparse: test.sparse, rounds: test.rounds,
                    error: test.error, smallestSecureThreshold: test.smallestSecureThreshold)
                recorder.record(
                    test.tcId, outcome == expected && (test.result == "valid") == (test.error == nil),
                    "got \(outcome.error ?? "a valid configuration") \(outcome.digest ?? "")")
            }
            return recorder.results
        }
    }
}
