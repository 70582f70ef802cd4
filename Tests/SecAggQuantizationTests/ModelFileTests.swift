import Foundation
import SecAggCrypto
import SecAggQuantization
import Testing

private let filesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Vectors/files")

private struct FixtureTensor: Decodable {
    var name: String
    var dtype: String
    var shape: [Int]
    var values: [Double]
}
private struct Fixture: Decodable {
    var file: String
    var format: String
    var fileHex: String
    var tensors: [FixtureTensor]
    var metadata: [String: String]?
}
private struct FixtureFile: Decodable {
    struct Group: Decodable { var tests: [Fixture] }
    var testGroups: [Group]
}

private func loadFixtures() throws -> [Fixture] {
    let data = try Data(contentsOf: filesDirectory.appendingPathComponent("fixtures.json"))
    return try JSONDecoder().decode(FixtureFile.self, from: data).testGroups.flatMap(\.tests)
}

private func matches(_ tensor: NamedTensor, _ expected: FixtureTensor) -> Bool {
    tensor.name == expected.name && tensor.dtype.rawValue == expected.dtype && tensor.shape == expected.shape
        && tensor.values == expected.values
}

@Test func readsNumpyAndSafeTensorsFixtures() throws {
    let fixtures = try loadFixtures()
    #expect(fixtures.count >= 13)
    for fixture in fixtures {
        let url = filesDirectory.appendingPathComponent(fixture.file)
        let bytes = [UInt8](try Data(contentsOf: url))
        if fixture.format == "npy" {
            let tensor = try NpyFile.read(contentsOf: url)
            #expect(fixture.tensors.count == 1)
            #expect(matches(tensor, fixture.tensors[0]), "\(fixture.file)")
            // Our writer reproduces numpy's bytes for the dtypes it writes (version 1.0 files).
            if tensor.dtype == .float32 || tensor.dtype == .float64, bytes[6] == 1 {
                #expect(try NpyFile.encode(tensor) == bytes, "\(fixture.file)")
            }
        } else {
            let contents = try SafeTensorsFile.read(contentsOf: url)
            #expect(contents.tensors.count == fixture.tensors.count)
            for (tensor, expected) in zip(contents.tensors, fixture.tensors) {
                #expect(matches(tensor, expected), "\(fixture.file) \(tensor.name)")
            }
            #expect(contents.metadata == (fixture.metadata ?? [:]))
            if contents.tensors.allSatisfy({ $0.dtype == .float32 || $0.dtype == .float64 }) {
                #expect(try SafeTensorsFile.encode(contents.tensors, metadata: contents.metadata) == bytes)
            }
        }
    }
}

@Test func writeAndReadFilesRoundTrip() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secagg-quant-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let a = try NamedTensor(name: "a", shape: [2, 2], dtype: .float64, values: [1, -2, 0.1, 4])
    let b = try NamedTensor(name: "b", shape: [3], dtype: .float32, values: [0.5, 1.5, -8])
    let url = directory.appendingPathComponent("a.npy")
    try NpyFile.write(a, to: url)
    #expect(try NpyFile.read(contentsOf: url) == a)
    let st = directory.appendingPathComponent("m.safetensors")
    try SafeTensorsFile.write([b, a], metadata: ["x": "y\"z"], to: st)
    let contents = try SafeTensorsFile.read(contentsOf: st)
    #expect(contents.tensors == [a, b])
    #expect(contents.metadata == ["x": "y\"z"])
    #expect(throws: QuantizationError.self) {
        try NpyFile.read(contentsOf: directory.appendingPathComponent("none.npy"))
    }
    let half = try NamedTensor(name: "h", shape: [1], dtype: .float16, values: [1])
    #expect(throws: QuantizationError.unsupportedDType(format: "npy", dtype: "F16")) { try NpyFile.encode(half) }
    #expect(throws: QuantizationError.unsupportedDType(format: "safetensors", dtype: "F16")) {
        try SafeTensorsFile.encode([half])
    }
}

// MARK: Malformed .npy

private func npy(header: String, data: [UInt8], version: UInt8 = 1) -> [UInt8] {
    var h = Array(header.utf8) + [0x0A]
    if version == 1 {
        return NpyFile.magic + [1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h + data
    }
    h = Array(header.utf8) + [0x0A]
    let n = UInt32(h.count)
    return NpyFile.magic + [version, 0] + (0..<4).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) } + h + data
}

private let good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"

@Test func npyMalformedCases() throws {
    let data = [UInt8](repeating: 0, count: 8)
    #expect(try NpyFile.read(npy(header: good, data: data)).values == [0, 0])
    #expect(try NpyFile.read(npy(header: good, data: data, version: 3)).values == [0, 0])
    // Truncated: before the header length, inside the header, inside the data.
    let valid = npy(header: good, data: data)
    for cut in [0, 5, 9, 20, valid.count - 1] {
        #expect(throws: QuantizationError.self) { try NpyFile.read(Array(valid.prefix(cut))) }
    }
    #expect(
        throws: QuantizationError.truncatedFile(
            format: "npy", byteCount: valid.count - 1,
            requiredByteCount: valid.count)
    ) { try NpyFile.read(Array(valid.dropLast())) }
    // Trailing bytes: shape/byte-count mismatch.
    #expect(throws: QuantizationError.dataByteCountMismatch(name: "array", expected: 8, actual: 9)) {
        try NpyFile.read(valid + [0])
    }
    // Bad magic, bad version.
    var badMagic = valid
    badMagic[1] = 0
    #expect(throws: QuantizationError.malformedHeader(format: "npy", reason: "bad magic string")) {
        try NpyFile.read(badMagic)
    }
    var badVersion = valid
    badVersion[6] = 4
    #expect(throws: QuantizationError.unsupportedVersion(format: "npy", version: "4.0")) {
        try NpyFile.read(badVersion)
    }
    // Oversized header (v2 length field claims 2^31 bytes): refused before any allocation.
    let oversized = NpyFile.magic + [2, 0, 0, 0, 0, 0x80] + Array(good.utf8)
    #expect(
        throws: QuantizationError.headerTooLarge(
            format: "npy", byteCount: 1 << 31,
            maximum: NpyFile.maximumHeaderByteCount)
    ) { try NpyFile.read(oversized) }
    // Malformed dictionaries.
    for header in [
        "", "{", "{'descr': '<f4', 'fortran_order': False}", "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x", "[1, 2]",
        "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
    ] {
        #expect(throws: QuantizationError.self, "\(header)") { try NpyFile.read(npy(header: header, data: data)) }
    }
    // Shape whose element count overflows: a typed error, never a trap or a huge allocation.
    let huge = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }"
    #expect(throws: QuantizationError.self) { try NpyFile.read(npy(header: huge, data: data)) }
    // Shape/byte-count mismatch.
    let three = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"
    #expect(throws: QuantizationError.self) { try NpyFile.read(npy(header: three, data: data)) }
    // Unsupported dtypes and orders.
    for descr in [">f4", "<u1", "|b1", "<c8", "<f16", "O"] {
        let header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (2,), }"
        #expect(throws: QuantizationError.unsupportedDType(format: "npy", dtype: descr)) {
            try NpyFile.read(npy(header: header, data: data))
        }
    }
    let fortran = "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }"
    #expect(throws: QuantizationError.self) { try NpyFile.read(npy(header: fortran, data: data)) }
}

// MARK: Malformed .safetensors

private func safetensors(_ header: String, data: [UInt8]) -> [UInt8] {
    let h = Array(header.utf8)
    return (0..<8).map { UInt8(truncatingIfNeeded: UInt64(h.count) >> (8 * UInt64($0))) } + h + data
}

@Test func safeTensorsMalformedCases() throws {
    let twoFloats = [UInt8](repeating: 0, count: 8)
    let ok = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    #expect(try SafeTensorsFile.read(safetensors(ok, data: twoFloats)).tensors.first?.values == [0, 0])
    let valid = safetensors(ok, data: twoFloats)
    // Truncated anywhere.
    for cut in [0, 7, 8, 20, valid.count - 1] {
        #expect(throws: QuantizationError.self) { try SafeTensorsFile.read(Array(valid.prefix(cut))) }
    }
    // Oversized header size field.
    var oversized = valid
    oversized[7] = 0x01
    #expect(
        throws: QuantizationError.headerTooLarge(
            format: "safetensors", byteCount: 1 << 56 | Int(valid[0]),
            maximum: SafeTensorsFile.maximumHeaderByteCount)
    ) { try SafeTensorsFile.read(oversized) }
    // Header larger than the file.
    #expect(throws: QuantizationError.truncatedFile(format: "safetensors", byteCount: 16, requiredByteCount: 1008)) {
        try SafeTensorsFile.read([0xE8, 0x03, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
    }
    let cases: [(String, [UInt8], QuantizationError?)] = [
        ("not json", twoFloats, nil), (#"["a"]"#, twoFloats, nil), (#" {}"#, [], nil),
        (#"{"a":{"dtype":"F32","shape":[2]}}"#, twoFloats, nil),
        (#"{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#, twoFloats, nil),
        (#"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,8]}}"#, twoFloats, nil),
        (#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, twoFloats, nil),
        (#"{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, twoFloats, nil),
        (
            #"{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}"#, twoFloats,
            .unsupportedDType(format: "safetensors", dtype: "U8")
        ),
        (
            #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, twoFloats,
            .dataByteCountMismatch(name: "a", expected: 12, actual: 8)
        ),
        (
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            twoFloats, .invalidDataOffsets(name: "b", reason: "overlaps the previous tensor")
        ),
        (
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, twoFloats,
            .invalidDataOffsets(name: "a", reason: "leaves a gap before it")
        ),
        (
            #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, twoFloats,
            .invalidDataOffsets(name: "a", reason: "beyond the 8-byte data section")
        ),
        (
            #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, twoFloats,
            .invalidDataOffsets(name: "a", reason: "end before begin")
        ),
        (
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, twoFloats,
            .invalidDataOffsets(name: "a", reason: "4 trailing data bytes are not covered by any tensor")
        ),
        (
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999]}}"#, twoFloats, nil
        ),
        (
            #"{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}"#, twoFloats, nil
        ),
    ]
    for (header, data, expected) in cases {
        let bytes = safetensors(header, data: data)
        if let expected {
            #expect(throws: expected, "\(header)") { try SafeTensorsFile.read(bytes) }
        } else {
            #expect(throws: QuantizationError.self, "\(header)") { try SafeTensorsFile.read(bytes) }
        }
    }
}

// MARK: Layouts

@Test func layoutFlattenRestoreAndMismatches() throws {
    let w = try NamedTensor(name: "w", shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
    let b = try NamedTensor(name: "b", shape: [3], values: [0.5, -0.5, 0])
    let layout = try TensorLayout(describing: [w, b])
    #expect(layout.elementCount == 9)
    #expect(layout.entries.map(\.offset) == [0, 6])
    #expect(try layout.flatten([b, w]) == [1, 2, 3, 4, 5, 6, 0.5, -0.5, 0])
    #expect(try layout.restore(layout.flatten([w, b])) == [w, b])
    #expect(throws: QuantizationError.missingTensor(name: "b")) { try layout.flatten([w]) }
    let extra = try NamedTensor(name: "z", shape: [], values: [1])
    #expect(throws: QuantizationError.unexpectedTensor(name: "z")) { try layout.flatten([w, b, extra]) }
    #expect(throws: QuantizationError.unexpectedTensor(name: "w")) { try layout.flatten([w, b, w]) }
    let reshaped = try NamedTensor(name: "w", shape: [3, 2], values: [1, 2, 3, 4, 5, 6])
    #expect(throws: QuantizationError.tensorShapeMismatch(name: "w", expected: [2, 3], actual: [3, 2])) {
        try layout.flatten([reshaped, b])
    }
    let retyped = try NamedTensor(name: "b", shape: [3], dtype: .float64, values: [0, 0, 0])
    #expect(throws: QuantizationError.tensorDTypeMismatch(name: "b", expected: .float32, actual: .float64)) {
        try layout.flatten([w, retyped])
    }
    #expect(throws: QuantizationError.tensorValueCountMismatch(name: "x", expected: 4, actual: 3)) {
        try NamedTensor(name: "x", shape: [2, 2], values: [1, 2, 3])
    }
    #expect(throws: QuantizationError.vectorLengthMismatch(actual: 8, expected: 9)) {
        try layout.restore([Double](repeating: 0, count: 8))
    }
    #expect(throws: QuantizationError.self) { try TensorLayout([("a", [1], .float32), ("a", [2], .float32)]) }
    #expect(throws: QuantizationError.self) { try TensorLayout([("", [1], .float32)]) }
    #expect(throws: QuantizationError.self) { try TensorLayout([("a", [-1], .float32)]) }
    // Codable round trip; tampered offsets are refused.
    let json = try JSONEncoder().encode(layout)
    #expect(try JSONDecoder().decode(TensorLayout.self, from: json) == layout)
    let tampered = String(decoding: json, as: UTF8.self).replacingOccurrences(of: "\"offset\":6", with: "\"offset\":5")
    #expect(throws: (any Error).self) { try JSONDecoder().decode(TensorLayout.self, from: Data(tampered.utf8)) }
}

@Test func tensorsThroughQuantizationAndBack() throws {
    let w = try NamedTensor(name: "w", shape: [2, 2], values: [0.25, -0.75, 0.5, 1])
    let layout = try TensorLayout(describing: [w])
    let plan = try QuantizationPlan.plan(
        clientCount: 4, clipRange: 1, bitWidth: 24, maximumWeight: 10,
        rounding: .nearest)
    var rng = DeterministicRandomGenerator(testLabel: "tensors")
    let a = try plan.quantize([w], layout: layout, weight: 3, using: &rng)
    let b = try plan.quantize([w], layout: layout, weight: 5, using: &rng)
    let sum = zip(a.elements, b.elements).map { plan.modulus.add($0, $1) }
    let mean = try plan.decodeMean(sum, layout: layout, includedClientCount: 2)
    #expect(mean.map(\.name) == ["w"])
    #expect(mean[0].shape == [2, 2])
    for (x, y) in zip(mean[0].values, w.values) { #expect(abs(x - y) <= plan.worstCaseMeanError) }
    #expect(throws: QuantizationError.vectorLengthMismatch(actual: 4, expected: 5)) {
        try plan.decodeMean(Array(sum.prefix(4)), layout: layout, includedClientCount: 2)
    }
}
