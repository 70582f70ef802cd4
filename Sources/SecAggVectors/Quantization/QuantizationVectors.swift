import Foundation
import SecAggCrypto
import SecAggQuantization
import SecureAggregation

/// Known-answer vectors for quantization: bit packing (the engine's wire layer), planning, quantization
/// (Vectors/quantization/*.json) and the numpy/safetensors fixtures (Vectors/files/fixtures.json).
public enum QuantizationVectors {
    /// Checkers for every quantization vector file.
    public static let suites: [any VectorSuite] = [
        PackingSuite(), PlanningSuite(), QuantizingSuite(), ModelFileSuite(), DecodingVectors.Suite(),
        TensorLayoutVectors.Suite(),
    ]
    /// Producers of the self-generated files (the fixtures come from Vectors/files/make_fixtures.py).
    public static let generators: [any VectorGenerator] = [
        PackingGenerator(), PlanningGenerator(), QuantizingGenerator(), DecodingVectors.Generator(),
        TensorLayoutVectors.Generator(),
    ]

    /// The case name of a quantization error, as vector files store it (SPEC.md §7, §16).
    static func name(of error: QuantizationError) -> String { error.caseName }
}

// MARK: Shared encoding

/// The envelope every file uses.
struct Envelope<Group: Codable>: Codable {
    var algorithm: String
    var schemaVersion = "secagg-vectors-v1"
    var specVersion = VectorEnvelope<[String]>.currentSpecVersion
    var generator: String
    var header: String
    var numberOfTests: Int
    var testGroups: [Group]
}

func encodeEnvelope<G: Codable>(_ envelope: Envelope<G>) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(envelope) + Data("\n".utf8)
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String($0 >> 4, radix: 16) + String($0 & 0xF, radix: 16) }.joined()
}

func bytesFromHex(_ text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(digits.count / 2)
    var i = 0
    while i < digits.count {
        guard let hi = hexValue(digits[i]), let lo = hexValue(digits[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
        i += 2
    }
    return out
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: c - 0x30
    case 0x61...0x66: c - 0x61 + 10
    default: nil
    }
}

/// "2^13" or "q=1000003" (RingModulus.description) back to a modulus.
func parseModulus(_ text: String) -> RingModulus? {
    if text.hasPrefix("2^"), let b = Int(text.dropFirst(2)) { return .powerOfTwo(bitWidth: b) }
    if text.hasPrefix("q="), let q = UInt64(text.dropFirst(2)) { return .integer(q) }
    return nil
}

func decodeFile<G: Codable>(_ data: Data, fileName: String, as _: G.Type) throws -> Envelope<G> {
    do {
        return try JSONDecoder().decode(Envelope<G>.self, from: data)
    } catch {
        throw VectorError.malformedFile(file: fileName, reason: "\(error)")
    }
}

// MARK: Bit packing

struct PackingGroup: Codable {
    struct Test: Codable {
        var tcId: Int
        var comment: String
        var count: Int
        /// Elements as decimal strings (64-bit values do not survive JSON numbers).
        var elements: [String]?
        var packedHex: String
        var result: String
        var error: String?
    }
    var modulus: String
    var elementBitWidth: Int
    var tests: [Test]
}

struct PackingSuite: VectorSuite {
    var name: String { "bit packing" }
    func accepts(_ header: VectorFileHeader, fileName: String) -> Bool { header.algorithm == "secagg-bit-packing" }

    func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
        let file = try decodeFile(data, fileName: fileName, as: PackingGroup.self)
        var results: [VectorCaseResult] = []
        for group in file.testGroups {
            guard let modulus = parseModulus(group.modulus) else {
                throw VectorError.malformedFile(file: fileName, reason: "modulus \(group.modulus)")
            }
            for test in group.tests {
                guard let packed = bytesFromHex(test.packedHex) else {
                    throw VectorError.malformedFile(file: fileName, reason: "hex in case \(test.tcId)")
                }
                let outcome = Result { () throws(BitPackingError) in
                    try BitPacking.unpack(packed, count: test.count, modulus: modulus)
                }
                var passed: Bool
                var message = ""
                switch (outcome, test.result) {
                case let (.success(values), "valid"):
                    let expected = (test.elements ?? []).compactMap(UInt64.init)
                    let repacked = try? BitPacking.pack(expected, modulus: modulus)
                    passed =
                        values == expected && repacked == packed
                        && modulus.elementBitWidth == group.elementBitWidth
                    if !passed { message = "unpack or pack differs" }
                case let (.failure(error), "invalid"):
                    passed = true
                    message = error.description
                case let (.failure(error), _):
                    passed = false
                    message = "unexpected error: \(error)"
                default:
                    passed = false
                    message = "invalid encoding was accepted"
                }
                results.append(VectorCaseResult(file: fileName, caseId: test.tcId, passed: passed, message: message))
            }
        }
        return results
    }
}

struct PackingGenerator: VectorGenerator {
    var relativePath: String { "quantization/packing.json" }

    func generate() throws -> Data {
        let moduli: [RingModulus] = [
            .powerOfTwo(bitWidth: 1), .powerOfTwo(bitWidth: 7), .powerOfTwo(bitWidth: 8), .powerOfTwo(bitWidth: 13),
            .powerOfTwo(bitWidth: 16), .powerOfTwo(bitWidth: 20), .powerOfTwo(bitWidth: 32), .powerOfTwo(bitWidth: 33),
            .powerOfTwo(bitWidth: 61), .powerOfTwo(bitWidth: 64), .integer(3), .integer(1_000_003),
            .integer(4_294_967_291), .integer((1 << 61) - 1),
        ]
        var groups: [PackingGroup] = []
        var id = 0
        for modulus in moduli {
            var rng = DeterministicRandomGenerator(testLabel: "packing \(modulus)")
            var tests: [PackingGroup.Test] = []
            let r = modulus.modulusValue
            for count in [0, 1, 5, 17] {
                var values = (0..<count).map { _ in r.map { rng.next(below: $0) } ?? rng.next(UInt64.self) }
                // Include the extremes 0 and R − 1.
                if count >= 5 {
                    values[0] = 0
                    values[1] = r.map { $0 - 1 } ?? .max
                }
                id += 1
                tests.append(
                    .init(
                        tcId: id, comment: "\(count) random elements", count: count,
                        elements: values.map(String.init),
                        packedHex: hexString(try BitPacking.pack(values, modulus: modulus)),
                        result: "valid"))
            }
            let values = (0..<5).map { _ in r.map { rng.next(below: $0) } ?? rng.next(UInt64.self) }
            let packed = try BitPacking.pack(values, modulus: modulus)
            id += 1
            tests.append(
                .init(
                    tcId: id, comment: "one trailing byte", count: 5, packedHex: hexString(packed + [0]),
                    result: "invalid", error: "packedByteCountMismatch"))
            id += 1
            tests.append(
                .init(
                    tcId: id, comment: "one byte short", count: 5, packedHex: hexString(Array(packed.dropLast())),
                    result: "invalid", error: "packedByteCountMismatch"))
            if (5 * modulus.elementBitWidth) % 8 != 0 {
                var padded = packed
                padded[padded.count - 1] |= 0x80
                id += 1
                tests.append(
                    .init(
                        tcId: id, comment: "non-zero padding bit", count: 5, packedHex: hexString(padded),
                        result: "invalid", error: "nonzeroPadding"))
            }
            if let r, !modulus.isPowerOfTwo {
                // The element r itself in slot 2, written with the raw bit layout.
                var raw = values
                raw[2] = r
                let wide = RingModulus.powerOfTwo(bitWidth: modulus.elementBitWidth)
                id += 1
                tests.append(
                    .init(
                        tcId: id, comment: "element equal to q", count: 5,
                        packedHex: hexString(try BitPacking.pack(raw, modulus: wide)), result: "invalid",
                        error: "elementOutOfRange"))
            }
            groups.append(
                PackingGroup(modulus: modulus.description, elementBitWidth: modulus.elementBitWidth, tests: tests))
        }
        return try encodeEnvelope(
            Envelope(
                algorithm: "secagg-bit-packing",
                generator: "SecAggVectors PackingGenerator (DeterministicRandomGenerator, label \"packing <modulus>\")",
                header: "Bit-packed vector encoding (SPEC.md section 8): elements LSB-first at elementBitWidth bits.",
                numberOfTests: id, testGroups: groups))
    }
}

// MARK: Planning

struct PlanningGroup: Codable {
    struct Test: Codable {
        var tcId: Int
        var comment: String
        var clientCount: Int
        var clipRange: Double
        var modulus: String
        var maximumWeight: Int?
        var rounding: String
        var scale: Double?
        var elementBound: String?
        var worstCaseMeanError: Double?
        var result: String
        /// Invalid cases: the ``QuantizationError`` case name.
        var error: String?
        /// `invalidPlanParameter`: which parameter.
        var parameter: String?
        /// `wrapUnavoidable`: the least bit width that would work (absent when more than 64) and the largest
        /// client count for this ring and weight.
        var minimumBitWidth: Int?
        var maximumClientCount: Int?
    }
    var tests: [Test]
}

/// The typed fields of a planning error as the file stores them.
private func planningErrorFields(_ error: QuantizationError) -> (String, String?, Int?, Int?) {
    switch error {
    case let .invalidPlanParameter(name, _): ("invalidPlanParameter", name, nil, nil)
    case let .wrapUnavoidable(_, _, _, minimumBitWidth, maximumClientCount):
        ("wrapUnavoidable", nil, minimumBitWidth, maximumClientCount)
    default: (QuantizationVectors.name(of: error), nil, nil, nil)
    }
}

private func planFor(_ test: PlanningGroup.Test) -> Result<QuantizationPlan, QuantizationError>? {
    guard let modulus = parseModulus(test.modulus), let rounding = QuantizationPlan.Rounding(rawValue: test.rounding)
    else { return nil }
    return Result { () throws(QuantizationError) in
        try QuantizationPlan.plan(
            clientCount: test.clientCount, clipRange: test.clipRange, modulus: modulus,
            maximumWeight: test.maximumWeight, rounding: rounding)
    }
}

struct PlanningSuite: VectorSuite {
    var name: String { "quantization planning" }
    func accepts(_ header: VectorFileHeader, fileName: String) -> Bool {
        header.algorithm == "secagg-quantization-plan"
    }

    func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
        let file = try decodeFile(data, fileName: fileName, as: PlanningGroup.self)
        return try file.testGroups.flatMap(\.tests).map { test in
            guard let outcome = planFor(test) else {
                throw VectorError.malformedFile(file: fileName, reason: "case \(test.tcId) modulus or rounding")
            }
            switch (outcome, test.result) {
            case let (.success(plan), "valid"):
                let passed =
                    plan.scale == test.scale && String(plan.elementBound) == test.elementBound
                    && plan.worstCaseMeanError == test.worstCaseMeanError
                return VectorCaseResult(
                    file: fileName, caseId: test.tcId, passed: passed,
                    message: passed ? "" : "planned scale \(plan.scale) differs")
            case let (.failure(error), "invalid"):
                let (name, parameter, minimumBitWidth, maximumClientCount) = planningErrorFields(error)
                let passed =
                    name == test.error && parameter == test.parameter && minimumBitWidth == test.minimumBitWidth
                    && maximumClientCount == test.maximumClientCount
                return VectorCaseResult(
                    file: fileName, caseId: test.tcId, passed: passed,
                    message: passed ? "" : "rejected with \(error), expected \(test.error ?? "?")")
            case let (.failure(error), _):
                return VectorCaseResult(file: fileName, caseId: test.tcId, passed: false, message: error.description)
            default:
                return VectorCaseResult(file: fileName, caseId: test.tcId, passed: false, message: "plan was accepted")
            }
        }
    }
}

struct PlanningGenerator: VectorGenerator {
    var relativePath: String { "quantization/planning.json" }

    func generate() throws -> Data {
        let cases: [(Int, Double, RingModulus, Int?, String, String)] = [
            (100, 1, .powerOfTwo(bitWidth: 16), nil, "stochastic", "closing-note figure"),
            (1_000, 1, .powerOfTwo(bitWidth: 32), nil, "stochastic", "closing-note figure"),
            (100_000, 8, .powerOfTwo(bitWidth: 32), nil, "stochastic", "closing-note figure"),
            (100, 1, .powerOfTwo(bitWidth: 16), nil, "nearest", "nearest rounding"),
            (10, 0.1, .powerOfTwo(bitWidth: 20), nil, "stochastic", "clip 0.1: inexact quotient"),
            (3, 3, .powerOfTwo(bitWidth: 5), nil, "stochastic", "tiny ring"),
            (1, 1, .powerOfTwo(bitWidth: 2), nil, "stochastic", "smallest ring that works"),
            (1_000, 0.5, .powerOfTwo(bitWidth: 64), nil, "stochastic", "64-bit ring"),
            (1, 1e-3, .powerOfTwo(bitWidth: 64), nil, "stochastic", "M rounds up in Float64"),
            (500, 2, .integer(1_000_003), nil, "stochastic", "Z_q"),
            (7, 1, .integer(4_294_967_291), nil, "nearest", "Z_q near 2^32"),
            (100, 1, .powerOfTwo(bitWidth: 32), 1_000, "stochastic", "FedAvg weights up to 1000"),
            (1_000, 0.25, .integer((1 << 61) - 1), 65_536, "stochastic", "FedAvg over Z_q"),
            (100, 1, .powerOfTwo(bitWidth: 16), 327, "stochastic", "weight coordinate exactly fills H"),
            (100, 1, .powerOfTwo(bitWidth: 16), 328, "stochastic", "weight coordinate would wrap"),
            (100_000, 1, .powerOfTwo(bitWidth: 16), nil, "stochastic", "more clients than H"),
            (2, 1, .powerOfTwo(bitWidth: 2), nil, "stochastic", "H = 1 < n"),
            (1, 1, .powerOfTwo(bitWidth: 1), nil, "stochastic", "H = 0"),
            (1, 1, .integer(2), nil, "stochastic", "q = 2: H = 0"),
            (0, 1, .powerOfTwo(bitWidth: 32), nil, "stochastic", "zero clients"),
            (10, 0, .powerOfTwo(bitWidth: 32), nil, "stochastic", "zero clip range"),
            (10, 1, .powerOfTwo(bitWidth: 32), 0, "stochastic", "maximum weight 0"),
            (10, 1, .powerOfTwo(bitWidth: 64), 1 << 53 + 1, "stochastic", "maximum weight above 2^53"),
            (1 << 62, 1, .powerOfTwo(bitWidth: 64), 4, "stochastic", "n · W above 2^63: no ring up to 64 bits works"),
            (10, 1, .powerOfTwo(bitWidth: 65), nil, "stochastic", "bit width 65"),
            (10, 1, .integer(1), nil, "stochastic", "q = 1"),
            (0, 0, .powerOfTwo(bitWidth: 0), nil, "stochastic", "three bad parameters: the modulus is checked first"),
            (0, -1, .powerOfTwo(bitWidth: 32), nil, "stochastic", "two bad parameters: clientCount before clipRange"),
        ]
        var tests: [PlanningGroup.Test] = []
        for (i, c) in cases.enumerated() {
            var test = PlanningGroup.Test(
                tcId: i + 1, comment: c.5, clientCount: c.0, clipRange: c.1,
                modulus: c.2.description, maximumWeight: c.3, rounding: c.4, result: "valid")
            switch planFor(test) {
            case let .success(plan)?:
                test.scale = plan.scale
                test.elementBound = String(plan.elementBound)
                test.worstCaseMeanError = plan.worstCaseMeanError
            case let .failure(error)?:
                test.result = "invalid"
                (test.error, test.parameter, test.minimumBitWidth, test.maximumClientCount) = planningErrorFields(
                    error)
            case nil:
                throw VectorError.malformedFile(file: relativePath, reason: "generator case \(i + 1)")
            }
            tests.append(test)
        }
        return try encodeEnvelope(
            Envelope(
                algorithm: "secagg-quantization-plan", generator: "SecAggVectors PlanningGenerator",
                header: "Largest safe scale s = M / fl(c·W), M = floor(H/n), lowered by ulps until fl(fl(c·W)·s) <= M "
                    + "(SPEC.md section 7.3); invalid cases can wrap at every positive scale or have bad parameters: "
                    + "error is the QuantizationError case (invalidModulus, invalidPlanParameter with parameter, "
                    + "wrapUnavoidable with minimumBitWidth (absent above 64) and maximumClientCount), the first "
                    + "check of section 7.3 that fails.",
                numberOfTests: tests.count, testGroups: [PlanningGroup(tests: tests)]))
    }
}

// MARK: Quantizing

struct QuantizingGroup: Codable {
    struct Test: Codable {
        var tcId: Int
        var comment: String
        var seedHex: String
        var weight: Int
        var values: [Double]
        var elements: [String]?
        var clippedCount: Int?
        var result: String
        var error: String?
    }
    var clientCount: Int
    var clipRange: Double
    var modulus: String
    var scale: Double
    var maximumWeight: Int?
    var rounding: String
    var tests: [Test]
}

private func quantizeCase(_ group: QuantizingGroup, _ test: QuantizingGroup.Test) throws -> Result<
    QuantizedUpdate, QuantizationError
> {
    guard let modulus = parseModulus(group.modulus), let rounding = QuantizationPlan.Rounding(rawValue: group.rounding),
        let seed = bytesFromHex(test.seedHex)
    else { throw VectorError.malformedFile(file: "quantization", reason: "case \(test.tcId)") }
    let plan = try QuantizationPlan(
        clientCount: group.clientCount, clipRange: group.clipRange, modulus: modulus,
        scale: group.scale, maximumWeight: group.maximumWeight, rounding: rounding)
    var rng = try DeterministicRandomGenerator(seed: seed)
    return Result { () throws(QuantizationError) in try plan.quantize(test.values, weight: test.weight, using: &rng) }
}

struct QuantizingSuite: VectorSuite {
    var name: String { "quantization" }
    func accepts(_ header: VectorFileHeader, fileName: String) -> Bool { header.algorithm == "secagg-quantization" }

    func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
        let file = try decodeFile(data, fileName: fileName, as: QuantizingGroup.self)
        var results: [VectorCaseResult] = []
        for group in file.testGroups {
            for test in group.tests {
                let outcome = try quantizeCase(group, test)
                let passed: Bool
                switch (outcome, test.result) {
                case let (.success(update), "valid"):
                    passed =
                        update.elements.map(String.init) == test.elements && update.clippedCount == test.clippedCount
                case let (.failure(error), "invalid"): passed = QuantizationVectors.name(of: error) == test.error
                default: passed = false
                }
                results.append(
                    VectorCaseResult(
                        file: fileName, caseId: test.tcId, passed: passed,
                        message: passed ? "" : "quantized elements differ"))
            }
        }
        return results
    }
}

struct QuantizingGenerator: VectorGenerator {
    var relativePath: String { "quantization/quantization.json" }

    func generate() throws -> Data {
        let plans: [QuantizationPlan] = [
            try .plan(clientCount: 100, clipRange: 1, bitWidth: 16),
            try .plan(clientCount: 100, clipRange: 1, bitWidth: 16, rounding: .nearest),
            try .plan(clientCount: 1_000, clipRange: 0.5, modulus: .integer(1_000_003)),
            try .plan(clientCount: 50, clipRange: 2, bitWidth: 32, maximumWeight: 1_000),
            try .plan(clientCount: 10, clipRange: 1, bitWidth: 64, rounding: .nearest),
        ]
        var groups: [QuantizingGroup] = []
        var id = 0
        for (p, plan) in plans.enumerated() {
            var group = QuantizingGroup(
                clientCount: plan.clientCount, clipRange: plan.clipRange,
                modulus: plan.modulus.description, scale: plan.scale, maximumWeight: plan.maximumWeight,
                rounding: plan.rounding.rawValue, tests: [])
            var source = DeterministicRandomGenerator(testLabel: "quantization inputs \(p)")
            let c = plan.clipRange
            let inputs: [(String, [Double], Int)] = [
                (
                    "edges: 0, ±c, beyond ±c, tiny", [0, c, -c, 1.5 * c, -3 * c, 1e-9, -1e-9, c.nextDown],
                    plan.weightBound
                ),
                (
                    "16 uniform values in [-1.2c, 1.2c]",
                    (0..<16).map { _ in (source.nextUnitDouble() * 2.4 - 1.2) * c }, 1
                ),
                ("half-unit ties", [0.5, 1.5, -0.5, -2.5].map { $0 / plan.scale }, plan.isWeighted ? 0 : 1),
            ]
            for (comment, values, weight) in inputs {
                id += 1
                let seed = source.bytes(count: 32)
                var test = QuantizingGroup.Test(
                    tcId: id, comment: comment, seedHex: hexString(seed), weight: weight,
                    values: values, result: "valid")
                switch try quantizeCase(group, test) {
                case let .success(update):
                    test.elements = update.elements.map(String.init)
                    test.clippedCount = update.clippedCount
                case let .failure(error):
                    throw VectorError.malformedFile(file: relativePath, reason: error.description)
                }
                group.tests.append(test)
            }
            id += 1
            group.tests.append(
                .init(
                    tcId: id, comment: "weight above the maximum", seedHex: hexString(source.bytes(count: 32)),
                    weight: plan.weightBound + 1, values: [0.25], result: "invalid", error: "weightOutOfRange"))
            groups.append(group)
        }
        return try encodeEnvelope(
            Envelope(
                algorithm: "secagg-quantization",
                generator: "SecAggVectors QuantizingGenerator (inputs and seeds from DeterministicRandomGenerator)",
                header: "Clip, weight, scale, round (stochastic: one LE64 word per coordinate from the DRBG seeded "
                    + "with seedHex) and embed (SPEC.md section 7.2); elements as decimal strings.",
                numberOfTests: id, testGroups: groups))
    }
}

// MARK: Model files

struct ModelFileGroup: Codable {
    struct Tensor: Codable {
        var name: String
        var dtype: String
        var shape: [Int]
        var values: [Double]
    }
    struct Test: Codable {
        var tcId: Int
        var comment: String
        var file: String
        var format: String
        var fileHex: String
        var tensors: [Tensor]
        var metadata: [String: String]?
        var result: String
    }
    var tests: [Test]
}

struct ModelFileSuite: VectorSuite {
    var name: String { "model-update files" }
    func accepts(_ header: VectorFileHeader, fileName: String) -> Bool { header.algorithm == "secagg-model-files" }

    func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
        let file = try decodeFile(data, fileName: fileName, as: ModelFileGroup.self)
        return try file.testGroups.flatMap(\.tests).map { test in
            guard let bytes = bytesFromHex(test.fileHex) else {
                throw VectorError.malformedFile(file: fileName, reason: "hex in case \(test.tcId)")
            }
            let decoded: [NamedTensor]
            do {
                if test.format == "npy" {
                    decoded = [try NpyFile.read(bytes, name: (test.file as NSString).deletingPathExtension)]
                } else {
                    let contents = try SafeTensorsFile.read(bytes)
                    guard contents.metadata == (test.metadata ?? [:]) else {
                        return VectorCaseResult(file: fileName, caseId: test.tcId, passed: false, message: "metadata")
                    }
                    decoded = contents.tensors
                }
            } catch {
                return VectorCaseResult(
                    file: fileName, caseId: test.tcId, passed: test.result == "invalid",
                    message: "\(error)")
            }
            let passed =
                test.result == "valid" && decoded.count == test.tensors.count
                && zip(decoded, test.tensors).allSatisfy {
                    $0.name == $1.name && $0.dtype.rawValue == $1.dtype && $0.shape == $1.shape
                        && $0.values == $1.values
                }
            return VectorCaseResult(
                file: fileName, caseId: test.tcId, passed: passed,
                message: passed ? "" : "\(test.file) decodes differently")
        }
    }
}
