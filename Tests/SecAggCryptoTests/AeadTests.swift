import SecAggCrypto
import Testing

@Suite struct AeadTests {
    private let key = SecretBytes(copying: (0..<32).map { UInt8($0) })
    private let session = [UInt8](repeating: 0x5a, count: 32)

    private func ad(_ sender: UInt32, _ recipient: UInt32, session: [UInt8]? = nil) -> [UInt8] {
        ShareAssociatedData(
            sessionId: session ?? self.session, sender: sender, recipient: recipient,
            purpose: .keyShares
        ).bytes
    }

    @Test("associated data layout")
    func associatedDataLayout() {
        let bytes = ShareAssociatedData(sessionId: [1, 2], sender: 0x0102_0304, recipient: 7, purpose: .keyShares)
            .bytes
        #expect(bytes == Array("secagg/v1/share-aead".utf8) + [1, 2, 4, 3, 2, 1, 7, 0, 0, 0, 1])
    }

    @Test("seal/open round trip; layout is nonce || ciphertext || tag")
    func roundTrip() throws {
        var rng = DeterministicRandomGenerator(testLabel: "aead")
        let plaintext = Array("shares of b_u and s_u^SK".utf8)
        let box = try Aead.seal(plaintext, key: key, associatedData: ad(3, 9), using: &rng)
        #expect(box.count == Aead.nonceByteCount + plaintext.count + Aead.tagByteCount)
        #expect(try Aead.open(box, key: key, associatedData: ad(3, 9)).unsafeExportedBytes() == plaintext)
        let again = try Aead.seal(
            plaintext, key: key, nonce: Array(box.prefix(Aead.nonceByteCount)), associatedData: ad(3, 9))
        #expect(again == box)
        let empty = try Aead.seal([], key: key, associatedData: [], using: &rng)
        #expect(try Aead.open(empty, key: key, associatedData: []).byteCount == 0)
    }

    @Test("reflected, swapped-recipient, cross-session, tampered and wrong-key boxes are rejected")
    func rejections() throws {
        var rng = DeterministicRandomGenerator(testLabel: "aead rejections")
        let box = try Aead.seal(Array("payload".utf8), key: key, associatedData: ad(3, 9), using: &rng)
        // Reflected: the recipient sends it back as if it came from itself to the sender.
        #expect(throws: SecAggCryptoError.authenticationFailure) {
            try Aead.open(box, key: key, associatedData: ad(9, 3))
        }
        // Swapped recipient: the server delivers it to another client.
        #expect(throws: SecAggCryptoError.authenticationFailure) {
            try Aead.open(box, key: key, associatedData: ad(3, 8))
        }
        // Cross-session replay.
        #expect(throws: SecAggCryptoError.authenticationFailure) {
            try Aead.open(box, key: key, associatedData: ad(3, 9, session: [UInt8](repeating: 0x5b, count: 32)))
        }
        // Every single-bit flip anywhere in the box.
        for index in box.indices {
            var tampered = box
            tampered[index] ^= 0x01
            #expect(throws: SecAggCryptoError.authenticationFailure) {
                try Aead.open(tampered, key: key, associatedData: ad(3, 9))
            }
        }
        #expect(throws: SecAggCryptoError.authenticationFailure) {
            try Aead.open(box, key: SecretBytes(copying: [UInt8](repeating: 0, count: 32)), associatedData: ad(3, 9))
        }
        #expect(throws: SecAggCryptoError.invalidCiphertextByteCount(actual: 39, minimum: 40)) {
            try Aead.open(Array(box.prefix(39)), key: key, associatedData: ad(3, 9))
        }
        #expect(throws: SecAggCryptoError.authenticationFailure) {
            try Aead.open(Array(box.dropLast()), key: key, associatedData: ad(3, 9))
        }
        #expect(throws: SecAggCryptoError.incorrectByteCount(actual: 16, expected: 32)) {
            try Aead.open(box, key: SecretBytes(copying: [UInt8](repeating: 0, count: 16)), associatedData: [])
        }
        #expect(throws: SecAggCryptoError.incorrectByteCount(actual: 12, expected: 24)) {
            try Aead.seal([], key: key, nonce: [UInt8](repeating: 0, count: 12), associatedData: [])
        }
    }
}
