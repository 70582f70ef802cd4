import SecAggCrypto
import Testing

private func hex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = s.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16) ?? 0) }
    return out
}

@Test func x25519Rfc7748() throws {
    // RFC 7748 §6.1
    let a = try X25519.PrivateKey(
        rawRepresentation: SecretBytes(copying: hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
    )
    #expect(a.publicKey.rawRepresentation == hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"))
    let b = try X25519.PublicKey(
        rawRepresentation: hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"))
    let s = try a.sharedSecret(with: b)
    #expect(s.secret.unsafeExportedBytes() == hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"))
    #expect(throws: SecAggCryptoError.invalidPublicKey) {
        try a.sharedSecret(with: X25519.PublicKey(rawRepresentation: [UInt8](repeating: 0, count: 32)))
    }
}

@Test func chacha20Rfc8439() throws {
    // RFC 8439 A.1 test vector #1: all-zero key and nonce, counter 0.
    let prg = try MaskPrg(seed: SecretBytes(copying: [UInt8](repeating: 0, count: 32)))
    #expect(
        prg.keystreamBytes(count: 64)
            == hex(
                "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"
            ))
}

@Test func hkdfRfc5869() throws {
    let okm = try Hkdf.deriveKey(
        inputKeyMaterial: SecretBytes(copying: hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b")),
        salt: hex("000102030405060708090a0b0c"), info: hex("f0f1f2f3f4f5f6f7f8f9"), outputByteCount: 42)
    #expect(
        okm.unsafeExportedBytes()
            == hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"))
}

@Test func shamirRoundTrip() throws {
    var rng = DeterministicRandomGenerator(testLabel: "shamir")
    let secret = SecretBytes(randomByteCount: 32, using: &rng)
    let shares = try ShamirSecretSharing.split(secret: secret, threshold: 3, shareCount: 5, using: &rng)
    let r = try ShamirSecretSharing.reconstruct([shares[4], shares[1], shares[2]], threshold: 3, secretByteCount: 32)
    #expect(r == secret)
    let r2 = try ShamirSecretSharing.reconstruct(
        [shares[4], shares[1], shares[2], shares[0]], threshold: 3, secretByteCount: 32)
    #expect(r2 == secret)
}

@Test func maskAddSubtract() throws {
    let prg = try MaskPrg(seed: SecretBytes(randomByteCount: 32))
    for modulus in [
        RingModulus.powerOfTwo(bitWidth: 32), .powerOfTwo(bitWidth: 13), .integer(1_000_003), .powerOfTwo(bitWidth: 64),
    ] {
        var v = [UInt64](repeating: 7, count: 10_000)
        try prg.add(into: &v, modulus: modulus)
        #expect(v != [UInt64](repeating: 7, count: 10_000))
        try prg.subtract(from: &v, modulus: modulus)
        #expect(v == [UInt64](repeating: 7, count: 10_000))
    }
}
