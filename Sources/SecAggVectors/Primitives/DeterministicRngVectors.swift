import Foundation
import SecAggCrypto

/// `primitives/deterministic_rng.json`: the test generator (SPEC.md §2.6) that every other file's
/// randomness comes from, including byte-by-byte consumption across reads of odd sizes.
public enum DeterministicRngVectors {
    /// The `algorithm` value.
    public static let algorithm = "secagg-deterministic-rng"
    /// The file path.
    public static let relativePath = "primitives/deterministic_rng.json"

    struct Group: Codable, Sendable {
        var tests: [Test]
    }

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        var seed: String
        /// Sizes of consecutive reads; the output is their concatenation.
        var readByteCounts: [Int]
        var output: String
        var result: String
    }

    struct Generator: VectorGenerator {
        var relativePath: String { DeterministicRngVectors.relativePath }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/deterministic-rng"
            var inputs = PrimitiveVectors.inputGenerator(label)
            var tests: [Test] = []
            for reads in [[32], [1, 63, 1, 64], [7, 0, 100, 13, 200], [8, 8, 8, 8, 8, 8, 8, 8, 8]] {
                let seed = inputs.bytes(count: DeterministicRandomGenerator.seedByteCount)
                var rng = try DeterministicRandomGenerator(seed: seed)
                let output = reads.flatMap { rng.bytes(count: $0) }
                tests.append(
                    Test(
                        tcId: tests.count + 1, comment: "reads of \(reads) bytes", seed: Hex.encode(seed),
                        readByteCounts: reads, output: Hex.encode(output), result: "valid"))
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: DeterministicRngVectors.algorithm, generator: PrimitiveVectors.generatorNote(label),
                    header:
                        "DeterministicRandomGenerator (SPEC.md §2.6): ChaCha20 keystream with key = seed, nonce = "
                        + "\"SecAgg-DRBG1\", counter from 0, consumed byte by byte across reads.",
                    testGroups: [Group(tests: tests)], testCount: tests.count))
        }
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { DeterministicRngVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for test in file.testGroups.flatMap(\.tests) {
                let id = test.tcId
                try reader.result(test.result, caseId: id, allowed: ["valid"])
                guard test.readByteCounts.allSatisfy({ (0...65_536).contains($0) }), test.readByteCounts.count <= 1_000
                else { throw VectorError.malformedFile(file: fileName, reason: "case \(id): bad read sizes") }
                let seed = try reader.bytes(test.seed, "seed", caseId: id)
                guard var rng = try? DeterministicRandomGenerator(seed: seed) else {
                    recorder.record(id, false, "seed rejected")
                    continue
                }
                let output = test.readByteCounts.flatMap { rng.bytes(count: $0) }
                recorder.record(id, output == (try reader.bytes(test.output, "output", caseId: id)), "output mismatch")
            }
            return recorder.results
        }
    }
}
