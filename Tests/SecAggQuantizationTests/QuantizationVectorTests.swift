import Foundation
import SecAggVectors
import Testing

private let vectorsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Vectors")

/// The committed files equal what the generators produce (set SECAGG_WRITE_VECTORS=1 to rewrite them),
/// and every case in every quantization file passes its suite.
@Test func quantizationVectorFiles() throws {
    let write = ProcessInfo.processInfo.environment["SECAGG_WRITE_VECTORS"] == "1"
    for generator in QuantizationVectors.generators {
        let url = vectorsDirectory.appendingPathComponent(generator.relativePath)
        let generated = try generator.generate()
        if write {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try generated.write(to: url)
        }
        #expect(try Data(contentsOf: url) == generated, "\(generator.relativePath) is stale")
    }
    let files = QuantizationVectors.generators.map(\.relativePath) + ["files/fixtures.json"]
    for file in files {
        let data = try Data(contentsOf: vectorsDirectory.appendingPathComponent(file))
        let header = try JSONDecoder().decode(VectorFileHeader.self, from: data)
        let suites = QuantizationVectors.suites.filter { $0.accepts(header, fileName: file) }
        #expect(suites.count == 1, "\(file)")
        for suite in suites {
            let results = try suite.verify(data, fileName: file)
            #expect(results.count == header.numberOfTests, "\(file)")
            for result in results where !result.passed { Issue.record("\(file) #\(result.caseId): \(result.message)") }
        }
    }
}

/// A tampered file fails: the suites really compare.
@Test func quantizationSuitesDetectTampering() throws {
    for generator in QuantizationVectors.generators {
        var root = try #require(JSONSerialization.jsonObject(with: generator.generate()) as? [String: Any])
        var groups = try #require(root["testGroups"] as? [[String: Any]])
        var tests = try #require(groups[0]["tests"] as? [[String: Any]])
        var test = tests[tests.count > 1 ? 1 : 0]
        if let hex = test["packedHex"] as? String, !hex.isEmpty {
            test["packedHex"] = (hex.first == "0" ? "1" : "0") + hex.dropFirst()
        } else if let scale = test["scale"] as? Double {
            test["scale"] = scale * 2
        } else if var elements = test["elements"] as? [String], let first = elements.first, let v = UInt64(first) {
            elements[0] = String(v == 0 ? 1 : v - 1)
            test["elements"] = elements
        } else if var output = test["output"] as? [String], let first = output.first, let v = Int64(first) {
            output[0] = String(v == 0 ? 1 : v - 1)
            test["output"] = output
        } else if let count = test["elementCount"] as? Int {
            test["elementCount"] = count + 1
        } else {
            Issue.record("nothing to tamper in \(generator.relativePath)")
        }
        tests[tests.count > 1 ? 1 : 0] = test
        groups[0]["tests"] = tests
        root["testGroups"] = groups
        let data = try JSONSerialization.data(withJSONObject: root)
        let header = try JSONDecoder().decode(VectorFileHeader.self, from: data)
        let suite = try #require(
            QuantizationVectors.suites.first { $0.accepts(header, fileName: generator.relativePath) })
        let results = try suite.verify(data, fileName: generator.relativePath)
        #expect(results.contains { !$0.passed }, "\(generator.relativePath)")
    }
}
