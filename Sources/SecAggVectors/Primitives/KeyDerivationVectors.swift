import Foundation
import SecAggCrypto

/// `primitives/key_derivation.json`: X25519 agreement → pairwise mask seed and share-encryption key
/// (SPEC.md §3), plus low-order peers that must be rejected.
public enum KeyDerivationVectors {
    /// The `algorithm` value.
    public static let algorithm = "secagg-key-derivation"
    /// The file path.
    public static let relativePath = "primitives/key_derivation.json"

    struct Group: Codable, Sendable {
        var tests: [Test]
    }

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        var u: UInt32
        var v: UInt32
        var sessionId: String
        var privateKeyU: String
        var publicKeyV: String
        var sharedSecret: String
        var pairwiseMaskSeedInfo: String
        var pairwiseMaskSeed: String
        var shareEncryptionKeyInfo: String
        var shareEncryptionKey: String
        var result: String
    }

    /// Low-order X25519 public keys (all-zero shared secret).
    static let lowOrderKeys = [
        [UInt8](repeating: 0, count: 32),
        [1] + [UInt8](repeating: 0, count: 31),
        Hex.decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800") ?? [],
    ]

    struct Generator: VectorGenerator {
        var relativePath: String { KeyDerivationVectors.relativePath }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/key-derivation"
            var rng = PrimitiveVectors.inputGenerator(label)
            var tests: [Test] = []
            let pairs: [(UInt32, UInt32, Int)] = [
                (1, 2, 32), (2, 1, 32), (7, 300, 32), (65_536, 3, 32), (1, UInt32.max, 32), (5, 9, 0), (5, 9, 16),
            ]
            for (u, v, sessionByteCount) in pairs {
                let keyU = X25519.PrivateKey(using: &rng)
                let keyV = X25519.PrivateKey(using: &rng)
                let session = rng.bytes(count: sessionByteCount)
                let shared = try keyU.sharedSecret(with: keyV.publicKey)
                tests.append(
                    Test(
                        tcId: tests.count + 1, comment: "pair (\(u), \(v)), \(sessionByteCount)-byte session id",
                        u: u, v: v, sessionId: Hex.encode(session),
                        privateKeyU: Hex.encode(keyU.rawRepresentation.unsafeExportedBytes()),
                        publicKeyV: Hex.encode(keyV.publicKey.rawRepresentation),
                        sharedSecret: Hex.encode(shared.secret.unsafeExportedBytes()),
                        pairwiseMaskSeedInfo: Hex.encode(KeyDerivation.info(label: .pairwiseMaskSeed, u, v)),
                        pairwiseMaskSeed: Hex.encode(
                            try KeyDerivation.pairwiseMaskSeed(sharedSecret: shared, sessionId: session, u, v)
                                .unsafeExportedBytes()),
                        shareEncryptionKeyInfo: Hex.encode(KeyDerivation.info(label: .shareEncryptionKey, u, v)),
                        shareEncryptionKey: Hex.encode(
                            try KeyDerivation.shareEncryptionKey(sharedSecret: shared, sessionId: session, u, v)
                                .unsafeExportedBytes()),
                        result: "valid"))
            }
            for lowOrder in KeyDerivationVectors.lowOrderKeys {
                let keyU = X25519.PrivateKey(using: &rng)
                tests.append(
                    Test(
                        tcId: tests.count + 1, comment: "low-order peer public key: agreement must be rejected",
                        u: 1, v: 2, sessionId: Hex.encode(rng.bytes(count: 32)),
                        privateKeyU: Hex.encode(keyU.rawRepresentation.unsafeExportedBytes()),
                        publicKeyV: Hex.encode(lowOrder), sharedSecret: "",
                        pairwiseMaskSeedInfo: Hex.encode(KeyDerivation.info(label: .pairwiseMaskSeed, 1, 2)),
                        pairwiseMaskSeed: "",
                        shareEncryptionKeyInfo: Hex.encode(KeyDerivation.info(label: .shareEncryptionKey, 1, 2)),
                        shareEncryptionKey: "", result: "invalid"))
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: KeyDerivationVectors.algorithm, generator: PrimitiveVectors.generatorNote(label),
                    header:
                        "Key derivations (SPEC.md §3): X25519(privateKeyU, publicKeyV), then HKDF-SHA256 with salt = "
                        + "sessionId and info = label || LE32(min(u,v)) || LE32(max(u,v)); invalid cases use low-order "
                        + "public keys.",
                    testGroups: [Group(tests: tests)], testCount: tests.count))
        }
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { KeyDerivationVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for test in file.testGroups.flatMap(\.tests) {
                let id = test.tcId
                try reader.result(test.result, caseId: id)
                let session = try reader.bytes(test.sessionId, "sessionId", caseId: id)
                let infoSeed = try reader.bytes(test.pairwiseMaskSeedInfo, "pairwiseMaskSeedInfo", caseId: id)
                let infoKey = try reader.bytes(test.shareEncryptionKeyInfo, "shareEncryptionKeyInfo", caseId: id)
                let infoMatches =
                    infoSeed == KeyDerivation.info(label: .pairwiseMaskSeed, test.u, test.v)
                    && infoKey == KeyDerivation.info(label: .shareEncryptionKey, test.u, test.v)
                let shared: X25519.SharedSecret?
                do {
                    let key = try X25519.PrivateKey(
                        rawRepresentation: SecretBytes(
                            copying: try reader.bytes(test.privateKeyU, "privateKeyU", caseId: id)))
                    shared = try key.sharedSecret(
                        with: X25519.PublicKey(
                            rawRepresentation: try reader.bytes(test.publicKeyV, "publicKeyV", caseId: id)))
                } catch _ as SecAggCryptoError {
                    shared = nil
                }
                guard test.result == "valid" else {
                    recorder.record(id, shared == nil && infoMatches, "low-order key accepted")
                    continue
                }
                guard let shared else {
                    recorder.record(id, false, "key agreement failed")
                    continue
                }
                let seed = try? KeyDerivation.pairwiseMaskSeed(sharedSecret: shared, sessionId: session, test.u, test.v)
                let key = try? KeyDerivation.shareEncryptionKey(
                    sharedSecret: shared, sessionId: session, test.u, test.v)
                let expectedShared = try reader.bytes(test.sharedSecret, "sharedSecret", caseId: id)
                let expectedSeed = try reader.bytes(test.pairwiseMaskSeed, "pairwiseMaskSeed", caseId: id)
                let expectedKey = try reader.bytes(test.shareEncryptionKey, "shareEncryptionKey", caseId: id)
                recorder.record(
                    id,
                    infoMatches && shared.secret.unsafeExportedBytes() == expectedShared
                        && seed?.unsafeExportedBytes() == expectedSeed && key?.unsafeExportedBytes() == expectedKey,
                    "derivation mismatch")
            }
            return recorder.results
        }
    }
}
