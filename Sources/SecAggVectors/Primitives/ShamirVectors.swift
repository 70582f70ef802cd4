import Foundation
import SecAggCrypto

/// `primitives/shamir.json`: Shamir sharing over F_(2^61−1) (SPEC.md §6) with coefficients from a seeded
/// DeterministicRandomGenerator, and reconstructions from several subsets (valid and below threshold).
public enum ShamirVectors {
    /// The `algorithm` value.
    public static let algorithm = "secagg-shamir"
    /// The file path.
    public static let relativePath = "primitives/shamir.json"
    /// Bounds on what a file may ask for (verification work).
    static let maximumShareCount = 1_000
    static let maximumSecretByteCount = 4_096

    struct Group: Codable, Sendable {
        var tests: [Test]
    }

    struct Reconstruction: Codable, Sendable {
        /// x-coordinates of the shares used, in this order.
        var xCoordinates: [UInt32]
        /// "valid": reconstructs the secret; "invalid": must fail (`error` names the error).
        var result: String
        var error: String?
    }

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        var threshold: Int
        var secret: String
        var rngSeed: String
        var xCoordinates: [UInt32]
        var shares: [String]
        var reconstructions: [Reconstruction]
        var result: String
    }

    struct Generator: VectorGenerator {
        var relativePath: String { ShamirVectors.relativePath }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/shamir"
            var inputs = PrimitiveVectors.inputGenerator(label)
            let shapes: [(threshold: Int, xs: [UInt32], secretByteCount: Int)] = [
                (1, [1], 1), (1, [1, 2, 3], 32), (2, [1, 2, 3], 7), (2, [1, 2, 3], 8), (3, [1, 2, 3, 4, 5], 32),
                (4, [1, 2, 3, 4], 14), (5, Array(1...9), 33), (3, [7, 300, 65_536, UInt32.max], 32),
                (10, Array(1...20), 64), (3, Array(1...6), 100),
            ]
            var tests: [Test] = []
            for shape in shapes {
                let secret = SecretBytes(randomByteCount: shape.secretByteCount, using: &inputs)
                let rngSeed = inputs.bytes(count: DeterministicRandomGenerator.seedByteCount)
                var coefficients = try DeterministicRandomGenerator(seed: rngSeed)
                let shares = try ShamirSecretSharing.split(
                    secret: secret, threshold: shape.threshold, xCoordinates: shape.xs, using: &coefficients)
                let n = shape.xs.count
                let t = shape.threshold
                // Subsets: the first t, the last t in reverse order, all n, and (if t > 1) t − 1 shares.
                var reconstructions = [
                    Reconstruction(xCoordinates: Array(shape.xs.prefix(t)), result: "valid", error: nil),
                    Reconstruction(xCoordinates: Array(shape.xs.suffix(t).reversed()), result: "valid", error: nil),
                    Reconstruction(xCoordinates: shape.xs, result: "valid", error: nil),
                ]
                if n > t {
                    // Every other share starting from the second, padded with the first ones.
                    let odd = stride(from: 1, to: n, by: 2).map { shape.xs[$0] }
                    let rest = shape.xs.filter { !odd.contains($0) }
                    reconstructions.append(
                        Reconstruction(xCoordinates: Array((odd + rest).prefix(t)), result: "valid", error: nil))
                }
                if t > 1 {
                    reconstructions.append(
                        Reconstruction(
                            xCoordinates: Array(shape.xs.prefix(t - 1)), result: "invalid", error: "notEnoughShares"))
                }
                tests.append(
                    Test(
                        tcId: tests.count + 1, comment: "t = \(t), n = \(n), \(shape.secretByteCount)-byte secret",
                        threshold: t, secret: Hex.encode(secret.unsafeExportedBytes()), rngSeed: Hex.encode(rngSeed),
                        xCoordinates: shape.xs, shares: shares.map { Hex.encode($0.encoded()) },
                        reconstructions: reconstructions, result: "valid"))
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: ShamirVectors.algorithm, generator: PrimitiveVectors.generatorNote(label),
                    header:
                        "Shamir secret sharing (SPEC.md §6): split(secret, threshold, xCoordinates) with coefficients "
                        + "drawn from DeterministicRandomGenerator(rngSeed); shares encoded LE32(x) || LE64(y_j)...; "
                        + "each reconstruction lists the x-coordinates used, in order.",
                    testGroups: [Group(tests: tests)], testCount: tests.count))
        }
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { ShamirVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for test in file.testGroups.flatMap(\.tests) {
                let id = test.tcId
                try reader.result(test.result, caseId: id, allowed: ["valid"])
                let secretBytes = try reader.bytes(test.secret, "secret", caseId: id)
                guard test.xCoordinates.count <= ShamirVectors.maximumShareCount,
                    secretBytes.count <= ShamirVectors.maximumSecretByteCount,
                    test.shares.count == test.xCoordinates.count
                else {
                    throw VectorError.malformedFile(file: fileName, reason: "case \(id): sizes out of range")
                }
                let secret = SecretBytes(copying: secretBytes)
                let expected = try test.shares.map { (s) throws(VectorError) in
                    try reader.bytes(s, "shares", caseId: id)
                }
                // 1. Splitting with the recorded randomness reproduces the shares byte for byte.
                var rng: DeterministicRandomGenerator
                do {
                    rng = try DeterministicRandomGenerator(seed: try reader.bytes(test.rngSeed, "rngSeed", caseId: id))
                } catch _ as SecAggCryptoError {
                    throw VectorError.malformedFile(file: fileName, reason: "case \(id): rngSeed is not 32 bytes")
                }
                let split = try? ShamirSecretSharing.split(
                    secret: secret, threshold: test.threshold, xCoordinates: test.xCoordinates, using: &rng)
                var passed = split?.map { $0.encoded() } == expected
                var message = "shares differ from the recorded ones"
                // 2. Each reconstruction from the recorded shares gives the secret or the named error.
                let decoded = Dictionary(
                    expected.compactMap { try? ShamirShare(encoded: $0, secretByteCount: secretBytes.count) }
                        .map { ($0.x, $0) }, uniquingKeysWith: { first, _ in first })
                for (index, reconstruction) in test.reconstructions.enumerated() {
                    try reader.result(reconstruction.result, caseId: id)
                    let subset = reconstruction.xCoordinates.compactMap { decoded[$0] }
                    guard subset.count == reconstruction.xCoordinates.count else {
                        throw VectorError.malformedFile(file: fileName, reason: "case \(id): unknown x-coordinate")
                    }
                    let outcome: Result<SecretBytes, SecAggCryptoError> = Result { () throws(SecAggCryptoError) in
                        try ShamirSecretSharing.reconstruct(
                            subset, threshold: test.threshold, secretByteCount: secretBytes.count)
                    }
                    let ok: Bool
                    switch (outcome, reconstruction.result) {
                    case let (.success(value), "valid"): ok = value == secret
                    case let (.failure(error), "invalid"):
                        ok = reconstruction.error.map { Self.name(of: error) == $0 } ?? true
                    default: ok = false
                    }
                    if !ok {
                        passed = false
                        message = "reconstruction \(index + 1) did not give the expected outcome"
                    }
                }
                recorder.record(id, passed, message)
            }
            return recorder.results
        }

        /// The case name of an error, as written in the files.
        static func name(of error: SecAggCryptoError) -> String {
            switch error {
            case .notEnoughShares: "notEnoughShares"
            case .inconsistentShares: "inconsistentShares"
            case .duplicateShareIndex: "duplicateShareIndex"
            case .zeroShareIndex: "zeroShareIndex"
            case .invalidShareValue: "invalidShareValue"
            case .invalidThreshold: "invalidThreshold"
            default: "other"
            }
        }
    }
}
