import ArgumentParser
import Foundation
import SecAggCrypto
import SecAggSimulation
import SecureAggregation
import Testing

@testable import SecAggTool

/// A minimal NumPy .npy (format 1.0) writer and reader for little-endian float64 arrays, written from the
/// format description and independent of the package's own reader and writer.
enum Npy {
    static func write(_ values: [Double], shape: [Int], to url: URL) throws {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, "\n" last.
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        bytes += [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        try Data(bytes).write(to: url)
    }

    static func read(_ url: URL) throws -> (header: String, values: [Double]) {
        let bytes = [UInt8](try Data(contentsOf: url))
        try #require(bytes.count >= 10 && bytes[0] == 0x93 && bytes[6] == 1)
        let headerCount = Int(bytes[8]) | Int(bytes[9]) << 8
        let header = String(decoding: bytes[10..<(10 + headerCount)], as: UTF8.self)
        try #require(header.contains("'descr': '<f8'"))
        let body = bytes[(10 + headerCount)...]
        let values = stride(from: body.startIndex, to: body.endIndex, by: 8).map { start in
            Double(bitPattern: body[start..<(start + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
        return (header, values)
    }
}

/// `clientCount` clients' updates of shape (2, 3) with values up to ±`range` (larger than the old default
/// clip 1); returns the folder, the file names and each client's values.
private func writeUpdates(range: Double, clientCount: Int = 5) throws -> (URL, [String], [[Double]]) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
        "secagg-tool-inputs-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var rng = DeterministicRandomGenerator(testLabel: "tool-inputs")
    var names: [String] = []
    var all: [[Double]] = []
    for u in 1...clientCount {
        let values = (0..<6).map { _ in (rng.nextUnitDouble() * 2 - 1) * range }
        let name = "client-\(u).npy"
        try Npy.write(values, shape: [2, 3], to: folder.appendingPathComponent(name))
        names.append(name)
        all.append(values)
    }
    return (folder, names, all)
}

/// The plain mean of `updates`, coordinate by coordinate.
private func mean(_ updates: [[Double]]) -> [Double] {
    (0..<updates[0].count).map { i in updates.reduce(0.0) { $0 + $1[i] } / Double(updates.count) }
}

private func simulate(_ arguments: [String]) throws -> SimulationReport {
    try Simulator.run(try SimulateCommand.parse(arguments).makeOptions())
}

@Test func inputsWithNoOtherFlagAverageEveryFile() throws {
    let (folder, names, updates) = try writeUpdates(range: 2.5)
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("mean.npy")
    // Exactly the issue's command: `secagg simulate --inputs DIR --output mean.npy`.
    let report = try simulate(["--inputs", folder.path, "--output", output.path])
    #expect(report.verified, "\(report.summary)")
    #expect(report.included == 5)
    #expect(report.dropped.values.allSatisfy { $0 == 0 })
    #expect(report.includedFiles == names)
    #expect(report.excludedFiles == [])
    #expect(report.clippedValues == 0)
    #expect(report.warnings.isEmpty)
    #expect(report.clipRule == "auto")
    let largest = updates.joined().map(abs).max() ?? 0
    #expect(try #require(report.clip) >= largest)

    // The written mean is the mean over all five files, within the planned quantization error.
    let (header, written) = try Npy.read(output)
    #expect(header.contains("'shape': (2, 3)"))
    let expected = mean(updates)
    let bound = try #require(report.errorBound)
    #expect(written.count == 6)
    for (got, want) in zip(written, expected) {
        #expect(abs(got - want) <= bound * 1.000001, "\(got) vs \(want)")
    }

    // The text names the files in and out of the mean.
    let text = report.summary
    #expect(text.contains("files in the mean: 5 of 5 (\(names.joined(separator: ", ")))"), "\(text)")
    #expect(text.contains("files left out of the mean: none"))
    #expect(text.contains("dropped: none"))
    #expect(!text.contains("WARNING"))
    // And so does --json.
    let json = try #require(
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
    #expect(json["included_files"] as? [String] == names)
    #expect((json["excluded_files"] as? [Any])?.isEmpty == true)
    #expect((json["warnings"] as? [Any])?.isEmpty == true)
}

@Test func aClipTooSmallWarnsWithTheErrorItCauses() throws {
    let (folder, _, updates) = try writeUpdates(range: 2.5)
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("mean.npy")
    let report = try simulate(["--inputs", folder.path, "--clip", "0.5", "--output", output.path])
    // The protocol still verifies (the aggregate is right for the clipped values), but it says so loudly.
    #expect(report.verified)
    let clipped = updates.joined().filter { abs($0) > 0.5 }.count
    #expect(report.clippedValues == clipped)
    #expect(abs(try #require(report.clippedFraction) - Double(clipped) / 30) < 1e-12)
    #expect(report.clipRule == "fixed" && report.clip == 0.5)

    // Its errors are those of the written mean against the unclipped mean.
    let (_, written) = try Npy.read(output)
    let expected = mean(updates)
    let maxError = zip(written, expected).map { abs($0 - $1) }.max() ?? 0
    let l2 = zip(written, expected).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    let norm = expected.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
    #expect(abs(try #require(report.maxAbsError) - maxError) < 1e-9)
    #expect(abs(try #require(report.relativeL2Error) - l2 / norm) < 1e-9)
    #expect(maxError > 0.1)

    let warning = try #require(report.warnings.first)
    #expect(warning.contains("\(clipped) of the 30 values"))
    #expect(warning.contains("--clip auto"))
    let text = report.summary
    #expect(text.hasPrefix("secure aggregation: VERIFIED\nWARNING: \(warning)\n"), "\(text)")
    let json = try #require(
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
    #expect(json["warnings"] as? [String] == [warning])
    #expect(json["clipped_values"] as? Int == clipped)
    // (JSON keeps 17 significant digits; the parser may round the last one differently.)
    #expect(abs(try #require(json["clipped_fraction"] as? Double) - Double(clipped) / 30) < 1e-12)
    #expect(abs(try #require(json["relative_l2_error"] as? Double) - l2 / norm) < 1e-9)
}

@Test func clipAutoClipsNothing() throws {
    let (folder, _, updates) = try writeUpdates(range: 7)
    defer { try? FileManager.default.removeItem(at: folder) }
    let report = try simulate(["--inputs", folder.path, "--clip", "auto", "--seed", "2"])
    #expect(report.verified)
    #expect(report.clippedValues == 0)
    #expect(report.warnings.isEmpty)
    let largest = updates.joined().map(abs).max() ?? 0
    #expect(report.largestMagnitude == largest)
    #expect(report.clip == ClipChoice.automaticClip(largestMagnitude: largest))
    #expect(try #require(report.maxAbsError) <= #require(report.errorBound))
    #expect(report.summary.contains("clip ±\(report.clip ?? 0) (auto: the largest |value| \(largest)"))
}

@Test func dropoutsWithInputsNameTheFilesLeftOut() throws {
    let (folder, names, _) = try writeUpdates(range: 1, clientCount: 8)
    defer { try? FileManager.default.removeItem(at: folder) }
    let report = try simulate([
        "--inputs", folder.path, "--drop", "0.125@share-keys", "--drop", "0.125@unmasking", "--seed", "9",
    ])
    #expect(report.verified, "\(report.summary)")
    // The client that stopped after sending its masked input is still in the mean; the other is not.
    #expect(report.dropped["share-keys"] == 1 && report.dropped["unmasking"] == 1)
    let excluded = try #require(report.excludedFiles)
    let included = try #require(report.includedFiles)
    #expect(excluded.count == 1 && included.count == 7)
    #expect(excluded.first?.round == "share-keys")
    #expect(Set(excluded.map(\.file)).union(included) == Set(names))
    let file = try #require(excluded.first?.file)
    #expect(report.summary.contains("files left out of the mean: \(file) (dropped at share-keys)"), "\(report.summary)")
    #expect(report.summary.contains("files in the mean: 7 of 8"))
}
