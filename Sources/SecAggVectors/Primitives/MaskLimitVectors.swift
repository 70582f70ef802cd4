import Foundation
import SecAggCrypto

/// `primitives/mask_limits.json`: the limits of one (seed, stream) of the mask PRG (SPEC.md §4.5) — the largest
/// mask length per ring, the last elements before the counter space ends (random access into block 2^32 − 1 for
/// power-of-two rings), and requests past the end that must be rejected with `maskLengthExceedsCounterSpace`.
enum MaskLimitVectors {
    static let algorithm = "secagg-mask-limits"
    static let relativePath = "primitives/mask_limits.json"

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        var seed: String
        var stream: UInt32
        /// Mask elements elementOffset ..< elementOffset + elementCount (random access; offset 0 for rejection rings).
        var elementOffset: Int
        var elementCount: Int
        /// Valid cases: the elements, decimal.
        var elements: [String]?
        var result: String
        /// Invalid cases: the ``SecAggCryptoError`` case name.
        var error: String?
    }

    struct Group: Codable, Sendable {
        /// `powerOfTwo` with `bitWidth`, or `integer` with decimal `q` (as in mask_prg.json).
        var modulusKind: String
        var bitWidth: Int?
        var q: String?
        var elementBitWidth: Int
        var wordByteCount: Int
        /// 2^38 / W, halved for rejection sampling.
        var maximumElementCount: Int
        var tests: [Test]
    }

    static func modulus(_ group: Group) -> RingModulus? {
        if group.modulusKind == "powerOfTwo", let b = group.bitWidth { return .powerOfTwo(bitWidth: b) }
        if group.modulusKind == "integer", let q = group.q.flatMap(UInt64.init) { return .integer(q) }
        return nil
    }

    /// The elements, or the error's case name.
    static func run(_ test: Test, modulus: RingModulus) -> Result<[String], NameError> {
        guard let seed = Hex.decode(test.seed) else { return .failure(NameError(name: "malformed")) }
        do throws(SecAggCryptoError) {
            let prg = try MaskPrg(seed: SecretBytes(copying: seed), stream: test.stream)
            var buffer = [UInt64](repeating: 0, count: max(0, min(test.elementCount, 64)))
            if test.elementCount > buffer.count {
                // Longer than any case stores: only the length check can answer (no keystream is produced).
                _ = try prg.expand(count: test.elementCount, modulus: modulus)
                return .failure(NameError(name: "unexpectedlyExpanded"))
            }
            try buffer.withUnsafeMutableBufferPointer { (b) throws(SecAggCryptoError) in
                try prg.apply(to: b, elementOffset: test.elementOffset, modulus: modulus, subtract: false)
            }
            return .success(buffer.map(String.init))
        } catch {
            if case .maskLengthExceedsCounterSpace = error {
                return .failure(NameError(name: "maskLengthExceedsCounterSpace"))
            }
            return .failure(NameError(name: "\(error)"))
        }
    }

    struct NameError: Error, Equatable {
        var name: String
    }

    struct Generator: VectorGenerator {
        var relativePath: String { MaskLimitVectors.relativePath }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/mask-limits"
            var rng = PrimitiveVectors.inputGenerator(label)
            let moduli: [RingModulus] = [
                .powerOfTwo(bitWidth: 1), .powerOfTwo(bitWidth: 32), .powerOfTwo(bitWidth: 33),
                .powerOfTwo(bitWidth: 64), .integer(1 << 62), .integer(1_000_003), .integer((1 << 61) - 1),
            ]
            var groups: [Group] = []
            var id = 0
            for modulus in moduli {
                let maximum = MaskPrg.maximumElementCount(for: modulus)
                var tests: [Test] = []
                func add(_ comment: String, offset: Int, count: Int, stream: UInt32 = 0) throws {
                    id += 1
                    var test = Test(
                        tcId: id, comment: comment, seed: Hex.encode(rng.bytes(count: 32)), stream: stream,
                        elementOffset: offset, elementCount: count, result: "valid")
                    switch MaskLimitVectors.run(test, modulus: modulus) {
                    case let .success(elements): test.elements = elements
                    case let .failure(error):
                        guard error.name == "maskLengthExceedsCounterSpace" else {
                            throw VectorError.malformedFile(file: relativePath, reason: "case \(id): \(error.name)")
                        }
                        test.result = "invalid"
                        test.error = error.name
                    }
                    tests.append(test)
                }
                if modulus.isPowerOfTwo {
                    let perBlock = 64 / modulus.wordByteCount
                    try add(
                        "the last \(perBlock) elements: all of block 2^32 − 1", offset: maximum - perBlock,
                        count: perBlock)
                    try add("the last element, on stream 7", offset: maximum - 1, count: 1, stream: 7)
                    try add("one element past the end", offset: maximum - perBlock + 1, count: perBlock)
                    try add("starting at the end", offset: maximum, count: 1)
                }
                try add("maximum + 1 elements from the start", offset: 0, count: maximum + 1)
                try add("2^62 elements", offset: 0, count: 1 << 62)
                let bits = modulus.elementBitWidth
                groups.append(
                    Group(
                        modulusKind: modulus.isPowerOfTwo && modulus.modulusValue != 1 << 62 ? "powerOfTwo" : "integer",
                        bitWidth: modulus.isPowerOfTwo && modulus.modulusValue != 1 << 62 ? bits : nil,
                        q: modulus.isPowerOfTwo && modulus.modulusValue != 1 << 62
                            ? nil : modulus.modulusValue.map(String.init),
                        elementBitWidth: bits, wordByteCount: modulus.wordByteCount, maximumElementCount: maximum,
                        tests: tests))
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: MaskLimitVectors.algorithm, generator: PrimitiveVectors.generatorNote(label),
                    header: "Mask PRG limits (SPEC.md §4.5): one (seed, stream) has 2^32 ChaCha20 blocks, so at most "
                        + "2^38 / W elements (half that with rejection sampling). Valid: the mask elements "
                        + "elementOffset ..< elementOffset + elementCount (random access, §4.3), decimal. Invalid: "
                        + "the request must be rejected with maskLengthExceedsCounterSpace before any keystream is "
                        + "produced.",
                    testGroups: groups, testCount: id))
        }
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { MaskLimitVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for group in file.testGroups {
                guard let modulus = MaskLimitVectors.modulus(group) else {
                    throw VectorError.malformedFile(file: fileName, reason: "modulus")
                }
                let limitsAgree =
                    MaskPrg.maximumElementCount(for: modulus) == group.maximumElementCount
                    && modulus.elementBitWidth == group.elementBitWidth && modulus.wordByteCount == group.wordByteCount
                for test in group.tests {
                    try reader.result(test.result, caseId: test.tcId)
                    let outcome = MaskLimitVectors.run(test, modulus: modulus)
                    let passed: Bool
                    switch outcome {
                    case let .success(elements): passed = test.result == "valid" && elements == test.elements
                    case let .failure(error): passed = test.result == "invalid" && error.name == test.error
                    }
                    recorder.record(test.tcId, passed && limitsAgree, "got \(outcome)")
                }
            }
            return recorder.results
        }
    }
}
