import Foundation
import SecAggCrypto

/// Suites for the RFC vectors in `Vectors/rfc/` (our envelope; values transcribed from the RFCs).
public enum RfcVectors {
    /// The RFC suites.
    public static var suites: [any VectorSuite] {
        [Rfc8439ChaCha20Suite(), Rfc7748X25519Suite(), Rfc5869HkdfSuite()]
    }
}

/// RFC 8439 §2.4.2, A.1, A.2: ciphertext = plaintext XOR ChaCha20 keystream, through ``ChaCha20`` (the
/// keystream behind the mask PRG).
struct Rfc8439ChaCha20Suite: OwnFormatSuite {
    let algorithm = "rfc8439-chacha20"

    struct Group: Codable, Sendable {
        var type: String
        var tests: [Test]
    }

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        var key: String
        var nonce: String
        var counter: UInt32
        var plaintext: String
        var ciphertext: String
        var result: String
    }

    func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
        let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
        let reader = FieldReader(fileName: fileName)
        var recorder = CaseRecorder(fileName: fileName)
        for test in file.testGroups.flatMap(\.tests) {
            try reader.result(test.result, caseId: test.tcId, allowed: ["valid"])
            let plaintext = try reader.bytes(test.plaintext, "plaintext", caseId: test.tcId)
            let key = SecretBytes(copying: try reader.bytes(test.key, "key", caseId: test.tcId))
            let nonce = try reader.bytes(test.nonce, "nonce", caseId: test.tcId)
            let expected = try reader.bytes(test.ciphertext, "ciphertext", caseId: test.tcId)
            let keystream = try? ChaCha20.keystream(
                key: key, nonce: nonce, initialCounter: test.counter, byteCount: plaintext.count)
            let ciphertext = keystream.map { zip(plaintext, $0).map { $0 ^ $1 } }
            recorder.record(
                test.tcId, ciphertext == expected,
                "ciphertext mismatch")
        }
        return recorder.results
    }
}

/// RFC 7748 §5.2 (single and iterated scalar multiplications) and §6.1 (key agreement) through ``X25519``.
struct Rfc7748X25519Suite: OwnFormatSuite {
    let algorithm = "rfc7748-x25519"

    struct Group: Codable, Sendable {
        var type: String
        var tests: [Test]
    }

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        var scalar: String?
        var u: String?
        var output: String?
        var iterations: Int?
        var alicePrivate: String?
        var alicePublic: String?
        var bobPrivate: String?
        var bobPublic: String?
        var shared: String?
        var result: String
    }

    /// The largest iteration count accepted from a file (bounds the work a file can request).
    static let maximumIterations = 100_000

    private func multiply(_ scalar: [UInt8], _ u: [UInt8]) throws -> [UInt8] {
        let key = try X25519.PrivateKey(rawRepresentation: SecretBytes(copying: scalar))
        return try key.sharedSecret(with: X25519.PublicKey(rawRepresentation: u)).secret.unsafeExportedBytes()
    }

    private func required(_ value: String?, _ field: String, _ id: Int, _ reader: FieldReader) throws -> [UInt8] {
        guard let value else {
            throw VectorError.malformedFile(file: reader.fileName, reason: "case \(id): missing \(field)")
        }
        return try reader.bytes(value, field, caseId: id)
    }

    func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
        let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
        let reader = FieldReader(fileName: fileName)
        var recorder = CaseRecorder(fileName: fileName)
        for group in file.testGroups {
            for test in group.tests {
                let id = test.tcId
                try reader.result(test.result, caseId: id, allowed: ["valid"])
                switch group.type {
                case "ScalarMultiplication":
                    let out = try? multiply(
                        try required(test.scalar, "scalar", id, reader), try required(test.u, "u", id, reader))
                    recorder.record(id, out == (try required(test.output, "output", id, reader)), "output mismatch")
                case "Iterated":
                    guard let iterations = test.iterations, (1...Self.maximumIterations).contains(iterations) else {
                        throw VectorError.malformedFile(file: fileName, reason: "case \(id): bad iterations")
                    }
                    // k = u = 9; repeat: (k, u) ← (X25519(k, u), k).
                    var k = [9] + [UInt8](repeating: 0, count: 31)
                    var u = k
                    var failed = false
                    for _ in 0..<iterations {
                        guard let next = try? multiply(k, u) else {
                            failed = true
                            break
                        }
                        (k, u) = (next, k)
                    }
                    let expected = try required(test.output, "output", id, reader)
                    recorder.record(id, !failed && k == expected, "output mismatch")
                case "DiffieHellman":
                    let alice = try X25519.PrivateKey(
                        rawRepresentation: SecretBytes(
                            copying: try required(test.alicePrivate, "alicePrivate", id, reader)))
                    let bob = try X25519.PrivateKey(
                        rawRepresentation: SecretBytes(copying: try required(test.bobPrivate, "bobPrivate", id, reader))
                    )
                    let shared = try required(test.shared, "shared", id, reader)
                    let ab = try? alice.sharedSecret(with: bob.publicKey).secret.unsafeExportedBytes()
                    let ba = try? bob.sharedSecret(with: alice.publicKey).secret.unsafeExportedBytes()
                    let alicePublic = try required(test.alicePublic, "alicePublic", id, reader)
                    let bobPublic = try required(test.bobPublic, "bobPublic", id, reader)
                    recorder.record(
                        id,
                        alice.publicKey.rawRepresentation == alicePublic && bob.publicKey.rawRepresentation == bobPublic
                            && ab == shared && ba == shared,
                        "public key or shared secret mismatch")
                default:
                    throw VectorError.malformedFile(file: fileName, reason: "unknown group type \(group.type)")
                }
            }
        }
        return recorder.results
    }
}

/// RFC 5869 A.1–A.3 through ``Hkdf``: PRK from extract, OKM from extract-then-expand.
struct Rfc5869HkdfSuite: OwnFormatSuite {
    let algorithm = "rfc5869-hkdf-sha256"

    struct Group: Codable, Sendable {
        var type: String
        var tests: [Test]
    }

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        var ikm: String
        var salt: String
        var info: String
        var length: Int
        var prk: String
        var okm: String
        var result: String
    }

    func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
        let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
        let reader = FieldReader(fileName: fileName)
        var recorder = CaseRecorder(fileName: fileName)
        for test in file.testGroups.flatMap(\.tests) {
            let id = test.tcId
            try reader.result(test.result, caseId: id, allowed: ["valid"])
            let ikm = SecretBytes(copying: try reader.bytes(test.ikm, "ikm", caseId: id))
            let salt = try reader.bytes(test.salt, "salt", caseId: id)
            let prk = try? Hkdf.extract(salt: salt, inputKeyMaterial: ikm).unsafeExportedBytes()
            let okm = try? Hkdf.deriveKey(
                inputKeyMaterial: ikm, salt: salt, info: try reader.bytes(test.info, "info", caseId: id),
                outputByteCount: test.length
            ).unsafeExportedBytes()
            let expectedPrk = try reader.bytes(test.prk, "prk", caseId: id)
            let expectedOkm = try reader.bytes(test.okm, "okm", caseId: id)
            recorder.record(
                id, prk == expectedPrk && okm == expectedOkm,
                "PRK or OKM mismatch")
        }
        return recorder.results
    }
}
