import SecAggCrypto
import Testing

@Suite struct SignatureAndSecretTests {
    @Test("Ed25519 sign/verify, RFC 8032 test 1, and rejection of modified inputs")
    func ed25519() throws {
        // RFC 8032 §7.1 TEST 1.
        let key = try Ed25519.PrivateKey(
            seed: SecretBytes(copying: hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")))
        #expect(
            key.publicKey.rawRepresentation
                == hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
        let signature = key.signature(for: [])
        #expect(
            signature
                == hex(
                    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                        + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"))
        try key.publicKey.verify(signature, for: [])
        #expect(!key.publicKey.isValidSignature(signature, for: [0]))
        var modified = signature
        modified[10] ^= 4
        #expect(throws: SecAggCryptoError.invalidSignature) { try key.publicKey.verify(modified, for: []) }
        #expect(!key.publicKey.isValidSignature(Array(signature.dropLast()), for: []))
        var rng = DeterministicRandomGenerator(testLabel: "ed25519")
        let other = Ed25519.PrivateKey(using: &rng)
        let message = Array("round 2 transcript".utf8)
        #expect(other.publicKey.isValidSignature(other.signature(for: message), for: message))
        #expect(!key.publicKey.isValidSignature(other.signature(for: message), for: message))
        #expect(throws: SecAggCryptoError.incorrectByteCount(actual: 31, expected: 32)) {
            try Ed25519.PublicKey(rawRepresentation: [UInt8](repeating: 0, count: 31))
        }
        #expect(throws: SecAggCryptoError.incorrectByteCount(actual: 16, expected: 32)) {
            try Ed25519.PrivateKey(seed: SecretBytes(copying: [UInt8](repeating: 0, count: 16)))
        }
    }

    @Test("SecretBytes: redacted description, equality, export")
    func secretBytes() {
        let a = SecretBytes(copying: [0xde, 0xad, 0xbe, 0xef])
        let b = SecretBytes(copying: [0xde, 0xad, 0xbe, 0xef])
        let c = SecretBytes(copying: [0xde, 0xad, 0xbe, 0xee])
        #expect(a == b)
        #expect(a != c)
        #expect(a != SecretBytes(copying: [0xde, 0xad, 0xbe]))
        #expect(SecretBytes(copying: []) == SecretBytes(copying: []))
        #expect(a.description == "SecretBytes(4 bytes, redacted)")
        #expect(String(reflecting: a) == a.description)
        #expect(!"\(a)".lowercased().contains("dead"))
        #expect(!"\(a)".contains("222"))  // 0xde = 222
        #expect(a.unsafeExportedBytes() == [0xde, 0xad, 0xbe, 0xef])
        let filled = SecretBytes(byteCount: 3) { $0.copyBytes(from: [7, 8, 9]) }
        #expect(filled.unsafeExportedBytes() == [7, 8, 9])
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        var buffer: [UInt32] = [1, 2, 3]
        secureZero(&buffer)
        #expect(buffer == [0, 0, 0])
        #expect("\(SecAggCryptoError.authenticationFailure)".contains("authentication"))
    }

    @Test("DeterministicRandomGenerator is the ChaCha20 keystream with nonce SecAgg-DRBG1, byte by byte")
    func deterministicGenerator() throws {
        let seed = (0..<32).map { UInt8($0 * 3) }
        var rng = try DeterministicRandomGenerator(seed: seed)
        var pieces: [UInt8] = []
        for size in [1, 0, 7, 64, 3, 100, 13] { pieces += rng.bytes(count: size) }
        let stream = try ChaCha20.keystream(
            key: SecretBytes(copying: seed), nonce: Array("SecAgg-DRBG1".utf8), initialCounter: 0, byteCount: 188)
        #expect(pieces == stream)
        var again = try DeterministicRandomGenerator(seed: seed)
        #expect(
            again.next(UInt64.self)
                == UInt64(littleEndian: stream.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }))
        #expect(throws: SecAggCryptoError.incorrectByteCount(actual: 31, expected: 32)) {
            try DeterministicRandomGenerator(seed: [UInt8](repeating: 0, count: 31))
        }
        var labelled = DeterministicRandomGenerator(testLabel: "x")
        var explicit = try DeterministicRandomGenerator(seed: [0x78] + [UInt8](repeating: 0, count: 31))
        #expect(labelled.bytes(count: 40) == explicit.bytes(count: 40))
        for bound: UInt64 in [1, 2, 3, 1000, UInt64.max] {
            for _ in 0..<50 { #expect(labelled.next(below: bound) < max(bound, 1)) }
        }
        let unit = labelled.nextUnitDouble()
        #expect(unit >= 0 && unit < 1)
    }
}
