import Foundation
import SecAggCrypto
import SecAggVectors
import Testing

/// The repository's Vectors/ directory: $SECAGG_VECTORS_DIR, or found by walking up from this file to
/// the directory holding Package.swift.
func repositoryVectorsDirectory() throws -> URL {
    if let override = ProcessInfo.processInfo.environment["SECAGG_VECTORS_DIR"] {
        return URL(fileURLWithPath: override)
    }
    var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while directory.path != "/" {
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
            return directory.appendingPathComponent("Vectors")
        }
        directory = directory.deletingLastPathComponent()
    }
    throw VectorError.missingDirectory(path: "Vectors (no Package.swift above \(#filePath))")
}

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("secagg-vectors-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct VectorVerifierTests {
    @Test("every file in Vectors/ passes, with the expected case counts")
    func repositoryVectors() throws {
        let report = try VectorVerifier().verify(directory: repositoryVectorsDirectory())
        #expect(report.failedCount == 0, "\(report.files.filter { $0.failedCount > 0 }.map(\.file))")
        let counts = report.passedCountBySuite
        // The published suites, case for case.
        #expect(counts["wycheproof-x25519"] == 518)
        #expect(counts["wycheproof-xchacha20-poly1305"] == 315)
        #expect(counts["wycheproof-hkdf-sha256"] == 86)
        #expect(counts["wycheproof-ed25519"] == 151)
        #expect(counts["wycheproof-hmac-sha256"] == 174)
        let requiredWycheproof = ["x25519", "xchacha20-poly1305", "hkdf-sha256", "ed25519"]
            .compactMap { counts["wycheproof-\($0)"] }.reduce(0, +)
        #expect(requiredWycheproof >= 1_070)
        #expect(counts["rfc7748-x25519"] == 5)
        #expect(counts["rfc8439-chacha20"] == 9)
        #expect(counts["rfc5869-hkdf-sha256"] == 3)
        // Our own files.
        let bitWidthCount = MaskPrgVectors.bitWidths.count + MaskPrgVectors.integerModuli.count
        #expect(counts["secagg-mask-prg"] == bitWidthCount * MaskPrgVectors.lengths.count)
        #expect((counts["secagg-key-derivation"] ?? 0) >= 8)
        #expect((counts["secagg-shamir"] ?? 0) >= 8)
        #expect((counts["secagg-share-aead"] ?? 0) >= 8)
        #expect((counts["secagg-deterministic-rng"] ?? 0) >= 3)
        // SPEC.md §2.7: every slot of the small trees, eight of n = 100, and six rejections per tree (two for n = 1);
        // 89 multiproof cases (per tree one slot, every slot and, for n ≥ 3, a run, a wrapping window and random
        // slots, then up to ten rejections).
        #expect(counts["secagg-merkle"] == 78 + 89)
        // The families of issue 16: every section of SPEC.md that no vector covered before.
        for algorithm in [
            "secagg-mask-limits", "secagg-ed25519-strict", "secagg-aggregate-decoding", "secagg-tensor-layout",
            "secagg-parameter-finder", "secagg-configuration", "secagg-shamir-rejections",
        ] {
            #expect((counts[algorithm] ?? 0) >= 20, "\(algorithm)")
        }
        // Every acceptable X25519 case carries a documented decision.
        let x25519 = report.files.first { $0.file == "wycheproof/x25519_test.json" }
        #expect(x25519?.notes.count == 254)
        #expect(x25519?.notes.filter { $0.message.contains("rejected") }.count == 31)
        #expect(report.summaryLine == "\(report.passedCount) passed, 0 failed")
    }

    @Test("the generators reproduce the committed files byte for byte")
    func generatorsAreDeterministic() throws {
        let vectors = try repositoryVectorsDirectory()
        for generator in PrimitiveVectors.generators + PrivacyVectors.generators {
            let committed = try Data(contentsOf: vectors.appendingPathComponent(generator.relativePath))
            #expect(try generator.generate() == committed, "\(generator.relativePath)")
        }
        #expect(VectorCatalog.generators.count >= PrimitiveVectors.generators.count)
    }

    /// Copies one committed file into a temporary directory after `edit`, and verifies that directory.
    private func verifyEdited(_ relativePath: String, _ edit: (inout String) -> Void) throws -> VectorReport {
        let source = try repositoryVectorsDirectory().appendingPathComponent(relativePath)
        var text = try String(contentsOf: source, encoding: .utf8)
        edit(&text)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = directory.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(
            at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: target, atomically: true, encoding: .utf8)
        return try VectorVerifier().verify(directory: directory)
    }

    /// Flips the last hex digit of the first string value of `field`.
    private func corruptFirst(_ field: String, in text: inout String) {
        guard let key = text.range(of: "\"\(field)\"") else { return }
        guard let open = text.range(of: "\"", range: text.index(after: key.upperBound)..<text.endIndex),
            let close = text.range(of: "\"", range: open.upperBound..<text.endIndex)
        else { return }
        let last = text.index(before: close.lowerBound)
        let replacement: Character = text[last] == "0" ? "1" : "0"
        text.replaceSubrange(last...last, with: String(replacement))
    }

    @Test(
        "a corrupted copy of a vector fails",
        arguments: [
            ("primitives/mask_prg.json", "elementDigest"), ("primitives/shamir.json", "shares"),
            ("primitives/share_aead.json", "sealedBox"), ("primitives/key_derivation.json", "pairwiseMaskSeed"),
            ("primitives/deterministic_rng.json", "output"), ("rfc/rfc8439_chacha20.json", "ciphertext"),
            ("rfc/rfc7748_x25519.json", "output"), ("rfc/rfc5869_hkdf_sha256.json", "okm"),
            ("wycheproof/x25519_test.json", "shared"), ("wycheproof/xchacha20_poly1305_test.json", "ct"),
            ("wycheproof/hkdf_sha256_test.json", "okm"), ("wycheproof/ed25519_test.json", "sig"),
            ("wycheproof/hmac_sha256_test.json", "tag"), ("privacy/rotation.json", "rotatedDigest"),
            ("privacy/rounding.json", "noiseSeed"), ("privacy/samplers.json", "digest"),
            ("privacy/encoding.json", "elementsDigest"), ("primitives/merkle.json", "root"),
            ("primitives/merkle.json", "leafPayload"),
        ])
    func corruptedCopyFails(file: String, field: String) throws {
        let report = try verifyEdited(file) { corruptFirst(field, in: &$0) }
        #expect(report.failedCount >= 1)
        #expect(report.files.count == 1)
    }

    @Test("a corrupted first mask element fails")
    func corruptedElement() throws {
        let report = try verifyEdited("primitives/mask_prg.json") { text in
            if let range = text.range(of: "\"firstElements\" : [\n") ?? text.range(of: "\"firstElements\": [\n") {
                guard let quote = text.range(of: "\"", range: range.upperBound..<text.endIndex) else { return }
                text.insert("1", at: quote.upperBound)
            }
        }
        #expect(report.failedCount >= 1)
    }

    @Test("malformed, unclaimed and miscounted files are failures, not skips")
    func malformedFiles() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ path: String, _ text: String) throws {
            let url = directory.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        try write("a/not-json.json", "{ this is not json")
        try write("b/unknown.json", #"{"algorithm": "no-such-suite", "schemaVersion": "secagg-vectors-v1"}"#)
        try write(
            "c/bad-hex.json",
            #"{"algorithm": "secagg-deterministic-rng", "schemaVersion": "secagg-vectors-v1", "specVersion": "1", "#
                + #""generator": "x", "header": "x", "numberOfTests": 1, "testGroups": [{"tests": [{"tcId": 1, "#
                + #""comment": "", "seed": "zz", "readByteCounts": [1], "output": "00", "result": "valid"}]}]}"#)
        try write(
            "d/miscount.json",
            #"{"algorithm": "rfc5869-hkdf-sha256", "schemaVersion": "secagg-vectors-v1", "specVersion": "1", "#
                + #""generator": "x", "header": "x", "numberOfTests": 2, "testGroups": [{"type": "Hkdf", "tests": []}]}"#
        )
        try write("README.md", "not a vector")
        try write("LICENSE", "not a vector")
        try write("files/fixture.json", "{ skipped because it is under files/")
        let report = try VectorVerifier().verify(directory: directory)
        #expect(report.files.map(\.file) == ["a/not-json.json", "b/unknown.json", "c/bad-hex.json", "d/miscount.json"])
        #expect(report.files.allSatisfy { $0.failedCount == 1 })
        #expect(report.summaryLine == "0 passed, 4 failed")
        #expect(report.files[1].fileError?.contains("no checker") == true)
        #expect(report.files[2].fileError?.contains("seed") == true)
        #expect(throws: VectorError.self) {
            try VectorVerifier().verify(directory: directory.appendingPathComponent("missing"))
        }
    }

    @Test("hex round trip and rejection")
    func hex() {
        #expect(Hex.encode([0, 1, 0xab, 0xff]) == "0001abff")
        #expect(Hex.decode("0001ABff") == [0, 1, 0xab, 0xff])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
        #expect(Hex.decode("") == [])
    }
}
