import Foundation
import SecAggCrypto

/// `primitives/share_aead.json`: share encryption (SPEC.md §5) with fixed nonces: valid boxes must be
/// reproduced and opened; reflected, misdirected, cross-session and tampered boxes must be rejected.
public enum ShareAeadVectors {
    /// The `algorithm` value.
    public static let algorithm = "secagg-share-aead"
    /// The file path.
    public static let relativePath = "primitives/share_aead.json"

    struct Group: Codable, Sendable {
        var tests: [Test]
    }

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        var key: String
        var nonce: String
        var sessionId: String
        var sender: UInt32
        var recipient: UInt32
        var purpose: UInt8
        var associatedData: String
        var plaintext: String
        var sealedBox: String
        var result: String
    }

    struct Generator: VectorGenerator {
        var relativePath: String { ShareAeadVectors.relativePath }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/share-aead"
            var rng = PrimitiveVectors.inputGenerator(label)
            var tests: [Test] = []
            func add(
                _ comment: String, key: SecretBytes, nonce: [UInt8], opening: ShareAssociatedData, plaintext: [UInt8],
                box: [UInt8], result: String
            ) {
                tests.append(
                    Test(
                        tcId: tests.count + 1, comment: comment, key: Hex.encode(key.unsafeExportedBytes()),
                        nonce: Hex.encode(nonce), sessionId: Hex.encode(opening.sessionId), sender: opening.sender,
                        recipient: opening.recipient, purpose: opening.purpose.rawValue,
                        associatedData: Hex.encode(opening.bytes), plaintext: Hex.encode(plaintext),
                        sealedBox: Hex.encode(box), result: result))
            }
            for (sender, recipient, plaintextCount) in [(1, 2, 0), (2, 1, 1), (3, 9, 88), (300, 7, 200)]
                as [(UInt32, UInt32, Int)]
            {
                let key = SecretBytes(randomByteCount: Aead.keyByteCount, using: &rng)
                let nonce = rng.bytes(count: Aead.nonceByteCount)
                let session = rng.bytes(count: 32)
                let plaintext = rng.bytes(count: plaintextCount)
                let ad = ShareAssociatedData(
                    sessionId: session, sender: sender, recipient: recipient, purpose: .keyShares)
                let box = try Aead.seal(plaintext, key: key, nonce: nonce, associatedData: ad.bytes)
                add(
                    "\(plaintextCount)-byte plaintext from \(sender) to \(recipient)", key: key, nonce: nonce,
                    opening: ad, plaintext: plaintext, box: box, result: "valid")
                guard plaintextCount == 88 else { continue }
                var reflected = ad
                (reflected.sender, reflected.recipient) = (ad.recipient, ad.sender)
                add(
                    "reflected: opened with sender and recipient swapped", key: key, nonce: nonce, opening: reflected,
                    plaintext: plaintext, box: box, result: "invalid")
                var misdirected = ad
                misdirected.recipient = ad.recipient + 1
                add(
                    "misdirected: opened as another recipient", key: key, nonce: nonce, opening: misdirected,
                    plaintext: plaintext, box: box, result: "invalid")
                var otherSession = ad
                otherSession.sessionId[0] ^= 1
                add(
                    "cross-session replay", key: key, nonce: nonce, opening: otherSession, plaintext: plaintext,
                    box: box, result: "invalid")
                for (what, index) in [("nonce", 0), ("ciphertext", Aead.nonceByteCount + 5), ("tag", box.count - 1)] {
                    var tampered = box
                    tampered[index] ^= 0x80
                    add(
                        "tampered \(what)", key: key, nonce: nonce, opening: ad, plaintext: plaintext, box: tampered,
                        result: "invalid")
                }
                add(
                    "truncated box", key: key, nonce: nonce, opening: ad, plaintext: plaintext,
                    box: Array(box.dropLast()), result: "invalid")
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: ShareAeadVectors.algorithm, generator: PrimitiveVectors.generatorNote(label),
                    header:
                        "Share AEAD (SPEC.md §5): XChaCha20-Poly1305 sealed box = nonce || ciphertext || tag with "
                        + "associatedData = \"secagg/v1/share-aead\" || sessionId || LE32(sender) || LE32(recipient) || "
                        + "purpose; invalid cases must fail to open with the listed associated-data fields.",
                    testGroups: [Group(tests: tests)], testCount: tests.count))
        }
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { ShareAeadVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for test in file.testGroups.flatMap(\.tests) {
                let id = test.tcId
                try reader.result(test.result, caseId: id)
                guard let purpose = SharePurpose(rawValue: test.purpose) else {
                    throw VectorError.malformedFile(file: fileName, reason: "case \(id): unknown purpose")
                }
                let ad = ShareAssociatedData(
                    sessionId: try reader.bytes(test.sessionId, "sessionId", caseId: id), sender: test.sender,
                    recipient: test.recipient, purpose: purpose)
                let key = SecretBytes(copying: try reader.bytes(test.key, "key", caseId: id))
                let plaintext = try reader.bytes(test.plaintext, "plaintext", caseId: id)
                let box = try reader.bytes(test.sealedBox, "sealedBox", caseId: id)
                let adMatches = ad.bytes == (try reader.bytes(test.associatedData, "associatedData", caseId: id))
                let opened = (try? Aead.open(box, key: key, associatedData: ad.bytes))?.unsafeExportedBytes()
                if test.result == "valid" {
                    let sealed = try? Aead.seal(
                        plaintext, key: key, nonce: try reader.bytes(test.nonce, "nonce", caseId: id),
                        associatedData: ad.bytes)
                    recorder.record(id, adMatches && sealed == box && opened == plaintext, "seal or open mismatch")
                } else {
                    recorder.record(id, adMatches && opened == nil, "invalid box was opened")
                }
            }
            return recorder.results
        }
    }
}
