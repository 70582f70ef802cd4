import Foundation
import SecAggCrypto
import SecAggPrivacy

/// Known-answer files for distributed DP (`Vectors/privacy/`, SPEC.md §15): the randomized Hadamard
/// rotation, conditional rounding, the exact samplers and whole client encodings, from fixed seeds.
public enum PrivacyVectors {
    /// Checkers.
    public static var suites: [any VectorSuite] {
        [RotationSuite(), RoundingSuite(), SamplerSuite(), EncodingSuite()]
    }

    /// Generators.
    public static var generators: [any VectorGenerator] {
        [RotationGenerator(), RoundingGenerator(), SamplerGenerator(), EncodingGenerator()]
    }

    static func inputs(_ label: String) -> DeterministicRandomGenerator {
        PrimitiveVectors.inputGenerator(label)
    }

    static func note(_ label: String) -> String {
        "secagg vectors generate (Sources/SecAggVectors/Privacy); inputs drawn from DeterministicRandomGenerator "
            + "with seed SHA-256(\"\(label)\") (SPEC.md §2.6), outputs computed by SecAggPrivacy"
    }

    /// A Float64 as its 16 hex digits (big-endian bit pattern): exact in JSON.
    static func bits(_ value: Double) -> String {
        let raw = String(value.bitPattern, radix: 16)
        return String(repeating: "0", count: 16 - raw.count) + raw
    }

    static func double(_ text: String, file: String, caseId: Int) throws(VectorError) -> Double {
        guard text.count == 16, let pattern = UInt64(text, radix: 16) else {
            throw .malformedFile(
                file: file, reason: "case \(caseId): \"\(text)\" is not a 16-digit Float64 bit pattern")
        }
        return Double(bitPattern: pattern)
    }

    /// SHA-256 over the values as little-endian 64-bit words, hex.
    static func digest(_ words: [UInt64]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(words.count * 8)
        for word in words { withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) } }
        return Hex.encode(Hkdf.sha256(bytes))
    }

    /// A word source that counts the words it hands out.
    struct CountingSource: RandomWordSource {
        let stream: NoiseStream
        var count = 0
        mutating func nextWord() -> UInt64 {
            count += 1
            return stream.nextWord()
        }
    }
}

// MARK: Rotation

extension PrivacyVectors {
    static let rotationAlgorithm = "secagg-dp-rotation"

    struct RotationTest: Codable, Sendable {
        var tcId: Int
        var comment: String
        var seed: String
        var input: [String]
        var paddedDimension: Int
        var rotatedFirst: [String]
        var rotatedDigest: String
        var inverseDigest: String
        var result: String
    }

    struct RotationGroup: Codable, Sendable { var tests: [RotationTest] }

    struct RotationGenerator: VectorGenerator {
        var relativePath: String { "privacy/rotation.json" }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/dp-rotation"
            var rng = PrivacyVectors.inputs(label)
            var tests: [RotationTest] = []
            for (d, integers) in [
                (1, false), (2, true), (3, false), (64, false), (65, true), (100, false), (1000, false), (2048, true),
            ] {
                let seed = rng.bytes(count: 32)
                let input = (0..<d).map { _ in
                    integers ? Double(Int64(rng.next(below: 2001)) - 1000) : (rng.nextUnitDouble() - 0.5) * 8
                }
                let rotated = try RandomizedHadamard.rotate(input, seed: seed)
                let inverse = try RandomizedHadamard.inverse(rotated, dimension: d, seed: seed)
                tests.append(
                    RotationTest(
                        tcId: tests.count + 1, comment: "d = \(d), \(integers ? "integers" : "reals in ±4")",
                        seed: Hex.encode(seed), input: input.map(PrivacyVectors.bits),
                        paddedDimension: rotated.count, rotatedFirst: rotated.prefix(32).map(PrivacyVectors.bits),
                        rotatedDigest: PrivacyVectors.digest(rotated.map(\.bitPattern)),
                        inverseDigest: PrivacyVectors.digest(inverse.map(\.bitPattern)), result: "valid"))
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: PrivacyVectors.rotationAlgorithm, generator: PrivacyVectors.note(label),
                    header:
                        "Randomized Hadamard rotation (SPEC.md §15.5): Float64 bit patterns of the input, the first 32 "
                        + "rotated values, and SHA-256 over all D rotated values and over the inverse's d values "
                        + "(LE64 bit patterns).",
                    testGroups: [RotationGroup(tests: tests)], testCount: tests.count))
        }
    }

    struct RotationSuite: OwnFormatSuite {
        var algorithm: String { PrivacyVectors.rotationAlgorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<RotationGroup>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for test in file.testGroups.flatMap(\.tests) {
                try reader.result(test.result, caseId: test.tcId, allowed: ["valid"])
                let seed = try reader.bytes(test.seed, "seed", caseId: test.tcId)
                guard test.input.count <= 1 << 16 else {
                    throw VectorError.malformedFile(file: fileName, reason: "case \(test.tcId): input too long")
                }
                let input = try test.input.map { (t) throws(VectorError) in
                    try PrivacyVectors.double(t, file: fileName, caseId: test.tcId)
                }
                guard let rotated = try? RandomizedHadamard.rotate(input, seed: seed),
                    let inverse = try? RandomizedHadamard.inverse(rotated, dimension: input.count, seed: seed)
                else {
                    recorder.record(test.tcId, false, "rotation failed")
                    continue
                }
                let same =
                    rotated.count == test.paddedDimension
                    && Array(rotated.prefix(32).map(PrivacyVectors.bits)) == test.rotatedFirst
                    && PrivacyVectors.digest(rotated.map(\.bitPattern)) == test.rotatedDigest
                    && PrivacyVectors.digest(inverse.map(\.bitPattern)) == test.inverseDigest
                recorder.record(test.tcId, same, "rotation differs")
            }
            return recorder.results
        }
    }
}

// MARK: Conditional rounding

extension PrivacyVectors {
    static let roundingAlgorithm = "secagg-dp-rounding"

    struct RoundingTest: Codable, Sendable {
        var tcId: Int
        var comment: String
        var noiseSeed: String
        var input: [String]
        var l2Bound: String
        var squaredNormBound: String
        var output: [Int64]?
        var attempts: Int?
        var wordCount: Int?
        var error: String?
        var result: String
    }

    struct RoundingGroup: Codable, Sendable { var tests: [RoundingTest] }

    static func roundingEncoding(dimension: Int, l2Bound: Double) throws -> PrivacyEncoding {
        try PrivacyEncoding(
            dimension: dimension, clipNorm: 1, scale: 1, l2Bound: l2Bound,
            noise: .skellam(rateNumerator: 1, rateDenominator: 1), modulus: .powerOfTwo(bitWidth: 32))
    }

    struct RoundingGenerator: VectorGenerator {
        var relativePath: String { "privacy/rounding.json" }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/dp-rounding"
            var rng = PrivacyVectors.inputs(label)
            var tests: [RoundingTest] = []
            // (length, spread, bound factor): the bound is factor × ‖v‖₂, so factors near 1 force retries.
            for (d, spread, factor) in [
                (4, 3.0, 1.5), (16, 10.0, 1.02), (64, 2.5, 1.0), (256, 100.0, 1.001), (1024, 0.7, 1.6),
            ] {
                let seed = rng.bytes(count: 32)
                let v = (0..<d).map { _ in (rng.nextUnitDouble() - 0.5) * 2 * spread }
                let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                let bound = max(norm * factor, norm + 0.5)
                let encoding = try PrivacyVectors.roundingEncoding(dimension: d, l2Bound: bound)
                var source = PrivacyVectors.CountingSource(stream: try NoiseStream(seed: seed))
                let (z, attempts) = try encoding.conditionallyRound(v, using: &source)
                tests.append(
                    RoundingTest(
                        tcId: tests.count + 1, comment: "d = \(d), bound \(factor) × ‖v‖", noiseSeed: Hex.encode(seed),
                        input: v.map(PrivacyVectors.bits), l2Bound: PrivacyVectors.bits(bound),
                        squaredNormBound: String(encoding.squaredNormBound), output: z, attempts: attempts,
                        wordCount: source.count, error: nil, result: "valid"))
            }
            // A vector that no rounding can bring within its bound: 1000 attempts, then the error.
            let seed = rng.bytes(count: 32)
            let encoding = try PrivacyVectors.roundingEncoding(dimension: 4, l2Bound: 1)
            tests.append(
                RoundingTest(
                    tcId: tests.count + 1, comment: "bound below any rounding: roundingBoundNotMet",
                    noiseSeed: Hex.encode(seed), input: [5.5, 5, 5, 5].map(PrivacyVectors.bits),
                    l2Bound: PrivacyVectors.bits(1), squaredNormBound: String(encoding.squaredNormBound), output: nil,
                    attempts: nil, wordCount: nil, error: "roundingBoundNotMet", result: "invalid"))
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: PrivacyVectors.roundingAlgorithm, generator: PrivacyVectors.note(label),
                    header:
                        "Conditional randomized rounding (SPEC.md §15.5 step 4) with the noise stream DRBG(noiseSeed): "
                        + "each attempt reads one word per coordinate; the first attempt with Σz² ≤ ⌊Δ₂²⌋ is kept.",
                    testGroups: [RoundingGroup(tests: tests)], testCount: tests.count))
        }
    }

    struct RoundingSuite: OwnFormatSuite {
        var algorithm: String { PrivacyVectors.roundingAlgorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<RoundingGroup>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for test in file.testGroups.flatMap(\.tests) {
                let id = test.tcId
                try reader.result(test.result, caseId: id)
                let seed = try reader.bytes(test.noiseSeed, "noiseSeed", caseId: id)
                let v = try test.input.map { (t) throws(VectorError) in
                    try PrivacyVectors.double(t, file: fileName, caseId: id)
                }
                let bound = try PrivacyVectors.double(test.l2Bound, file: fileName, caseId: id)
                guard !v.isEmpty, v.count <= 1 << 16,
                    let encoding = try? PrivacyVectors.roundingEncoding(dimension: v.count, l2Bound: bound),
                    let stream = try? NoiseStream(seed: seed)
                else {
                    throw VectorError.malformedFile(file: fileName, reason: "case \(id): bad parameters")
                }
                var source = PrivacyVectors.CountingSource(stream: stream)
                let boundMatches = String(encoding.squaredNormBound) == test.squaredNormBound
                switch (
                    Result { () throws(PrivacyError) in try encoding.conditionallyRound(v, using: &source) },
                    test.result
                ) {
                case let (.success((z, attempts)), "valid"):
                    recorder.record(
                        id,
                        boundMatches && z == test.output && attempts == test.attempts && source.count == test.wordCount,
                        "rounding differs")
                case (.failure(.roundingBoundNotMet), "invalid"):
                    recorder.record(id, boundMatches, "bound differs", note: "rejected after 1000 attempts")
                default:
                    recorder.record(id, false, "unexpected outcome")
                }
            }
            return recorder.results
        }
    }
}

// MARK: Samplers

extension PrivacyVectors {
    static let samplerAlgorithm = "secagg-dp-samplers"

    struct SamplerTest: Codable, Sendable {
        var tcId: Int
        var comment: String
        var seed: String
        var count: Int
        var first: [Int64]
        var digest: String
        var wordCount: Int
        var result: String
    }

    struct SamplerGroup: Codable, Sendable {
        /// "discreteGaussian" (σ² = numerator/denominator), "poisson" or "skellam" (λ = numerator/denominator).
        var distribution: String
        var numerator: String
        var denominator: String
        var tests: [SamplerTest]
    }

    static func draw(_ group: SamplerGroup, seed: [UInt8], count: Int) throws -> (samples: [Int64], words: Int) {
        guard let n = UInt64(group.numerator), let d = UInt64(group.denominator) else {
            throw VectorError.malformedFile(file: "samplers", reason: "numerator or denominator")
        }
        var source = CountingSource(stream: try NoiseStream(seed: seed))
        var samples: [Int64] = []
        switch group.distribution {
        case "discreteGaussian":
            let s = try DiscreteGaussianSampler(numerator: n, denominator: d)
            for _ in 0..<count { samples.append(try s.sample(using: &source)) }
        case "poisson":
            let s = try PoissonSampler(numerator: n, denominator: d)
            for _ in 0..<count { samples.append(try s.sample(using: &source)) }
        case "skellam":
            let s = try SkellamSampler(numerator: n, denominator: d)
            for _ in 0..<count { samples.append(try s.sample(using: &source)) }
        default:
            throw VectorError.malformedFile(file: "samplers", reason: "distribution \(group.distribution)")
        }
        return (samples, source.count)
    }

    struct SamplerGenerator: VectorGenerator {
        var relativePath: String { "privacy/samplers.json" }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/dp-samplers"
            var rng = PrivacyVectors.inputs(label)
            let cases: [(String, UInt64, UInt64, String)] = [
                ("discreteGaussian", 1, 4, "σ = 0.5"), ("discreteGaussian", 81, 100, "σ = 0.9"),
                ("discreteGaussian", 10, 1, "σ² = 10"), ("discreteGaussian", 5625, 4, "σ = 37.5"),
                ("discreteGaussian", 100_000_000, 1, "σ = 10^4"), ("discreteGaussian", 1 << 50, 3, "σ² = 2^50/3"),
                ("poisson", 1, 4, "λ = 1/4 (Poisson(1) thinned)"), ("poisson", 1, 1, "λ = 1"),
                ("poisson", 37, 10, "λ = 3.7"), ("poisson", 1000, 1, "λ = 1000"),
                ("poisson", 123_456_789, 1, "λ = 123456789"), ("poisson", 1 << 54, 3, "λ = 2^54/3"),
                ("skellam", 1, 5, "λ = 0.2 (σ ≈ 0.63)"), ("skellam", 9, 2, "λ = 4.5 (σ = 3)"),
                ("skellam", 50_000_000, 1, "λ = 5·10^7 (σ = 10^4)"),
            ]
            var groups: [SamplerGroup] = []
            var id = 0
            for (distribution, n, d, comment) in cases {
                var group = SamplerGroup(
                    distribution: distribution, numerator: String(n), denominator: String(d), tests: [])
                for count in [1, 200] {
                    id += 1
                    let seed = rng.bytes(count: 32)
                    let (samples, words) = try PrivacyVectors.draw(group, seed: seed, count: count)
                    group.tests.append(
                        SamplerTest(
                            tcId: id, comment: "\(comment), \(count) sample\(count == 1 ? "" : "s")",
                            seed: Hex.encode(seed),
                            count: count, first: Array(samples.prefix(32)),
                            digest: PrivacyVectors.digest(samples.map { UInt64(bitPattern: $0) }), wordCount: words,
                            result: "valid"))
                }
                groups.append(group)
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: PrivacyVectors.samplerAlgorithm, generator: PrivacyVectors.note(label),
                    header:
                        "Exact samplers (SPEC.md §15.2–15.4) on the noise stream DRBG(seed): the first 32 samples, "
                        + "SHA-256 over all samples as LE64 two's complement, and the number of 64-bit words read.",
                    testGroups: groups, testCount: id))
        }
    }

    struct SamplerSuite: OwnFormatSuite {
        var algorithm: String { PrivacyVectors.samplerAlgorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<SamplerGroup>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for group in file.testGroups {
                for test in group.tests {
                    try reader.result(test.result, caseId: test.tcId, allowed: ["valid"])
                    guard (1...100_000).contains(test.count) else {
                        throw VectorError.malformedFile(file: fileName, reason: "case \(test.tcId): count")
                    }
                    let seed = try reader.bytes(test.seed, "seed", caseId: test.tcId)
                    guard let (samples, words) = try? PrivacyVectors.draw(group, seed: seed, count: test.count) else {
                        recorder.record(test.tcId, false, "sampler rejected the parameters")
                        continue
                    }
                    let same =
                        Array(samples.prefix(32)) == test.first
                        && PrivacyVectors.digest(samples.map { UInt64(bitPattern: $0) }) == test.digest
                        && words == test.wordCount
                    recorder.record(test.tcId, same, "samples differ")
                }
            }
            return recorder.results
        }
    }
}

// MARK: Whole client encodings

extension PrivacyVectors {
    static let encodingAlgorithm = "secagg-dp-encoding"

    struct EncodingTest: Codable, Sendable {
        var tcId: Int
        var comment: String
        var sessionId: String
        var noiseSeed: String
        var input: [String]
        var elementsFirst: [String]
        var elementsDigest: String
        var wasClipped: Bool
        var attempts: Int
        var result: String
    }

    struct EncodingGroup: Codable, Sendable {
        /// The encoding exactly as `PrivacyEncoding` encodes it in JSON.
        var encoding: PrivacyEncoding
        var tests: [EncodingTest]
    }

    struct EncodingGenerator: VectorGenerator {
        var relativePath: String { "privacy/encoding.json" }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/dp-encoding"
            var rng = PrivacyVectors.inputs(label)
            let setups: [(Int, Double, Double, ClientNoise, Int)] = [
                (10, 1, 30, .discreteGaussian(varianceNumerator: 25, varianceDenominator: 1), 16),
                (100, 0.5, 400, .skellam(rateNumerator: 1250, rateDenominator: 1), 20),
                (300, 2, 1000, .discreteGaussian(varianceNumerator: 1 << 40, varianceDenominator: 1 << 10), 32),
            ]
            var groups: [EncodingGroup] = []
            var id = 0
            for (d, clip, scale, noise, bits) in setups {
                let padded = RandomizedHadamard.paddedDimension(for: d)
                let encoding = try PrivacyEncoding(
                    dimension: d, clipNorm: clip, scale: scale,
                    l2Bound: (scale * clip * (1 + 0x1p-30) + Double(padded).squareRoot() / 2 + 1).nextUp, noise: noise,
                    modulus: .powerOfTwo(bitWidth: bits))
                var group = EncodingGroup(encoding: encoding, tests: [])
                for over in [false, true] {
                    id += 1
                    let session = rng.bytes(count: 32)
                    let noiseSeed = rng.bytes(count: 32)
                    var x = (0..<d).map { _ in rng.nextUnitDouble() - 0.5 }
                    let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    x = x.map { $0 * clip * (over ? 3 : 0.8) / norm }
                    var stream = try NoiseStream(seed: noiseSeed)
                    let update = try encoding.encode(
                        x, rotationSeed: RandomizedHadamard.rotationSeed(sessionID: session), noise: &stream)
                    group.tests.append(
                        EncodingTest(
                            tcId: id, comment: over ? "‖x‖ = 3C: clipped" : "‖x‖ = 0.8C",
                            sessionId: Hex.encode(session),
                            noiseSeed: Hex.encode(noiseSeed), input: x.map(PrivacyVectors.bits),
                            elementsFirst: update.elements.prefix(32).map { String($0) },
                            elementsDigest: PrivacyVectors.digest(update.elements), wasClipped: update.wasClipped,
                            attempts: update.roundingAttempts, result: "valid"))
                }
                groups.append(group)
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: PrivacyVectors.encodingAlgorithm, generator: PrivacyVectors.note(label),
                    header:
                        "Whole client encodings (SPEC.md §15.5): clip, rotate with SHA-256(\"secagg/v1/dp-rotation\" || "
                        + "sessionId), scale, round and add noise from DRBG(noiseSeed), embed; the first 32 ring elements "
                        + "(decimal) and SHA-256 over all D as LE64.",
                    testGroups: groups, testCount: id))
        }
    }

    struct EncodingSuite: OwnFormatSuite {
        var algorithm: String { PrivacyVectors.encodingAlgorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<EncodingGroup>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for group in file.testGroups {
                for test in group.tests {
                    let id = test.tcId
                    try reader.result(test.result, caseId: id, allowed: ["valid"])
                    let session = try reader.bytes(test.sessionId, "sessionId", caseId: id)
                    let seed = try reader.bytes(test.noiseSeed, "noiseSeed", caseId: id)
                    let x = try test.input.map { (t) throws(VectorError) in
                        try PrivacyVectors.double(t, file: fileName, caseId: id)
                    }
                    guard var stream = try? NoiseStream(seed: seed),
                        let update = try? group.encoding.encode(
                            x, rotationSeed: RandomizedHadamard.rotationSeed(sessionID: session), noise: &stream)
                    else {
                        recorder.record(id, false, "encoding failed")
                        continue
                    }
                    let same =
                        update.elements.prefix(32).map { String($0) } == test.elementsFirst
                        && PrivacyVectors.digest(update.elements) == test.elementsDigest
                        && update.wasClipped == test.wasClipped && update.roundingAttempts == test.attempts
                    recorder.record(id, same, "encoding differs")
                }
            }
            return recorder.results
        }
    }
}
