import Foundation
import SecAggQuantization

/// `quantization/tensor_layout.json`: named tensor layouts (SPEC.md §7.6) — offsets and counts of a layout, its
/// stored JSON form, flattening an update by name and restoring tensors from a flat vector, with the
/// ``QuantizationError`` case of every rejection.
enum TensorLayoutVectors {
    static let algorithm = "secagg-tensor-layout"
    static let relativePath = "quantization/tensor_layout.json"

    struct Tensor: Codable, Sendable, Equatable {
        var name: String
        var shape: [Int]
        var dtype: String
        /// Present in updates (flatten) and restored tensors.
        var values: [Double]?
    }

    struct Entry: Codable, Sendable, Equatable {
        var name: String
        var shape: [Int]
        var dtype: String
        var offset: Int
        var elementCount: Int
    }

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        /// `layout` (tensors → entries), `json` (stored entries → accepted or not), `flatten` (update → flat),
        /// `restore` (flat → tensors).
        var operation: String
        /// The layout's tensors in order (`layout`, `flatten`, `restore`).
        var layout: [Tensor]?
        /// `json`: the stored entries.
        var entries: [Entry]?
        /// `flatten`: the update's tensors, in the order given.
        var update: [Tensor]?
        /// `flatten` output, `restore` input.
        var flat: [Double]?
        /// `layout` output: its entries and total element count; `restore` output: the tensors.
        var expectedEntries: [Entry]?
        var elementCount: Int?
        var tensors: [Tensor]?
        var result: String
        /// Invalid: the ``QuantizationError`` case name and, when it names one, the tensor.
        var error: String?
        var errorTensor: String?
    }

    struct Group: Codable, Sendable {
        var tests: [Test]
    }

    struct Outcome: Equatable {
        var expectedEntries: [Entry]?
        var elementCount: Int?
        var flat: [Double]?
        var tensors: [Tensor]?
        var error: String?
        var errorTensor: String?
    }

    static func dtype(_ name: String) throws(QuantizationError) -> TensorDType {
        guard let dtype = TensorDType(rawValue: name) else {
            throw .invalidLayout(reason: "unknown dtype \(name)")
        }
        return dtype
    }

    static func layout(_ tensors: [Tensor]) throws(QuantizationError) -> TensorLayout {
        var list: [(name: String, shape: [Int], dtype: TensorDType)] = []
        for tensor in tensors { list.append((tensor.name, tensor.shape, try dtype(tensor.dtype))) }
        return try TensorLayout(list)
    }

    static func entries(_ layout: TensorLayout) -> [Entry] {
        layout.entries.map {
            Entry(
                name: $0.name, shape: $0.shape, dtype: $0.dtype.rawValue, offset: $0.offset,
                elementCount: $0.elementCount)
        }
    }

    static func run(_ test: Test) -> Outcome {
        do {
            switch test.operation {
            case "layout":
                let layout = try layout(test.layout ?? [])
                return Outcome(expectedEntries: entries(layout), elementCount: layout.elementCount)
            case "json":
                let json = try JSONEncoder().encode(["entries": test.entries ?? []])
                let layout = try JSONDecoder().decode(TensorLayout.self, from: json)
                return Outcome(expectedEntries: entries(layout), elementCount: layout.elementCount)
            case "flatten":
                let layout = try layout(test.layout ?? [])
                var update: [NamedTensor] = []
                for tensor in test.update ?? [] {
                    // As a transport would hand it over: fields set directly, the value count unchecked.
                    var named = try NamedTensor(name: tensor.name, shape: [], dtype: dtype(tensor.dtype), values: [0])
                    named.shape = tensor.shape
                    named.values = tensor.values ?? []
                    update.append(named)
                }
                return Outcome(flat: try layout.flatten(update))
            default:
                let layout = try layout(test.layout ?? [])
                let tensors = try layout.restore(test.flat ?? [])
                return Outcome(
                    tensors: tensors.map {
                        Tensor(name: $0.name, shape: $0.shape, dtype: $0.dtype.rawValue, values: $0.values)
                    })
            }
        } catch let error as QuantizationError {
            let tensor: String? =
                switch error {
                case let .missingTensor(name), let .unexpectedTensor(name): name
                case let .tensorShapeMismatch(name, _, _), let .tensorDTypeMismatch(name, _, _): name
                case let .tensorValueCountMismatch(name, _, _): name
                default: nil
                }
            return Outcome(error: QuantizationVectors.name(of: error), errorTensor: tensor)
        } catch {
            // A JSON decoding failure of the stored form (missing field): not a layout the suite can judge.
            return Outcome(error: "malformed")
        }
    }

    struct Generator: VectorGenerator {
        var relativePath: String { TensorLayoutVectors.relativePath }

        func generate() throws -> Data {
            let model: [Tensor] = [
                Tensor(name: "conv.weight", shape: [2, 1, 2, 2], dtype: "F32"),
                Tensor(name: "conv.bias", shape: [2], dtype: "F32"),
                Tensor(name: "scale", shape: [], dtype: "F64"),
                Tensor(name: "empty", shape: [3, 0], dtype: "F16"),
                Tensor(name: "fc.weight", shape: [3, 2], dtype: "BF16"),
            ]
            func values(_ tensor: Tensor, base: Double) -> Tensor {
                let count = tensor.shape.reduce(1, *)
                var out = tensor
                out.values = (0..<count).map { base + Double($0) / 4 }
                return out
            }
            let update = model.enumerated().map { values($1, base: Double($0 * 10)) }
            var tests: [Test] = []
            func add(_ comment: String, _ test: Test) {
                var test = test
                test.tcId = tests.count + 1
                test.comment = comment
                let outcome = TensorLayoutVectors.run(test)
                if let error = outcome.error {
                    test.result = "invalid"
                    test.error = error
                    test.errorTensor = outcome.errorTensor
                } else {
                    test.result = "valid"
                    if test.operation != "json" {
                        test.expectedEntries = outcome.expectedEntries
                        test.elementCount = outcome.elementCount
                    }
                    if test.operation == "flatten" { test.flat = outcome.flat }
                    test.tensors = outcome.tensors
                }
                tests.append(test)
            }
            func blank(_ operation: String) -> Test {
                Test(tcId: 0, comment: "", operation: operation, result: "")
            }
            var t = blank("layout")
            t.layout = model
            add("five tensors: 4-d, 1-d, scalar (shape [], one value), empty (a zero dimension), 2-d", t)
            t.layout = []
            add("no tensors", t)
            for (comment, bad) in [
                ("empty name", [Tensor(name: "", shape: [1], dtype: "F32")]),
                (
                    "duplicate name",
                    [Tensor(name: "a", shape: [1], dtype: "F32"), Tensor(name: "a", shape: [2], dtype: "F64")]
                ),
                ("negative dimension", [Tensor(name: "a", shape: [2, -1], dtype: "F32")]),
                ("2^41 elements in one tensor", [Tensor(name: "a", shape: [1 << 20, 1 << 21], dtype: "F32")]),
                (
                    "2^40 + 1 elements in total",
                    [Tensor(name: "a", shape: [1 << 40], dtype: "F32"), Tensor(name: "b", shape: [1], dtype: "F32")]
                ),
            ] {
                t.layout = bad
                add("rejected: \(comment)", t)
            }
            t.layout = [Tensor(name: "a", shape: [1 << 40], dtype: "I64")]
            add("exactly 2^40 elements", t)

            var json = blank("json")
            let stored = try entries(layout(model))
            json.entries = stored
            add("the stored form of the five-tensor layout", json)
            var shifted = stored
            shifted[1].offset += 1
            json.entries = shifted
            add("rejected: a stored offset that is not the running sum", json)
            var miscounted = stored
            miscounted[0].elementCount = 9
            json.entries = miscounted
            add("rejected: a stored element count that is not the product of the shape", json)

            var flatten = blank("flatten")
            flatten.layout = model
            flatten.update = update
            add("update in layout order", flatten)
            flatten.update = Array(update.reversed())
            add("update in reverse order: tensors are matched by name", flatten)
            flatten.update = Array(update.dropFirst(2))
            add("rejected: conv.weight and conv.bias missing (the first in layout order is named)", flatten)
            flatten.update = update + [values(Tensor(name: "extra", shape: [1], dtype: "F32"), base: 0)]
            add("rejected: a tensor the layout does not name", flatten)
            flatten.update = update + [update[1]]
            add("rejected: a tensor given twice", flatten)
            var wrongShape = update
            wrongShape[4].shape = [2, 3]
            flatten.update = wrongShape
            add("rejected: fc.weight with shape [2, 3] for [3, 2]", flatten)
            var wrongType = update
            wrongType[1].dtype = "F64"
            flatten.update = wrongType
            add("rejected: conv.bias as F64 for F32", flatten)
            var wrongCount = update
            wrongCount[0].values?.removeLast()
            flatten.update = wrongCount
            add("rejected: conv.weight with 7 values for shape [2, 1, 2, 2]", flatten)
            var twoDefects = update
            twoDefects[4].shape = [6]
            twoDefects.remove(at: 2)
            flatten.update = twoDefects
            add("rejected: scale missing and fc.weight misshapen: the first in layout order is named", flatten)
            var extraAndMissing = update
            extraAndMissing.remove(at: 4)
            extraAndMissing.append(values(Tensor(name: "aaa", shape: [1], dtype: "F32"), base: 0))
            flatten.update = extraAndMissing
            add("rejected: fc.weight missing and an extra tensor: missing tensors come first", flatten)

            var restore = blank("restore")
            restore.layout = model
            restore.flat = (0..<17).map { Double($0) - 8.5 }
            add("17 values back into the five tensors", restore)
            restore.flat = (0..<16).map(Double.init)
            add("rejected: 16 values for 17 coordinates", restore)

            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: TensorLayoutVectors.algorithm,
                    generator: "secagg vectors generate (Sources/SecAggVectors/Quantization); outputs from "
                        + "SecAggQuantization.TensorLayout",
                    header: "Named tensor layouts (SPEC.md §7.6). layout: tensors (name, shape, dtype) -> "
                        + "expectedEntries (offset, elementCount) and elementCount; json: stored entries must equal "
                        + "the recomputed ones; flatten: an update (tensors with values, any order) -> flat; restore: "
                        + "flat -> tensors. Invalid: error is the QuantizationError case of the first failing check "
                        + "of §7.6, errorTensor the tensor it names.",
                    testGroups: [Group(tests: tests)], testCount: tests.count))
        }
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { TensorLayoutVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for test in file.testGroups.flatMap(\.tests) {
                try reader.result(test.result, caseId: test.tcId)
                var outcome = TensorLayoutVectors.run(test)
                if test.operation == "json" {
                    outcome.expectedEntries = nil
                    outcome.elementCount = nil
                }
                if test.operation != "flatten" { outcome.flat = nil }
                let expected = Outcome(
                    expectedEntries: test.operation == "json" ? nil : test.expectedEntries,
                    elementCount: test.operation == "json" ? nil : test.elementCount,
                    flat: test.operation == "flatten" ? test.flat : nil, tensors: test.tensors, error: test.error,
                    errorTensor: test.errorTensor)
                recorder.record(test.tcId, outcome == expected, "got \(outcome.error ?? "a different result")")
            }
            return recorder.results
        }
    }
}
