import Foundation
import SecAggCrypto
import SecAggQuantization

/// `quantization/decoding.json`: decoding an aggregate (SPEC.md §7.4) — the centred embedding of signed integers
/// and back, the decoded sum and mean (weighted or not) of aggregates summed from quantized client updates, and
/// the rejections with their ``QuantizationError`` case.
enum DecodingVectors {
    static let algorithm = "secagg-aggregate-decoding"
    static let relativePath = "quantization/decoding.json"

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        /// `embed` (signed integers → elements), `centre` (elements → signed integers), `sum` or `mean`.
        var operation: String
        /// Decimal strings: signed integers for `embed`, ring elements otherwise (the aggregate for sum and mean).
        var input: [String]
        /// `sum` and `mean`: n_incl.
        var includedClientCount: Int?
        /// `embed`, `centre`: decimal strings.
        var output: [String]?
        /// `sum`, `mean`: the decoded values (model coordinates only, the weight coordinate dropped).
        var values: [Double]?
        /// `mean` of a weighted plan: the total weight T.
        var totalWeight: Int?
        var result: String
        /// Invalid cases: the ``QuantizationError`` case name, and the coordinate it names when it names one.
        var error: String?
        var errorIndex: Int?
    }

    struct Group: Codable, Sendable {
        var clientCount: Int
        var clipRange: Double
        var modulus: String
        var scale: Double
        var maximumWeight: Int?
        var rounding: String
        /// H = ⌊(R − 1)/2⌋ and B = ⌈fl(fl(c · W) · s)⌉ (decimal strings), for reference.
        var centeredBound: String
        var elementBound: String
        var tests: [Test]
    }

    static func plan(_ group: Group) throws -> QuantizationPlan {
        guard let modulus = parseModulus(group.modulus),
            let rounding = QuantizationPlan.Rounding(rawValue: group.rounding)
        else { throw VectorError.malformedFile(file: relativePath, reason: "modulus or rounding") }
        return try QuantizationPlan(
            clientCount: group.clientCount, clipRange: group.clipRange, modulus: modulus, scale: group.scale,
            maximumWeight: group.maximumWeight, rounding: rounding)
    }

    /// What the implementation computes for one test: outputs or the error with its index.
    struct Outcome: Equatable {
        var output: [String]?
        var values: [Double]?
        var totalWeight: Int?
        var error: String?
        var errorIndex: Int?
    }

    static func run(_ test: Test, plan: QuantizationPlan) -> Outcome {
        func failure(_ error: QuantizationError) -> Outcome {
            let index: Int? =
                switch error {
                case let .elementOutOfRange(index, _), let .aggregateOutOfRange(index): index
                default: nil
                }
            return Outcome(error: QuantizationVectors.name(of: error), errorIndex: index)
        }
        do throws(QuantizationError) {
            switch test.operation {
            case "embed":
                let integers = test.input.compactMap(Int64.init)
                return Outcome(output: integers.map { String(plan.embed($0)) })
            case "centre":
                let elements = test.input.compactMap(UInt64.init)
                return Outcome(output: elements.map { String(plan.centeredValue($0)) })
            case "sum":
                let aggregate = test.input.compactMap(UInt64.init)
                return Outcome(
                    values: try plan.decodeSum(aggregate, includedClientCount: test.includedClientCount ?? 0))
            default:
                let aggregate = test.input.compactMap(UInt64.init)
                let included = test.includedClientCount ?? 0
                let values = try plan.decodeMean(aggregate, includedClientCount: included)
                let total = plan.isWeighted ? try plan.decodeTotalWeight(aggregate, includedClientCount: included) : nil
                return Outcome(values: values, totalWeight: total)
            }
        } catch {
            return failure(error)
        }
    }

    struct Generator: VectorGenerator {
        var relativePath: String { DecodingVectors.relativePath }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/aggregate-decoding"
            var rng = ProtocolVectors.generator(label: label)
            let plans: [QuantizationPlan] = [
                try .plan(clientCount: 5, clipRange: 1, bitWidth: 16),
                try .plan(clientCount: 4, clipRange: 2, modulus: .integer(1_000_003), rounding: .nearest),
                try .plan(clientCount: 3, clipRange: 1, bitWidth: 32, maximumWeight: 100),
                try .plan(clientCount: 10, clipRange: 0.5, bitWidth: 64),
            ]
            var groups: [Group] = []
            var id = 0
            for plan in plans {
                let r = plan.modulus.modulusValue
                let h = plan.centeredBound
                let b = plan.elementBound
                let n = plan.clientCount
                var tests: [Test] = []
                func add(_ comment: String, _ operation: String, _ input: [String], included: Int? = nil) {
                    id += 1
                    var test = Test(
                        tcId: id, comment: comment, operation: operation, input: input, includedClientCount: included,
                        result: "valid")
                    let outcome = DecodingVectors.run(test, plan: plan)
                    if let error = outcome.error {
                        test.result = "invalid"
                        test.error = error
                        test.errorIndex = outcome.errorIndex
                    } else {
                        test.output = outcome.output
                        test.values = outcome.values
                        test.totalWeight = outcome.totalWeight
                    }
                    tests.append(test)
                }
                // The centred embedding, both ways, at the edges of [−H, H].
                let hSigned = Int64(h)
                add(
                    "embed: 0, ±1, ±B, ±H", "embed",
                    [0, 1, -1, Int64(b), -Int64(b), hSigned, -hSigned].map(String.init))
                let top = r.map { $0 - 1 } ?? .max
                add("centre: 0, 1, H, H + 1, R − 1", "centre", [0, 1, h, h + 1, top].map(String.init))
                // Aggregates summed from quantized client updates.
                let d = 6
                var clients: [[UInt64]] = []
                var weights: [Int] = []
                for _ in 0..<n {
                    let values = (0..<d).map { _ in (rng.nextUnitDouble() * 2.4 - 1.2) * plan.clipRange }
                    let weight = plan.isWeighted ? 1 + Int(rng.next(below: UInt64(plan.weightBound))) : 1
                    weights.append(weight)
                    clients.append(try plan.quantize(values, weight: weight, using: &rng).elements)
                }
                func sum(_ count: Int) -> [UInt64] {
                    var total = [UInt64](repeating: 0, count: clients[0].count)
                    for client in clients.prefix(count) {
                        for i in total.indices { total[i] = plan.modulus.add(total[i], client[i]) }
                    }
                    return total
                }
                for count in [1, n] {
                    let aggregate = sum(count).map(String.init)
                    add("sum of \(count) quantized updates", "sum", aggregate, included: count)
                    add("mean of \(count) quantized updates", "mean", aggregate, included: count)
                }
                // Coordinates exactly at ±n_incl · B, then one beyond.
                var extreme = [UInt64](repeating: 0, count: plan.vectorLength(valueCount: 2))
                extreme[0] = plan.embed(Int64(n) * Int64(b))
                extreme[1] = plan.embed(-Int64(n) * Int64(b))
                if plan.isWeighted { extreme[2] = UInt64(n) }
                add("coordinates at ±n_incl · B", "sum", extreme.map(String.init), included: n)
                add("coordinates at ±n_incl · B", "mean", extreme.map(String.init), included: n)
                var beyond = extreme
                beyond[1] = plan.embed(-Int64(n) * Int64(b) - 1)
                add("coordinate 1 at −(n_incl · B + 1)", "sum", beyond.map(String.init), included: n)
                var smaller = extreme
                smaller[0] = plan.embed(Int64(n - 1) * Int64(b) + 1)
                add(
                    "coordinate 0 above (n_incl − 1) · B with one client fewer", "sum", smaller.map(String.init),
                    included: n - 1)
                let aggregate = sum(n).map(String.init)
                add("included client count 0", "sum", aggregate, included: 0)
                add("included client count n + 1", "mean", aggregate, included: n + 1)
                if let r, !plan.modulus.isPowerOfTwo {
                    var outside = sum(n)
                    outside[3] = r
                    add("element 3 equals q", "sum", outside.map(String.init), included: n)
                }
                if plan.isWeighted {
                    var zero = extreme
                    zero[0] = 0
                    zero[1] = 0
                    zero[2] = 0
                    add("weighted mean with total weight 0", "mean", zero.map(String.init), included: n)
                    add(
                        "weighted sum with total weight 0 (the sum does not read T)", "sum", zero.map(String.init),
                        included: n)
                    var heavy = extreme
                    heavy[2] = UInt64(n * plan.weightBound + 1)
                    add("total weight above n_incl · W", "mean", heavy.map(String.init), included: n)
                    var negative = extreme
                    negative[2] = plan.embed(-1)
                    add("negative total weight", "mean", negative.map(String.init), included: n)
                    var both = beyond
                    both[2] = 0
                    add(
                        "coordinate 1 out of range and total weight 0: the coordinate is reported", "mean",
                        both.map(String.init), included: n)
                }
                groups.append(
                    Group(
                        clientCount: plan.clientCount, clipRange: plan.clipRange, modulus: plan.modulus.description,
                        scale: plan.scale, maximumWeight: plan.maximumWeight, rounding: plan.rounding.rawValue,
                        centeredBound: String(h), elementBound: String(b), tests: tests))
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: DecodingVectors.algorithm,
                    generator: "secagg vectors generate (Sources/SecAggVectors/Quantization); client values, weights "
                        + "and rounding draws from DeterministicRandomGenerator with seed SHA-256(\"\(label)\") "
                        + "(SPEC.md §2.6), plans from SecAggQuantization.QuantizationPlan.plan",
                    header: "Decoding an aggregate (SPEC.md §7.4). A group is a plan (modulus as 2^b or q=Q). embed: "
                        + "signed integers to ring elements (z mod R); centre: elements to signed integers (v if v <= "
                        + "H, else v - R); sum and mean: the aggregate (decimal elements, weight coordinate last when "
                        + "weighted) with n_incl -> values (binary64, exact), and totalWeight for a weighted mean. "
                        + "Invalid: error is the QuantizationError case of the first failing check of §7.4, errorIndex "
                        + "the coordinate it names.",
                    testGroups: groups, testCount: id))
        }
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { DecodingVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for group in file.testGroups {
                let plan = try DecodingVectors.plan(group)
                for test in group.tests {
                    try reader.result(test.result, caseId: test.tcId)
                    let outcome = DecodingVectors.run(test, plan: plan)
                    let expected = Outcome(
                        output: test.output, values: test.values, totalWeight: test.totalWeight, error: test.error,
                        errorIndex: test.errorIndex)
                    recorder.record(
                        test.tcId, outcome == expected,
                        "got \(outcome.error ?? "values") \(outcome.output ?? []) \(outcome.values ?? [])")
                }
            }
            return recorder.results
        }
    }
}
