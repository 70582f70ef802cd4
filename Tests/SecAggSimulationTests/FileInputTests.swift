import Foundation
import SecAggCrypto
import SecAggQuantization
import SecAggSimulation
import SecureAggregation
import Testing

/// A fresh empty folder under the temporary directory, removed by the caller.
func makeTemporaryFolder(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
        "secagg-\(label)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Deterministic pseudo-random values in (−range, range).
func values(count: Int, range: Double, using rng: inout DeterministicRandomGenerator) -> [Double] {
    (0..<count).map { _ in (rng.nextUnitDouble() * 2 - 1) * range }
}

/// Writes `clientCount` .safetensors updates with three named tensors; returns every client's tensors.
@discardableResult
func writeSafeTensorsFolder(_ folder: URL, clientCount: Int, range: Double = 0.9) throws -> [[NamedTensor]] {
    var rng = DeterministicRandomGenerator(testLabel: "safetensors-folder")
    var all: [[NamedTensor]] = []
    for u in 1...clientCount {
        let tensors = [
            try NamedTensor(name: "dense.weight", shape: [3, 4], values: values(count: 12, range: range, using: &rng)),
            try NamedTensor(name: "dense.bias", shape: [4], values: values(count: 4, range: range, using: &rng)),
            try NamedTensor(
                name: "scale", shape: [], dtype: .float64, values: values(count: 1, range: range, using: &rng)),
        ]
        let name = String(format: "client-%02d.safetensors", u)
        try SafeTensorsFile.write(tensors, to: folder.appendingPathComponent(name))
        all.append(tensors)
    }
    return all
}

func fileOptions(_ folder: URL, seed: UInt64 = 5) -> SimulationOptions {
    var options = SimulationOptions()
    options.inputsDirectory = folder
    options.seed = seed
    options.drops = [DropSpecification(fraction: 0.25, round: .maskedInputCollection)]
    return options
}

@Test func safeTensorsFolderWritesTheMeanWithTheSameNamesAndShapes() throws {
    let folder = try makeTemporaryFolder("st")
    defer { try? FileManager.default.removeItem(at: folder) }
    let inputs = try writeSafeTensorsFolder(folder, clientCount: 8)
    let output = folder.appendingPathComponent("mean.safetensors")
    var options = fileOptions(folder)
    // Clients that drop at unmasking are still in the aggregate, so the expected mean is over all eight.
    options.drops = [DropSpecification(fraction: 0.25, round: .unmasking)]
    options.output = output
    options.modulus = .powerOfTwo(bitWidth: 20)  // a coarse ring, so that the quantization error is visible
    let report = try Simulator.run(options)
    #expect(report.verified)
    #expect(report.clients == 8)
    #expect(report.included == 8)
    #expect(report.dropped["unmasking"] == 2)
    #expect(report.length == 17)
    #expect(report.output == output.path)
    let bound = try #require(report.errorBound)
    let error = try #require(report.maxAbsError)
    #expect(error <= bound)
    #expect(error > 0)  // 20-bit quantization is not exact
    #expect(report.clippedValues == 0)

    // The written mean: same names (in the first file's order) and shapes, within the planned error.
    let written = try SafeTensorsFile.read(contentsOf: output).tensors
    #expect(Set(written.map(\.name)) == Set(inputs[0].map(\.name)))
    var largest = 0.0
    for tensor in written {
        let index = try #require(inputs[0].firstIndex { $0.name == tensor.name })
        #expect(tensor.shape == inputs[0][index].shape)
        #expect(tensor.dtype == (inputs[0][index].dtype == .float64 ? .float64 : .float32))
        for i in tensor.values.indices {
            let expected = inputs.reduce(0.0) { $0 + $1[index].values[i] } / 8
            largest = max(largest, abs(tensor.values[i] - expected))
        }
    }
    // Float32 output adds at most half an ulp of a value below 1.
    #expect(largest <= bound + 0x1p-24)
    #expect(largest > 0)
}

@Test func dropoutsBeforeTheMaskedInputLeaveThoseClientsOutOfTheMean() throws {
    let folder = try makeTemporaryFolder("st-drop")
    defer { try? FileManager.default.removeItem(at: folder) }
    try writeSafeTensorsFolder(folder, clientCount: 8)
    var options = fileOptions(folder)
    options.drops = [DropSpecification(fraction: 0.25, round: .maskedInputCollection)]
    let report = try Simulator.run(options)
    #expect(report.verified)
    #expect(report.included == 6)
    #expect(try #require(report.maxAbsError) <= #require(report.errorBound))
}

@Test func weightedNpyFolderDecodesTheWeightedMean() throws {
    let folder = try makeTemporaryFolder("npy")
    defer { try? FileManager.default.removeItem(at: folder) }
    var rng = DeterministicRandomGenerator(testLabel: "npy-folder")
    var weights: [String: Int] = [:]
    var inputs: [[Double]] = []
    for u in 1...5 {
        let v = values(count: 10, range: 2, using: &rng)
        inputs.append(v)
        let name = "u\(u).npy"
        try NpyFile.write(
            try NamedTensor(name: "x", shape: [2, 5], dtype: .float64, values: v),
            to: folder.appendingPathComponent(name))
        weights[name] = u * 10
    }
    try JSONEncoder().encode(weights).write(to: folder.appendingPathComponent("weights.json"))
    let output = folder.appendingPathComponent("mean.npy")
    var options = fileOptions(folder)
    options.drops = []
    options.clip = .fixed(2)
    options.output = output
    let report = try Simulator.run(options)
    #expect(report.verified)
    #expect(report.included == 5)
    #expect(report.length == 11)  // ten values and the weight coordinate

    let mean = try NpyFile.read(contentsOf: output)
    #expect(mean.shape == [2, 5])
    #expect(mean.dtype == .float64)
    let total = Double(weights.values.reduce(0, +))
    let bound = try #require(report.errorBound)
    var largest = 0.0
    for i in 0..<10 {
        let expected = (0..<5).reduce(0.0) { $0 + Double(($1 + 1) * 10) * inputs[$1][i] } / total
        largest = max(largest, abs(mean.values[i] - expected))
    }
    #expect(largest <= bound * 1.000001)
    #expect(abs(largest - (report.maxAbsError ?? -1)) < 1e-12)
}

@Test func clippedInputsAreCountedAndStillVerify() throws {
    let folder = try makeTemporaryFolder("clip")
    defer { try? FileManager.default.removeItem(at: folder) }
    try writeSafeTensorsFolder(folder, clientCount: 4, range: 3)
    var options = fileOptions(folder)
    options.drops = []
    options.clip = .fixed(1)
    let report = try Simulator.run(options)
    #expect(report.verified)
    #expect((report.clippedValues ?? 0) > 0)
    #expect((report.maxAbsError ?? 0) > (report.errorBound ?? .infinity))
}

@Test func fileRunsAreReproducible() throws {
    let folder = try makeTemporaryFolder("repro")
    defer { try? FileManager.default.removeItem(at: folder) }
    try writeSafeTensorsFolder(folder, clientCount: 4)
    let a = try Simulator.run(fileOptions(folder))
    let b = try Simulator.run(fileOptions(folder))
    #expect(a.maxAbsError == b.maxAbsError)
    #expect(a.bytes == b.bytes)
}

/// Runs and expects a SimulationError whose description contains `fragment`.
func expectFailure(_ options: SimulationOptions, containing fragment: String) {
    do {
        _ = try Simulator.run(options)
        Issue.record("expected an error containing '\(fragment)'")
    } catch {
        #expect(error.description.contains(fragment), "\(error.description)")
        #expect(!error.description.contains("\n"))
    }
}

@Test func badFoldersAreRejectedWithOneLine() throws {
    let root = try makeTemporaryFolder("bad")
    defer { try? FileManager.default.removeItem(at: root) }
    expectFailure(fileOptions(root.appendingPathComponent("missing")), containing: "no such directory")
    expectFailure(fileOptions(root), containing: "no .npy or .safetensors")

    // Malformed .npy.
    let malformed = root.appendingPathComponent("malformed")
    try FileManager.default.createDirectory(at: malformed, withIntermediateDirectories: true)
    try NpyFile.write(
        try NamedTensor(name: "a", shape: [3], values: [1, 2, 3]), to: malformed.appendingPathComponent("a.npy"))
    try Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0xFF, 0xFF]).write(
        to: malformed.appendingPathComponent("b.npy"))
    expectFailure(fileOptions(malformed), containing: "b.npy")

    // Layouts that differ between clients.
    let mismatched = root.appendingPathComponent("mismatched")
    try FileManager.default.createDirectory(at: mismatched, withIntermediateDirectories: true)
    try writeSafeTensorsFolder(mismatched, clientCount: 3)
    try SafeTensorsFile.write(
        [try NamedTensor(name: "dense.weight", shape: [4, 3], values: Array(repeating: 0, count: 12))],
        to: mismatched.appendingPathComponent("client-04.safetensors"))
    expectFailure(fileOptions(mismatched), containing: "client-04.safetensors")

    // NaN values.
    let nan = root.appendingPathComponent("nan")
    try FileManager.default.createDirectory(at: nan, withIntermediateDirectories: true)
    for (name, v) in [("a.npy", [1.0, 2]), ("b.npy", [.nan, 2])] {
        try NpyFile.write(try NamedTensor(name: "x", shape: [2], values: v), to: nan.appendingPathComponent(name))
    }
    expectFailure(fileOptions(nan), containing: "NaN")

    // Mixed formats.
    let mixed = root.appendingPathComponent("mixed")
    try FileManager.default.createDirectory(at: mixed, withIntermediateDirectories: true)
    try writeSafeTensorsFolder(mixed, clientCount: 2)
    try NpyFile.write(
        try NamedTensor(name: "x", shape: [2], values: [1, 2]), to: mixed.appendingPathComponent("z.npy"))
    expectFailure(fileOptions(mixed), containing: "mixes")
}

@Test func badWeightsAreRejected() throws {
    let folder = try makeTemporaryFolder("weights")
    defer { try? FileManager.default.removeItem(at: folder) }
    try writeSafeTensorsFolder(folder, clientCount: 3)
    let weights = folder.appendingPathComponent("weights.json")
    let cases: [(String, String)] = [
        ("[1, 2, 3]", "malformed"),
        ("{\"client-01.safetensors\": 1, \"client-02.safetensors\": 2}", "no weight for \"client-03.safetensors\""),
        (
            "{\"client-01.safetensors\": 1, \"client-02.safetensors\": 2, \"client-03.safetensors\": 2.5}",
            "not an integer"
        ),
        (
            "{\"client-01.safetensors\": 1, \"client-02.safetensors\": 2, \"client-03.safetensors\": -1}",
            "not an integer"
        ),
        (
            "{\"client-01.safetensors\": 1, \"client-02.safetensors\": 2, \"client-03.safetensors\": 1, \"x.npy\": 1}",
            "\"x.npy\" is not an update file"
        ),
        (
            "{\"client-01.safetensors\": 0, \"client-02.safetensors\": 0, \"client-03.safetensors\": 0}",
            "every weight is zero"
        ),
    ]
    for (text, fragment) in cases {
        try Data(text.utf8).write(to: weights)
        expectFailure(fileOptions(folder), containing: fragment)
    }
}

@Test func fileOptionsAreChecked() throws {
    let folder = try makeTemporaryFolder("opts")
    defer { try? FileManager.default.removeItem(at: folder) }
    try writeSafeTensorsFolder(folder, clientCount: 3)
    var options = fileOptions(folder)
    options.clientCount = 4
    expectFailure(options, containing: "does not match the 3 update files")
    options = fileOptions(folder)
    options.vectorLength = 10
    expectFailure(options, containing: "--length")
    options = fileOptions(folder)
    options.output = folder.appendingPathComponent("mean.npy")
    expectFailure(options, containing: "write .safetensors instead")
    options.output = folder.appendingPathComponent("mean.txt")
    expectFailure(options, containing: "--output must end in .npy or .safetensors")
    options = fileOptions(folder)
    options.clip = .fixed(0)
    expectFailure(options, containing: "--clip")
    options = fileOptions(folder)
    options.modulus = .powerOfTwo(bitWidth: 2)  // 3 clients cannot fit the centered range of Z_4
    expectFailure(options, containing: "infeasible plan")

    var synthetic = SimulationOptions()
    synthetic.clientCount = 4
    synthetic.vectorLength = 10
    synthetic.clip = .fixed(1)
    expectFailure(synthetic, containing: "--clip applies only")
    synthetic.clip = nil
    synthetic.output = folder.appendingPathComponent("mean.npy")
    expectFailure(synthetic, containing: "needs --inputs")
}

@Test func automaticClipRoundsUpToTwoSignificantDigits() {
    let cases: [(Double, Double)] = [
        (3.14159, 3.2), (0.0123, 0.013), (1, 1), (3, 3), (0.1, 0.1), (0.29, 0.29), (9.96, 10), (100, 100),
        (123_456, 130_000), (2.5e-5, 2.5e-5), (0.99999, 1), (0, 1), (.nan, 1),
    ]
    for (largest, clip) in cases {
        #expect(ClipChoice.automaticClip(largestMagnitude: largest) == clip, "\(largest)")
    }
    var rng = DeterministicRandomGenerator(testLabel: "auto-clip")
    for _ in 0..<10_000 {
        let m = pow(10, rng.nextUnitDouble() * 40 - 20)
        let c = ClipChoice.automaticClip(largestMagnitude: m)
        #expect(c >= m && c <= m * 1.1 + 1e-300, "\(m) → \(c)")
    }
}
