import Foundation
import SecAggCrypto
import Testing

@Suite struct KeyAgreementTests {
    @Test("X25519 RFC 7748 §6.1 and symmetric agreement")
    func rfc7748() throws {
        let alice = try X25519.PrivateKey(
            rawRepresentation: SecretBytes(
                copying: hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")))
        let bob = try X25519.PrivateKey(
            rawRepresentation: SecretBytes(
                copying: hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")))
        #expect(
            alice.publicKey.rawRepresentation
                == hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"))
        #expect(
            bob.publicKey.rawRepresentation == hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"))
        let k1 = try alice.sharedSecret(with: bob.publicKey)
        let k2 = try bob.sharedSecret(with: alice.publicKey)
        #expect(k1 == k2)
        #expect(
            k1.secret.unsafeExportedBytes() == hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"))
    }

    @Test(
        "low-order public keys are rejected",
        arguments: [
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0100000000000000000000000000000000000000000000000000000000000000",
            "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
            "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        ])
    func lowOrder(publicKeyHex: String) throws {
        var rng = DeterministicRandomGenerator(testLabel: "low order")
        let key = X25519.PrivateKey(using: &rng)
        let peer = try X25519.PublicKey(rawRepresentation: hex(publicKeyHex))
        #expect(throws: SecAggCryptoError.invalidPublicKey) { try key.sharedSecret(with: peer) }
    }

    @Test("wrong key lengths are typed errors")
    func lengths() {
        #expect(throws: SecAggCryptoError.incorrectByteCount(actual: 31, expected: 32)) {
            try X25519.PublicKey(rawRepresentation: [UInt8](repeating: 9, count: 31))
        }
        #expect(throws: SecAggCryptoError.incorrectByteCount(actual: 33, expected: 32)) {
            try X25519.PrivateKey(rawRepresentation: SecretBytes(copying: [UInt8](repeating: 9, count: 33)))
        }
    }

    @Test("HKDF RFC 5869 A.1, empty salt, output limits")
    func hkdf() throws {
        let ikm = SecretBytes(copying: [UInt8](repeating: 0x0b, count: 22))
        let okm = try Hkdf.deriveKey(
            inputKeyMaterial: ikm, salt: hex("000102030405060708090a0b0c"), info: hex("f0f1f2f3f4f5f6f7f8f9"),
            outputByteCount: 42)
        #expect(
            okm.unsafeExportedBytes()
                == hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"))
        // RFC 5869 A.3: empty salt and info.
        let okm3 = try Hkdf.deriveKey(inputKeyMaterial: ikm, salt: [], info: [], outputByteCount: 42)
        #expect(
            okm3.unsafeExportedBytes()
                == hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"))
        #expect(try Hkdf.deriveKey(inputKeyMaterial: ikm, salt: [], info: [], outputByteCount: 8160).byteCount == 8160)
        #expect(throws: SecAggCryptoError.hkdfOutputTooLong(requested: 8161, maximum: 8160)) {
            try Hkdf.deriveKey(inputKeyMaterial: ikm, salt: [], info: [], outputByteCount: 8161)
        }
        #expect(throws: SecAggCryptoError.self) {
            try Hkdf.deriveKey(inputKeyMaterial: ikm, salt: [], info: [], outputByteCount: -1)
        }
        // Prefix property of HKDF-Expand.
        let long = try Hkdf.deriveKey(inputKeyMaterial: ikm, salt: [1], info: [2], outputByteCount: 100)
        let short = try Hkdf.deriveKey(inputKeyMaterial: ikm, salt: [1], info: [2], outputByteCount: 33)
        #expect(Array(long.unsafeExportedBytes().prefix(33)) == short.unsafeExportedBytes())
    }

    @Test("HMAC-SHA256 RFC 4231 case 2 and SHA-256 of abc")
    func hmac() {
        #expect(
            Hkdf.hmacSha256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
                == hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
        #expect(
            Hkdf.sha256(Array("abc".utf8))
                == hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        var hasher = Sha256Hasher()
        hasher.update(Array("a".utf8))
        hasher.update(Array("bc".utf8))
        #expect(hasher.finalize() == Hkdf.sha256(Array("abc".utf8)))
    }

    @Test("pairwise derivations are symmetric and separated by label, pair and session")
    func derivations() throws {
        var rng = DeterministicRandomGenerator(testLabel: "derivations")
        let u = X25519.PrivateKey(using: &rng)
        let v = X25519.PrivateKey(using: &rng)
        let suv = try u.sharedSecret(with: v.publicKey)
        let svu = try v.sharedSecret(with: u.publicKey)
        let session = [UInt8](repeating: 1, count: 32)
        let seedUV = try KeyDerivation.pairwiseMaskSeed(sharedSecret: suv, sessionId: session, 3, 7)
        let seedVU = try KeyDerivation.pairwiseMaskSeed(sharedSecret: svu, sessionId: session, 7, 3)
        #expect(seedUV == seedVU)
        #expect(seedUV.byteCount == 32)
        let keyUV = try KeyDerivation.shareEncryptionKey(sharedSecret: suv, sessionId: session, 3, 7)
        #expect(keyUV != seedUV)
        #expect(try KeyDerivation.pairwiseMaskSeed(sharedSecret: suv, sessionId: session, 3, 8) != seedUV)
        #expect(try KeyDerivation.pairwiseMaskSeed(sharedSecret: suv, sessionId: [2], 3, 7) != seedUV)
        #expect(
            KeyDerivation.info(label: .pairwiseMaskSeed, 7, 3)
                == Array("secagg/v1/pairwise-mask-seed".utf8) + [3, 0, 0, 0, 7, 0, 0, 0])
        // The derivation is exactly HKDF(salt: session, info).
        let direct = try Hkdf.deriveKey(
            inputKeyMaterial: suv.secret, salt: session, info: KeyDerivation.info(label: .shareEncryptionKey, 3, 7),
            outputByteCount: 32)
        #expect(direct == keyUV)
    }
}

@Suite struct BatchKeyAgreementTests {
    /// Whether this CPU reports AVX-512F and AVX-512 IFMA (Linux): the batch path must then be in use, so
    /// an implementation that failed its start-up self-test fails here instead of silently falling back.
    private static var cpuHasIfma: Bool {
        #if arch(x86_64) && os(Linux)
            guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
            return info.split(separator: "\n").contains { line in
                let flags = line.split(separator: " ")
                return line.hasPrefix("flags") && flags.contains("avx512f") && flags.contains("avx512ifma")
            }
        #else
            return false
        #endif
    }

    @Test("the batch backend is available wherever the CPU supports it")
    func backend() {
        #expect(X25519.BatchBackend.libsodium.isAvailable)
        #expect(X25519.batchBackend.isAvailable)
        if Self.cpuHasIfma { #expect(X25519.BatchBackend.avx512ifma.isAvailable) }
    }

    @Test(
        "batches equal one-by-one agreements",
        arguments: [0, 1, 2, 7, 8, 9, 16, 17, 61], X25519.BatchBackend.allCases)
    func matchesSingle(count: Int, backend: X25519.BatchBackend) throws {
        var rng = DeterministicRandomGenerator(testLabel: "batch \(count)")
        for _ in 0..<3 {
            let key = X25519.PrivateKey(using: &rng)
            // Random u-coordinates (most are not public keys of anyone: twist points too), some with bit 255
            // set or at least p (p + 2 and p + 18 stand for 2 and 18), and real public keys.
            var peers: [X25519.PublicKey] = []
            for i in 0..<count {
                var bytes = (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next(UInt64.self)) }
                if i % 5 == 1 { bytes = X25519.PrivateKey(using: &rng).publicKey.rawRepresentation }
                if i % 7 == 3 { bytes = [UInt8](repeating: 0xff, count: 31) + [i % 2 == 0 ? 0x7f : 0xff] }
                if i % 11 == 4 { bytes[0] = 0xef; for k in 1..<31 { bytes[k] = 0xff }; bytes[31] = 0x7f }
                peers.append(try X25519.PublicKey(rawRepresentation: bytes))
            }
            let batch = try key.sharedSecrets(with: peers, backend: backend)
            let single = try peers.map { try key.sharedSecret(with: $0) }
            #expect(batch == single)
        }
    }

    @Test(
        "a low-order peer anywhere in a batch gives the same error as one by one",
        arguments: X25519.BatchBackend.allCases)
    func lowOrderInBatch(backend: X25519.BatchBackend) throws {
        var rng = DeterministicRandomGenerator(testLabel: "batch low order")
        let key = X25519.PrivateKey(using: &rng)
        let lowOrder = try X25519.PublicKey(
            rawRepresentation: hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"))
        for position in [0, 5, 8, 12] {
            var peers = (0..<13).map { _ in X25519.PrivateKey(using: &rng).publicKey }
            peers[position] = lowOrder
            #expect(throws: SecAggCryptoError.invalidPublicKey) { try key.sharedSecrets(with: peers, backend: backend) }
        }
    }

    @Test("RFC 7748 §5.2 vector 1 in every lane", arguments: X25519.BatchBackend.allCases)
    func rfcVector(backend: X25519.BatchBackend) throws {
        let key = try X25519.PrivateKey(
            rawRepresentation: SecretBytes(
                copying: hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4")))
        let peer = try X25519.PublicKey(
            rawRepresentation: hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"))
        for secret in try key.sharedSecrets(with: [X25519.PublicKey](repeating: peer, count: 11), backend: backend) {
            #expect(
                secret.secret.unsafeExportedBytes()
                    == hex("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"))
        }
    }
}

/// ``X25519/PublicKey/hasSmallOrder`` (the server's round-0 check by coordinates) against libsodium's agreement,
/// which fails exactly when the result is all zeros.
@Suite struct SmallOrderTests {
    /// Every public key of Wycheproof's X25519 suite (edge cases, twist points, non-canonical and small-order
    /// coordinates), each also with its top bit flipped, plus random keys and coordinates near p: the coordinate
    /// check says "small order" exactly when libsodium's agreement with each of three random keys fails.
    @Test func smallOrderIsWhatLibsodiumRejects() throws {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
            directory = directory.deletingLastPathComponent()
        }
        let data = try Data(contentsOf: directory.appendingPathComponent("Vectors/wycheproof/x25519_test.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let groups = try #require(json["testGroups"] as? [[String: Any]])
        var candidates: [[UInt8]] = []
        for group in groups {
            for test in try #require(group["tests"] as? [[String: Any]]) {
                candidates.append(hex(try #require(test["public"] as? String)))
            }
        }
        #expect(candidates.count >= 500)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 { candidates.append((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }) }
        // p − 2 ... p + 20 (p = 2^255 − 19): the aliases of 0 and 1 and their neighbours.
        for low in UInt8(0xeb)...UInt8(0xff) { candidates.append([low] + [UInt8](repeating: 0xff, count: 30) + [0x7f]) }
        for low in UInt8(0)...UInt8(0x12) { candidates.append([low] + [UInt8](repeating: 0, count: 31)) }
        candidates += candidates.map {
            var flipped = $0; flipped[31] ^= 0x80; return flipped
        }
        let probes = (0..<3).map { _ in X25519.PrivateKey() }
        var smallOrder = 0
        for bytes in candidates {
            let key = try X25519.PublicKey(rawRepresentation: bytes)
            let rejected = probes.map { (try? $0.sharedSecret(with: key)) == nil }
            #expect(Set(rejected).count == 1, "probes disagree on \(bytes)")
            #expect(key.hasSmallOrder == rejected[0], "coordinate check disagrees with libsodium on \(bytes)")
            if key.hasSmallOrder { smallOrder += 1 }
        }
        // Both order-8 points, 0, 1, p − 1, p and p + 1 occur, with either top bit.
        #expect(smallOrder >= 14)
    }
}
