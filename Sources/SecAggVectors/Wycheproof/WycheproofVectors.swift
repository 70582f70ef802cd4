import Foundation
import SecAggCrypto

/// Suites for the Project Wycheproof files in `Vectors/wycheproof/` (copied unchanged).
///
/// Every case is checked. `valid` cases must be accepted with the expected output, `invalid` ones
/// rejected. `acceptable` cases (only X25519 has them) get the decision documented in SPEC.md §2.2 and
/// `Vectors/README.md`, and the verifier reports which decision applied.
public enum WycheproofVectors {
    /// The Wycheproof suites.
    public static var suites: [any VectorSuite] {
        [
            WycheproofX25519Suite(), WycheproofXChaCha20Poly1305Suite(), WycheproofHkdfSha256Suite(),
            WycheproofEd25519Suite(), WycheproofHmacSha256Suite(),
        ]
    }
}

/// A Wycheproof file: groups of tests with a `tcId`, `result` and `flags`.
struct WycheproofFile<Group: Decodable>: Decodable {
    var testGroups: [Group]
}

/// Accepts Wycheproof files by algorithm and schema.
protocol WycheproofSuite: VectorSuite {
    var algorithm: String { get }
    var schema: String { get }
}

extension WycheproofSuite {
    func accepts(_ header: VectorFileHeader, fileName: String) -> Bool {
        header.schemaVersion == nil && header.algorithm == algorithm && header.schema == schema
    }
}

/// X25519 (`x25519_test.json`, schema xdh_comp_schema_v1).
///
/// Decision for `acceptable`: a public key whose shared secret is all zeros (low order, flags
/// LowOrderPublic/ZeroSharedSecret) is rejected; every other acceptable key (twist points, non-canonical
/// u ≥ p, the top bit set) is accepted and must give the expected shared secret, as in libsodium.
struct WycheproofX25519Suite: WycheproofSuite {
    let name = "wycheproof-x25519"
    let algorithm = "XDH"
    let schema = "xdh_comp_schema_v1.json"

    struct Group: Decodable {
        var curve: String
        var tests: [Test]
    }

    struct Test: Decodable {
        var tcId: Int
        var `public`: String
        var `private`: String
        var shared: String
        var result: String
        var flags: [String]
    }

    func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
        let file = try VectorJson.decode(WycheproofFile<Group>.self, from: data, fileName: fileName)
        let reader = FieldReader(fileName: fileName)
        var recorder = CaseRecorder(fileName: fileName)
        for group in file.testGroups {
            guard group.curve == "curve25519" else {
                throw VectorError.malformedFile(file: fileName, reason: "unexpected curve \(group.curve)")
            }
            for test in group.tests {
                try reader.result(test.result, caseId: test.tcId, allowed: ["valid", "invalid", "acceptable"])
                let expected = try reader.bytes(test.shared, "shared", caseId: test.tcId)
                let computed: [UInt8]?
                // Every batch backend this machine has must agree with the single path on every case:
                // the same secret in every lane of a batch, or the same rejection.
                var batchAgrees = true
                var disagreeing = X25519.BatchBackend.libsodium
                do {
                    let key = try X25519.PrivateKey(
                        rawRepresentation: SecretBytes(
                            copying: try reader.bytes(test.private, "private", caseId: test.tcId)))
                    let peer = try X25519.PublicKey(
                        rawRepresentation: try reader.bytes(test.public, "public", caseId: test.tcId))
                    let single = try? key.sharedSecret(with: peer).secret.unsafeExportedBytes()
                    for backend in X25519.BatchBackend.allCases where backend.isAvailable && batchAgrees {
                        if let batch = try? key.sharedSecrets(with: [peer, peer, peer], backend: backend) {
                            batchAgrees = batch.allSatisfy { $0.secret.unsafeExportedBytes() == single }
                        } else {
                            batchAgrees = single == nil
                        }
                        disagreeing = backend
                    }
                    computed = single
                } catch let error as SecAggCryptoError {
                    _ = error
                    computed = nil
                }
                guard batchAgrees else {
                    recorder.record(test.tcId, false, "batch X25519 (\(disagreeing)) disagrees with the single one")
                    continue
                }
                let zeroShared = expected.count == 32 && expected.allSatisfy { $0 == 0 }
                switch test.result {
                case "valid":
                    recorder.record(test.tcId, computed == expected, "valid case: shared secret mismatch or rejected")
                case "invalid":
                    recorder.record(test.tcId, computed == nil, "invalid case accepted")
                default:
                    if zeroShared {
                        recorder.record(
                            test.tcId, computed == nil, "acceptable low-order key was accepted",
                            note: "acceptable → rejected (low-order public key, all-zero shared secret)")
                    } else {
                        recorder.record(
                            test.tcId, computed == expected, "acceptable key not accepted with the expected secret",
                            note: "acceptable → accepted like libsodium (\(test.flags.joined(separator: ", ")))")
                    }
                }
            }
        }
        return recorder.results
    }
}

/// XChaCha20-Poly1305 (`xchacha20_poly1305_test.json`, schema aead_test_schema_v1) through ``Aead``:
/// the sealed box is iv || ct || tag.
struct WycheproofXChaCha20Poly1305Suite: WycheproofSuite {
    let name = "wycheproof-xchacha20-poly1305"
    let algorithm = "XCHACHA20-POLY1305"
    let schema = "aead_test_schema_v1.json"

    struct Group: Decodable {
        var tests: [Test]
    }

    struct Test: Decodable {
        var tcId: Int
        var key: String
        var iv: String
        var aad: String
        var msg: String
        var ct: String
        var tag: String
        var result: String
    }

    func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
        let file = try VectorJson.decode(WycheproofFile<Group>.self, from: data, fileName: fileName)
        let reader = FieldReader(fileName: fileName)
        var recorder = CaseRecorder(fileName: fileName)
        for test in file.testGroups.flatMap(\.tests) {
            try reader.result(test.result, caseId: test.tcId)
            let key = SecretBytes(copying: try reader.bytes(test.key, "key", caseId: test.tcId))
            let iv = try reader.bytes(test.iv, "iv", caseId: test.tcId)
            let aad = try reader.bytes(test.aad, "aad", caseId: test.tcId)
            let msg = try reader.bytes(test.msg, "msg", caseId: test.tcId)
            let box =
                iv + (try reader.bytes(test.ct, "ct", caseId: test.tcId))
                + (try reader.bytes(test.tag, "tag", caseId: test.tcId))
            let sealed = try? Aead.seal(msg, key: key, nonce: iv, associatedData: aad)
            // A nonce of the wrong size cannot even be expressed as a sealed box: Aead refuses it.
            let opened =
                iv.count == Aead.nonceByteCount
                ? (try? Aead.open(box, key: key, associatedData: aad))?.unsafeExportedBytes() : nil
            if test.result == "valid" {
                recorder.record(test.tcId, sealed == box && opened == msg, "valid case: seal or open mismatch")
            } else {
                recorder.record(test.tcId, opened == nil && sealed != box, "invalid case accepted")
            }
        }
        return recorder.results
    }
}

/// HKDF-SHA256 (`hkdf_sha256_test.json`, schema hkdf_test_schema_v1); invalid cases ask for more than
/// 255 · 32 bytes and must throw.
struct WycheproofHkdfSha256Suite: WycheproofSuite {
    let name = "wycheproof-hkdf-sha256"
    let algorithm = "HKDF-SHA-256"
    let schema = "hkdf_test_schema_v1.json"

    struct Group: Decodable {
        var tests: [Test]
    }

    struct Test: Decodable {
        var tcId: Int
        var ikm: String
        var salt: String
        var info: String
        var size: Int
        var okm: String
        var result: String
    }

    func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
        let file = try VectorJson.decode(WycheproofFile<Group>.self, from: data, fileName: fileName)
        let reader = FieldReader(fileName: fileName)
        var recorder = CaseRecorder(fileName: fileName)
        for test in file.testGroups.flatMap(\.tests) {
            try reader.result(test.result, caseId: test.tcId)
            let ikm = SecretBytes(copying: try reader.bytes(test.ikm, "ikm", caseId: test.tcId))
            let salt = try reader.bytes(test.salt, "salt", caseId: test.tcId)
            let info = try reader.bytes(test.info, "info", caseId: test.tcId)
            let expected = try reader.bytes(test.okm, "okm", caseId: test.tcId)
            let okm = try? Hkdf.deriveKey(inputKeyMaterial: ikm, salt: salt, info: info, outputByteCount: test.size)
                .unsafeExportedBytes()
            if test.result == "valid" {
                recorder.record(test.tcId, okm == expected, "OKM mismatch")
            } else {
                recorder.record(test.tcId, okm == nil, "invalid size accepted")
            }
        }
        return recorder.results
    }
}

/// Ed25519 verification (`ed25519_test.json`, schema eddsa_verify_schema_v1) with libsodium's
/// strict `crypto_sign_verify_detached`.
struct WycheproofEd25519Suite: WycheproofSuite {
    let name = "wycheproof-ed25519"
    let algorithm = "EDDSA"
    let schema = "eddsa_verify_schema_v1.json"

    struct Group: Decodable {
        struct Key: Decodable {
            var curve: String
            var pk: String
        }
        var publicKey: Key
        var tests: [Test]
    }

    struct Test: Decodable {
        var tcId: Int
        var msg: String
        var sig: String
        var result: String
    }

    func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
        let file = try VectorJson.decode(WycheproofFile<Group>.self, from: data, fileName: fileName)
        let reader = FieldReader(fileName: fileName)
        var recorder = CaseRecorder(fileName: fileName)
        for group in file.testGroups {
            guard group.publicKey.curve == "edwards25519" else {
                throw VectorError.malformedFile(file: fileName, reason: "unexpected curve \(group.publicKey.curve)")
            }
            let key = try? Ed25519.PublicKey(rawRepresentation: try reader.bytes(group.publicKey.pk, "pk", caseId: 0))
            for test in group.tests {
                try reader.result(test.result, caseId: test.tcId)
                let accepted =
                    key?.isValidSignature(
                        try reader.bytes(test.sig, "sig", caseId: test.tcId),
                        for: try reader.bytes(test.msg, "msg", caseId: test.tcId)) ?? false
                recorder.record(
                    test.tcId, accepted == (test.result == "valid"),
                    accepted ? "invalid signature accepted" : "valid signature rejected")
            }
        }
        return recorder.results
    }
}

/// HMAC-SHA256 (`hmac_sha256_test.json`, schema mac_test_schema_v1); tags may be truncated to
/// `tagSize` bits, so the comparison is against the prefix.
struct WycheproofHmacSha256Suite: WycheproofSuite {
    let name = "wycheproof-hmac-sha256"
    let algorithm = "HMACSHA256"
    let schema = "mac_test_schema_v1.json"

    struct Group: Decodable {
        var tagSize: Int
        var tests: [Test]
    }

    struct Test: Decodable {
        var tcId: Int
        var key: String
        var msg: String
        var tag: String
        var result: String
    }

    func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
        let file = try VectorJson.decode(WycheproofFile<Group>.self, from: data, fileName: fileName)
        let reader = FieldReader(fileName: fileName)
        var recorder = CaseRecorder(fileName: fileName)
        for group in file.testGroups {
            guard group.tagSize % 8 == 0, (8...256).contains(group.tagSize) else {
                throw VectorError.malformedFile(file: fileName, reason: "unsupported tagSize \(group.tagSize)")
            }
            for test in group.tests {
                try reader.result(test.result, caseId: test.tcId)
                let mac = Hkdf.hmacSha256(
                    key: try reader.bytes(test.key, "key", caseId: test.tcId),
                    message: try reader.bytes(test.msg, "msg", caseId: test.tcId))
                let expected = try reader.bytes(test.tag, "tag", caseId: test.tcId)
                let matches = ConstantTime.equals(mac.prefix(group.tagSize / 8), expected)
                recorder.record(
                    test.tcId, matches == (test.result == "valid"),
                    matches ? "invalid tag accepted" : "valid tag rejected")
            }
        }
        return recorder.results
    }
}
