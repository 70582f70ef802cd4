internal import CSodium
import Foundation
import SecAggCrypto

/// `primitives/ed25519_strict.json`: Ed25519 verification as libsodium applies it (SPEC.md §2.5). Besides valid
/// signatures, each invalid case names the first rule of §2.5 that rejects it; several are built so that the plain
/// RFC 8032 equation [S]B = R + [k]A holds (a verifier without the strictness rules would accept them).
enum Ed25519StrictVectors {
    static let algorithm = "secagg-ed25519-strict"
    static let relativePath = "primitives/ed25519_strict.json"

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        var publicKey: String
        var message: String
        var signature: String
        var result: String
        /// Invalid cases: the first rule of SPEC.md §2.5 that rejects the signature: `nonCanonicalS`, `smallOrderR`,
        /// `nonCanonicalPublicKey`, `smallOrderPublicKey`, `invalidPublicKey` or `equation`.
        var rejectedBy: String?
    }

    struct Group: Codable, Sendable {
        var tests: [Test]
    }

    /// The group order L, little-endian.
    static let order: [UInt8] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ]

    /// a + m · L as 256-bit little-endian integers (no overflow for the values used here).
    static func addOrder(_ a: [UInt8], times m: Int) -> [UInt8] {
        var out = a
        for _ in 0..<m {
            var carry = 0
            for i in 0..<32 {
                let sum = Int(out[i]) + Int(order[i]) + carry
                out[i] = UInt8(sum & 0xff)
                carry = sum >> 8
            }
        }
        return out
    }

    /// y as 32 little-endian bytes, bit 255 = `sign`.
    static func encoding(_ bytes: [UInt8], sign: Bool = false) -> [UInt8] {
        var out = bytes + [UInt8](repeating: 0, count: 32 - bytes.count)
        if sign { out[31] |= 0x80 }
        return out
    }

    /// p + j (j < 19) encoded: p = 2^255 − 19 is ed ff … ff 7f.
    static func pPlus(_ j: UInt8) -> [UInt8] {
        [0xed + j] + [UInt8](repeating: 0xff, count: 30) + [0x7f]
    }

    static func reduce(_ wide: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_reduce(&out, wide)
        return out
    }

    static func sha512(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        crypto_hash_sha512(&out, data, UInt64(data.count))
        return out
    }

    struct Generator: VectorGenerator {
        var relativePath: String { Ed25519StrictVectors.relativePath }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/ed25519-strict"
            var rng = PrimitiveVectors.inputGenerator(label)
            guard sodium_init() >= 0 else { throw VectorError.malformedFile(file: relativePath, reason: "libsodium") }
            let seed = rng.bytes(count: 32)
            var pk = [UInt8](repeating: 0, count: 32)
            var sk = [UInt8](repeating: 0, count: 64)
            crypto_sign_seed_keypair(&pk, &sk, seed)
            func sign(_ message: [UInt8]) -> [UInt8] {
                var signature = [UInt8](repeating: 0, count: 64)
                crypto_sign_detached(&signature, nil, message, UInt64(message.count), sk)
                return signature
            }
            // The secret scalar a (clamped SHA-512 of the seed, as X25519 uses it), reduced mod L.
            var clamped = [UInt8](repeating: 0, count: 32)
            crypto_sign_ed25519_sk_to_curve25519(&clamped, sk)
            let a = Ed25519StrictVectors.reduce(clamped + [UInt8](repeating: 0, count: 32))
            let message = rng.bytes(count: 29)
            let signature = sign(message)
            let r = Array(signature[0..<32])
            let s = Array(signature[32..<64])

            var tests: [Test] = []
            func add(_ comment: String, _ publicKey: [UInt8], _ message: [UInt8], _ signature: [UInt8], _ rule: String?)
            {
                tests.append(
                    Test(
                        tcId: tests.count + 1, comment: comment, publicKey: Hex.encode(publicKey),
                        message: Hex.encode(message), signature: Hex.encode(signature),
                        result: rule == nil ? "valid" : "invalid", rejectedBy: rule))
            }
            add("a valid signature", pk, message, signature, nil)
            add("a valid signature of the empty message", pk, [], sign([]), nil)
            var other = message
            other[0] ^= 1
            add("another message", pk, other, signature, "equation")
            var negated = pk
            negated[31] ^= 0x80
            add("the public key with its sign bit flipped (−A)", negated, message, signature, "equation")
            add(
                "S + L (the equation holds for S + L)", pk, message, r + Ed25519StrictVectors.addOrder(s, times: 1),
                "nonCanonicalS")
            add("S + 7L", pk, message, r + Ed25519StrictVectors.addOrder(s, times: 7), "nonCanonicalS")

            // A = the identity, R = [a]B (the real public key), S = a: [S]B = R + [k]A holds for every message.
            let identity = Ed25519StrictVectors.encoding([1])
            let forged = pk + a
            add(
                "public key the identity (order 1), R = [a]B, S = a: the equation holds", identity, message, forged,
                "smallOrderPublicKey")
            let order8 = "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"
            let order8Negated = "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"
            for (comment, key) in [
                ("public key y = 0 (order 4)", Ed25519StrictVectors.encoding([0])),
                ("public key y = 0 with the sign bit set", Ed25519StrictVectors.encoding([0], sign: true)),
                ("public key the identity with the sign bit set", Ed25519StrictVectors.encoding([1], sign: true)),
                (
                    "public key y = p − 1 (order 2)",
                    Ed25519StrictVectors.pPlus(0).enumerated().map { $0 == 0 ? 0xec : $1 }
                ),
                ("public key of order 8", Hex.decode(order8) ?? []),
                ("public key of order 8 (the other y)", Hex.decode(order8Negated) ?? []),
                (
                    "public key of order 8 with the sign bit set",
                    (Hex.decode(order8) ?? []).enumerated().map { $0 == 31 ? $1 | 0x80 : $1 }
                ),
            ] {
                add(comment, key, message, forged, "smallOrderPublicKey")
            }
            add(
                "public key y = p (non-canonical 0, small order)", Ed25519StrictVectors.pPlus(0), message, forged,
                "nonCanonicalPublicKey")
            add(
                "public key y = p + 1 (non-canonical identity)", Ed25519StrictVectors.pPlus(1), message, forged,
                "nonCanonicalPublicKey")
            add(
                "public key y = p + 3 (non-canonical 3)", Ed25519StrictVectors.pPlus(3), message, signature,
                "nonCanonicalPublicKey")
            add(
                "public key y = 2^255 − 1", Ed25519StrictVectors.pPlus(18), message, signature,
                "nonCanonicalPublicKey")
            add(
                "public key y = 2, not on the curve", Ed25519StrictVectors.encoding([2]), message, signature,
                "invalidPublicKey")

            // R = the identity, S = k · a with k = SHA-512(R || A || M) mod L: [S]B = [k]A = R + [k]A holds.
            let k = Ed25519StrictVectors.reduce(Ed25519StrictVectors.sha512(identity + pk + message))
            var ka = [UInt8](repeating: 0, count: 32)
            crypto_core_ed25519_scalar_mul(&ka, k, a)
            add("R the identity, S = k · a: the equation holds", pk, message, identity + ka, "smallOrderR")
            add("R of order 8", pk, message, (Hex.decode(order8) ?? []) + ka, "smallOrderR")
            add("R y = p + 1 (non-canonical identity)", pk, message, Ed25519StrictVectors.pPlus(1) + ka, "smallOrderR")
            add(
                "R of order 8 and S + L: S is checked first", pk, message,
                (Hex.decode(order8) ?? []) + Ed25519StrictVectors.addOrder(ka, times: 1), "nonCanonicalS")
            add(
                "R small order and the public key small order: R is checked first", identity, message, identity + ka,
                "smallOrderR")
            add(
                "R y = p + 3 (a non-canonical R that is not small order)", pk, message,
                Ed25519StrictVectors.pPlus(3) + s,
                "equation")
            add(
                "public key non-canonical and of small order (y = p): canonicity is checked first",
                Ed25519StrictVectors.pPlus(0), message, signature, "nonCanonicalPublicKey")

            // Every case must agree with libsodium.
            for test in tests {
                let valid = Ed25519StrictVectors.verify(test)
                guard valid == (test.result == "valid") else {
                    throw VectorError.malformedFile(file: relativePath, reason: "case \(test.tcId) disagrees")
                }
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: Ed25519StrictVectors.algorithm,
                    generator: PrimitiveVectors.generatorNote(label)
                        + "; forged signatures built with libsodium's Ed25519 scalar arithmetic",
                    header: "Ed25519 verification as libsodium's crypto_sign_verify_detached applies it (SPEC.md "
                        + "§2.5): publicKey, message, signature; valid cases must verify, invalid ones must not, and "
                        + "rejectedBy names the first rule of §2.5 that rejects (nonCanonicalS, smallOrderR, "
                        + "nonCanonicalPublicKey, smallOrderPublicKey, invalidPublicKey, equation).",
                    testGroups: [Group(tests: tests)], testCount: tests.count))
        }
    }

    static func verify(_ test: Test) -> Bool {
        guard let key = Hex.decode(test.publicKey), let message = Hex.decode(test.message),
            let signature = Hex.decode(test.signature), let publicKey = try? Ed25519.PublicKey(rawRepresentation: key)
        else { return false }
        return publicKey.isValidSignature(signature, for: message)
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { Ed25519StrictVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for test in file.testGroups.flatMap(\.tests) {
                try reader.result(test.result, caseId: test.tcId)
                let valid = Ed25519StrictVectors.verify(test)
                recorder.record(
                    test.tcId, valid == (test.result == "valid"),
                    valid ? "accepted, expected rejection by \(test.rejectedBy ?? "?")" : "rejected a valid signature")
            }
            return recorder.results
        }
    }
}
