import Foundation
import SecAggCrypto

/// `primitives/mask_prg.json`: mask expansion (SPEC.md §4) for many moduli and lengths that cross the
/// 16 KiB keystream chunk; each case stores the first 16 elements and the element digest.
public enum MaskPrgVectors {
    /// The `algorithm` value.
    public static let algorithm = "secagg-mask-prg"
    /// The file path.
    public static let relativePath = "primitives/mask_prg.json"
    /// Power-of-two bit widths covered.
    public static let bitWidths = [1, 8, 16, 24, 31, 32, 33, 48, 62, 64]
    /// Integer moduli covered: rejection sampling with 4- and 8-byte words, plus 2^62 (a power-of-two q).
    public static let integerModuli: [UInt64] = [
        3, 1_000_003, 4_294_967_291, 2_305_843_009_213_693_951, 4_611_686_018_427_387_847, 1 << 62,
    ]
    /// Lengths: 2048 and 4096 elements fill one chunk for 8- and 4-byte words.
    public static let lengths = [1, 16, 2047, 2048, 2049, 4095, 4096, 4097, 100_000]
    /// Elements stored verbatim per case.
    public static let storedElementCount = 16
    /// The largest element count a file may ask for (bounds verification work).
    public static let maximumElementCount = 1 << 22

    struct Group: Codable, Sendable {
        var modulusKind: String
        var bitWidth: Int?
        var q: String?
        var elementBitWidth: Int
        var wordByteCount: Int
        var tests: [Test]
    }

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        var seed: String
        var stream: UInt32
        var elementCount: Int
        var firstElements: [String]
        var elementDigest: String
        var result: String
    }

    /// SHA-256 over the elements, each as 8 little-endian bytes (SPEC.md §4.6).
    public static func elementDigest(_ elements: [UInt64]) -> [UInt8] {
        var hasher = Sha256Hasher()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 * 4096)
        for element in elements {
            appendLittleEndian(element, to: &bytes)
            if bytes.count >= 8 * 4096 {
                hasher.update(bytes)
                bytes.removeAll(keepingCapacity: true)
            }
        }
        hasher.update(bytes)
        return hasher.finalize()
    }

    static func modulus(of group: Group, fileName: String) throws(VectorError) -> RingModulus {
        switch (group.modulusKind, group.bitWidth, group.q) {
        case let ("powerOfTwo", bitWidth?, nil): return .powerOfTwo(bitWidth: bitWidth)
        case let ("integer", nil, q?):
            guard let value = UInt64(q) else { throw .malformedFile(file: fileName, reason: "q is not decimal") }
            return .integer(value)
        default: throw .malformedFile(file: fileName, reason: "bad modulus in group")
        }
    }

    struct Generator: VectorGenerator {
        var relativePath: String { MaskPrgVectors.relativePath }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/mask-prg"
            var rng = PrimitiveVectors.inputGenerator(label)
            let moduli =
                MaskPrgVectors.bitWidths.map { RingModulus.powerOfTwo(bitWidth: $0) }
                + MaskPrgVectors.integerModuli.map { RingModulus.integer($0) }
            var groups: [Group] = []
            var id = 0
            for modulus in moduli {
                var tests: [Test] = []
                for (index, length) in MaskPrgVectors.lengths.enumerated() {
                    id += 1
                    let seed = SecretBytes(randomByteCount: MaskPrg.seedByteCount, using: &rng)
                    // Most cases use stream 0 (as the protocol does); every third uses a nonzero stream.
                    let stream: UInt32 = index % 3 == 2 ? rng.next(UInt32.self) : 0
                    let elements = try MaskPrg(seed: seed, stream: stream).expand(count: length, modulus: modulus)
                    tests.append(
                        Test(
                            tcId: id, comment: "\(modulus), \(length) elements, stream \(stream)",
                            seed: Hex.encode(seed.unsafeExportedBytes()), stream: stream, elementCount: length,
                            firstElements: elements.prefix(MaskPrgVectors.storedElementCount).map { String($0) },
                            elementDigest: Hex.encode(MaskPrgVectors.elementDigest(elements)), result: "valid"))
                }
                var group = Group(
                    modulusKind: "powerOfTwo", bitWidth: nil, q: nil, elementBitWidth: modulus.elementBitWidth,
                    wordByteCount: modulus.wordByteCount, tests: tests)
                switch modulus {
                case let .powerOfTwo(bitWidth): group.bitWidth = bitWidth
                case let .integer(q):
                    group.modulusKind = "integer"
                    group.q = String(q)
                }
                groups.append(group)
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: MaskPrgVectors.algorithm, generator: PrimitiveVectors.generatorNote(label),
                    header:
                        "Mask PRG (SPEC.md §4): elements of PRG(seed, stream) for Z_2^b and Z_q; firstElements are the "
                        + "first 16 elements in decimal, elementDigest is SHA-256 over all elements as LE64.",
                    testGroups: groups, testCount: id))
        }
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { MaskPrgVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for group in file.testGroups {
                let modulus = try MaskPrgVectors.modulus(of: group, fileName: fileName)
                let shapeMatches =
                    (try? modulus.validate()) != nil && group.elementBitWidth == modulus.elementBitWidth
                    && group.wordByteCount == modulus.wordByteCount
                for test in group.tests {
                    let id = test.tcId
                    try reader.result(test.result, caseId: id, allowed: ["valid"])
                    guard (0...MaskPrgVectors.maximumElementCount).contains(test.elementCount) else {
                        throw VectorError.malformedFile(file: fileName, reason: "case \(id): elementCount out of range")
                    }
                    let seed = SecretBytes(copying: try reader.bytes(test.seed, "seed", caseId: id))
                    let first = try test.firstElements.map { (s) throws(VectorError) in
                        try reader.uint64(s, "firstElements", caseId: id)
                    }
                    let digest = try reader.bytes(test.elementDigest, "elementDigest", caseId: id)
                    guard let prg = try? MaskPrg(seed: seed, stream: test.stream),
                        let elements = try? prg.expand(count: test.elementCount, modulus: modulus)
                    else {
                        recorder.record(id, false, "expansion failed")
                        continue
                    }
                    var matches =
                        shapeMatches && Array(elements.prefix(MaskPrgVectors.storedElementCount)) == first
                        && MaskPrgVectors.elementDigest(elements) == digest
                    // The 32-bit storage path must give the same elements.
                    if matches, modulus.elementBitWidth <= 32 {
                        var narrow = [UInt32](repeating: 0, count: test.elementCount)
                        matches =
                            (try? prg.add(into: &narrow, modulus: modulus)) != nil
                            && narrow.map { UInt64($0) } == elements
                    }
                    recorder.record(id, matches, "mask elements or digest mismatch")
                }
            }
            return recorder.results
        }
    }
}
