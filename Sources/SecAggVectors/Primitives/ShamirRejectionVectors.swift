import Foundation
import SecAggCrypto

/// `primitives/shamir_rejections.json`: the rejections of Shamir decoding (SPEC.md §6.3) and reconstruction
/// (§6.4) in their specified order — a wrong-length encoding is `incorrectByteCount` when decoded, a decoded share
/// with the wrong number of values is `inconsistentShares` inside reconstruction — with cases that have two defects.
enum ShamirRejectionVectors {
    static let algorithm = "secagg-shamir-rejections"
    static let relativePath = "primitives/shamir_rejections.json"

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        /// `decode` (one encoding with L → the share) or `reconstruct` (decoded shares, t and L → the secret).
        var operation: String
        var secretByteCount: Int
        /// `reconstruct`: t.
        var threshold: Int?
        /// `decode`: one §6.3 encoding; `reconstruct`: the shares in the given order, each as x and its values
        /// (decimal, already field elements).
        var encoding: String?
        var shares: [SharePoint]?
        /// Valid `reconstruct`: the secret.
        var secret: String?
        var result: String
        /// Invalid: the ``SecAggCryptoError`` case of the first failing check.
        var error: String?
    }

    struct SharePoint: Codable, Sendable {
        var x: UInt32
        var values: [String]
    }

    struct Group: Codable, Sendable {
        var tests: [Test]
    }

    static func name(of error: SecAggCryptoError) -> String {
        switch error {
        case .incorrectByteCount: "incorrectByteCount"
        case .zeroShareIndex: "zeroShareIndex"
        case .invalidShareValue: "invalidShareValue"
        case .invalidThreshold: "invalidThreshold"
        case .notEnoughShares: "notEnoughShares"
        case .duplicateShareIndex: "duplicateShareIndex"
        case .inconsistentShares: "inconsistentShares"
        default: "\(error)"
        }
    }

    static func le64(_ values: [String]) -> [UInt8] {
        var out: [UInt8] = []
        for value in values { appendLittleEndian(UInt64(value) ?? .max, to: &out) }
        return out
    }

    /// The secret (hex), or the error's name.
    static func run(_ test: Test) -> Result<String, NameError> {
        do throws(SecAggCryptoError) {
            if test.operation == "decode" {
                let share = try ShamirShare(
                    encoded: Hex.decode(test.encoding ?? "") ?? [], secretByteCount: test.secretByteCount)
                return .success(Hex.encode(share.encoded()))
            }
            var shares: [ShamirShare] = []
            for point in test.shares ?? [] {
                shares.append(try ShamirShare(x: point.x, values: SecretBytes(copying: le64(point.values))))
            }
            let secret = try ShamirSecretSharing.reconstruct(
                shares, threshold: test.threshold ?? 0, secretByteCount: test.secretByteCount)
            return .success(secret.withUnsafeBytes { Hex.encode($0) })
        } catch {
            return .failure(NameError(name: name(of: error)))
        }
    }

    struct NameError: Error, Equatable {
        var name: String
    }

    struct Generator: VectorGenerator {
        var relativePath: String { ShamirRejectionVectors.relativePath }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/shamir-rejections"
            var rng = PrimitiveVectors.inputGenerator(label)
            let p: UInt64 = (1 << 61) - 1
            var tests: [Test] = []
            func add(_ comment: String, _ test: Test) throws {
                var test = test
                test.tcId = tests.count + 1
                test.comment = comment
                switch ShamirRejectionVectors.run(test) {
                case let .success(secret):
                    test.result = "valid"
                    if test.operation == "reconstruct" { test.secret = secret }
                case let .failure(error):
                    test.result = "invalid"
                    test.error = error.name
                }
                tests.append(test)
            }
            func decode(_ bytes: [UInt8], _ length: Int) -> Test {
                Test(
                    tcId: 0, comment: "", operation: "decode", secretByteCount: length, encoding: Hex.encode(bytes),
                    result: "")
            }
            func le32(_ v: UInt32) -> [UInt8] {
                var out: [UInt8] = []
                appendLittleEndian(v, to: &out)
                return out
            }
            func le64(_ v: UInt64) -> [UInt8] {
                var out: [UInt8] = []
                appendLittleEndian(v, to: &out)
                return out
            }
            // A 10-byte secret (two chunks) shared with t = 3 over x = 1 … 5.
            let secret = rng.bytes(count: 10)
            let split = try ShamirSecretSharing.split(
                secret: SecretBytes(copying: secret), threshold: 3, shareCount: 5, using: &rng)
            let encodings = split.map { $0.encoded() }
            func point(_ encoding: [UInt8]) -> SharePoint {
                let x =
                    UInt32(encoding[0]) | UInt32(encoding[1]) << 8 | UInt32(encoding[2]) << 16
                    | UInt32(encoding[3]) << 24
                let values = stride(from: 4, to: encoding.count, by: 8).map { offset in
                    String((0..<8).reduce(UInt64(0)) { $0 | UInt64(encoding[offset + $1]) << (8 * UInt64($1)) })
                }
                return SharePoint(x: x, values: values)
            }
            let points = encodings.map(point)
            let other = try ShamirSecretSharing.split(
                secret: SecretBytes(copying: rng.bytes(count: 10)), threshold: 3, shareCount: 5, using: &rng
            ).map { point($0.encoded()) }

            try add("a share of a 10-byte secret (two values)", decode(encodings[0], 10))
            try add("one byte short", decode(Array(encodings[0].dropLast()), 10))
            try add("a two-value share read for a 15-byte secret (three values)", decode(encodings[0], 15))
            try add("x = 0", decode(le32(0) + Array(encodings[0].dropFirst(4)), 10))
            try add("a value equal to p", decode(Array(encodings[1].prefix(12)) + le64(p), 10))
            try add("a value 2^64 − 1", decode(Array(encodings[1].prefix(4)) + le64(.max) + le64(1), 10))
            try add(
                "x = 0 and a value ≥ p: x is checked first", decode(le32(0) + le64(p) + le64(1), 10))
            try add("one byte short and x = 0: the length is checked first", decode(le32(0) + le64(1) + [0], 10))

            func reconstruct(_ shares: [SharePoint], t: Int, length: Int = 10) -> Test {
                Test(
                    tcId: 0, comment: "", operation: "reconstruct", secretByteCount: length, threshold: t,
                    shares: shares, result: "")
            }
            try add("t shares (x = 2, 4, 5)", reconstruct([points[1], points[3], points[4]], t: 3))
            try add(
                "t + 2 shares, any order (x = 5, 1, 3, 2, 4)", reconstruct([4, 0, 2, 1, 3].map { points[$0] }, t: 3))
            try add("t = 0", reconstruct(Array(points.prefix(3)), t: 0))
            try add("t − 1 shares", reconstruct(Array(points.prefix(2)), t: 3))
            try add(
                "t − 1 shares, one repeated: the count is checked first", reconstruct([points[0], points[0]], t: 3))
            try add("x = 2 twice among four", reconstruct([points[0], points[1], points[2], points[1]], t: 3))
            var short = points[2]
            short.values.removeLast()
            try add("a decoded share with one value for two chunks", reconstruct([points[0], points[1], short], t: 3))
            var long = points[2]
            long.values.append("7")
            try add(
                "a decoded share with three values for two chunks", reconstruct([points[0], points[1], long], t: 3))
            try add(
                "x = 1 twice and a share with one value: coordinates are checked before value counts",
                reconstruct([points[0], short, points[0]], t: 3))
            var shifted = points[3]
            shifted.values[1] = String(((UInt64(shifted.values[1]) ?? 0) + 1) % p)
            try add(
                "a fourth share off the polynomial (check 1)",
                reconstruct([points[0], points[1], points[2], shifted], t: 3))
            try add(
                "t shares of two different secrets (check 2)", reconstruct([points[0], points[1], other[2]], t: 3))
            try add("a 7-byte secret needs one value per share", reconstruct(Array(points.prefix(3)), t: 3, length: 7))

            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: ShamirRejectionVectors.algorithm, generator: PrimitiveVectors.generatorNote(label),
                    header: "Shamir rejections (SPEC.md §6.3, §6.4) in their specified order. decode: one encoding "
                        + "for a secretByteCount-byte secret; reconstruct: decoded shares (x and decimal values) in "
                        + "the given order with threshold and secretByteCount -> secret (hex). Invalid: error is the "
                        + "first failing check (incorrectByteCount, zeroShareIndex, invalidShareValue when decoding; "
                        + "invalidThreshold, notEnoughShares, zeroShareIndex, duplicateShareIndex, inconsistentShares "
                        + "when reconstructing).",
                    testGroups: [Group(tests: tests)], testCount: tests.count))
        }
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { ShamirRejectionVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for test in file.testGroups.flatMap(\.tests) {
                try reader.result(test.result, caseId: test.tcId)
                let outcome = ShamirRejectionVectors.run(test)
                let passed: Bool
                switch outcome {
                case let .success(secret):
                    passed =
                        test.result == "valid"
                        && (test.operation == "decode" ? secret == test.encoding : secret == test.secret)
                case let .failure(error): passed = test.result == "invalid" && error.name == test.error
                }
                recorder.record(test.tcId, passed, "got \(outcome)")
            }
            return recorder.results
        }
    }
}
