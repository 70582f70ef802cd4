import SecAggCrypto
import Testing

@Suite struct ShamirTests {
    private static func secret(_ label: String, byteCount: Int) -> SecretBytes {
        var rng = DeterministicRandomGenerator(testLabel: label)
        return SecretBytes(randomByteCount: byteCount, using: &rng)
    }

    /// A random subset of `count` shares in random order.
    private static func subset(
        _ shares: [ShamirShare], count: Int, using rng: inout DeterministicRandomGenerator
    ) -> [ShamirShare] {
        var pool = shares
        var picked: [ShamirShare] = []
        for _ in 0..<count {
            let index = Int(rng.next(below: UInt64(pool.count)))
            picked.append(pool.remove(at: index))
        }
        return picked
    }

    @Test(
        "reconstructs from random subsets of at least t shares",
        arguments: [
            (1, 1, 32), (1, 4, 7), (2, 3, 1), (3, 5, 32), (5, 9, 33), (7, 7, 16), (10, 20, 64),
        ])
    func reconstructsFromSubsets(threshold: Int, shareCount: Int, byteCount: Int) throws {
        var rng = DeterministicRandomGenerator(testLabel: "subsets \(threshold) \(shareCount) \(byteCount)")
        let secret = Self.secret("secret \(threshold)/\(shareCount)/\(byteCount)", byteCount: byteCount)
        let shares = try ShamirSecretSharing.split(
            secret: secret, threshold: threshold, shareCount: shareCount, using: &rng)
        #expect(shares.map(\.x) == (1...shareCount).map { UInt32($0) })
        #expect(shares.allSatisfy { $0.chunkCount == ShamirSecretSharing.chunkCount(secretByteCount: byteCount) })
        for trial in 0..<12 {
            let count = threshold + trial % (shareCount - threshold + 1)
            let chosen = Self.subset(shares, count: count, using: &rng)
            let recovered = try ShamirSecretSharing.reconstruct(
                chosen, threshold: threshold, secretByteCount: byteCount)
            #expect(recovered == secret, "trial \(trial): \(chosen.map(\.x))")
        }
    }

    @Test("fewer than t shares is notEnoughShares")
    func belowThreshold() throws {
        var rng = DeterministicRandomGenerator(testLabel: "below")
        let secret = Self.secret("below", byteCount: 32)
        let shares = try ShamirSecretSharing.split(secret: secret, threshold: 4, shareCount: 6, using: &rng)
        for count in 0..<4 {
            #expect(throws: SecAggCryptoError.notEnoughShares(count: count, threshold: 4)) {
                try ShamirSecretSharing.reconstruct(Array(shares.prefix(count)), threshold: 4, secretByteCount: 32)
            }
        }
    }

    @Test("duplicate and zero x-coordinates, bad thresholds, values ≥ p are typed errors")
    func invalidInputs() throws {
        var rng = DeterministicRandomGenerator(testLabel: "invalid")
        let secret = Self.secret("invalid", byteCount: 14)
        let shares = try ShamirSecretSharing.split(secret: secret, threshold: 2, shareCount: 3, using: &rng)
        #expect(throws: SecAggCryptoError.duplicateShareIndex(index: 2)) {
            try ShamirSecretSharing.reconstruct([shares[1], shares[1]], threshold: 2, secretByteCount: 14)
        }
        #expect(throws: SecAggCryptoError.duplicateShareIndex(index: 5)) {
            try ShamirSecretSharing.split(secret: secret, threshold: 2, xCoordinates: [5, 1, 5], using: &rng)
        }
        #expect(throws: SecAggCryptoError.zeroShareIndex) {
            try ShamirSecretSharing.split(secret: secret, threshold: 2, xCoordinates: [1, 0, 3], using: &rng)
        }
        #expect(throws: SecAggCryptoError.zeroShareIndex) {
            try ShamirShare(x: 0, values: shares[0].values)
        }
        for threshold in [0, -1, 4] {
            #expect(throws: SecAggCryptoError.invalidThreshold(threshold: threshold, shareCount: 3)) {
                try ShamirSecretSharing.split(secret: secret, threshold: threshold, shareCount: 3, using: &rng)
            }
        }
        #expect(throws: SecAggCryptoError.self) {
            try ShamirSecretSharing.split(secret: SecretBytes(copying: []), threshold: 1, shareCount: 1, using: &rng)
        }
        // A value equal to p (the first non-element) in the second chunk.
        var encoded = shares[0].encoded()
        let p = Mersenne61.prime
        for k in 0..<8 { encoded[12 + k] = UInt8(truncatingIfNeeded: p >> UInt64(8 * k)) }
        #expect(throws: SecAggCryptoError.invalidShareValue(index: 1)) {
            try ShamirShare(encoded: encoded, secretByteCount: 14)
        }
        #expect(throws: SecAggCryptoError.incorrectByteCount(actual: encoded.count - 1, expected: encoded.count)) {
            try ShamirShare(encoded: Array(encoded.dropLast()), secretByteCount: 14)
        }
        #expect(throws: SecAggCryptoError.self) {
            try ShamirShare(x: 1, values: SecretBytes(copying: [1, 2, 3]))
        }
    }

    @Test("mixed shares of different secrets are inconsistentShares")
    func mixedShares() throws {
        var rng = DeterministicRandomGenerator(testLabel: "mixed")
        let a = try ShamirSecretSharing.split(
            secret: Self.secret("mixed a", byteCount: 32), threshold: 3, shareCount: 5, using: &rng)
        let b = try ShamirSecretSharing.split(
            secret: Self.secret("mixed b", byteCount: 32), threshold: 3, shareCount: 5, using: &rng)
        // More than t shares: the extra share is checked against the interpolated polynomial.
        #expect(throws: SecAggCryptoError.inconsistentShares) {
            try ShamirSecretSharing.reconstruct([a[0], a[1], a[2], b[3]], threshold: 3, secretByteCount: 32)
        }
        // Exactly t shares: a mixed set interpolates to field elements that do not fit their chunks.
        #expect(throws: SecAggCryptoError.inconsistentShares) {
            try ShamirSecretSharing.reconstruct([a[0], b[1], a[2]], threshold: 3, secretByteCount: 32)
        }
        // Shares of a secret of another length.
        let c = try ShamirSecretSharing.split(
            secret: Self.secret("mixed c", byteCount: 40), threshold: 3, shareCount: 5, using: &rng)
        #expect(throws: SecAggCryptoError.inconsistentShares) {
            try ShamirSecretSharing.reconstruct([a[0], a[1], c[2]], threshold: 3, secretByteCount: 32)
        }
        // A reconstructor used with shares in another order than its coordinates.
        let reconstructor = try ShamirReconstructor(xCoordinates: [1, 2, 3], threshold: 3)
        #expect(throws: SecAggCryptoError.inconsistentShares) {
            try reconstructor.reconstruct([a[1], a[0], a[2]], secretByteCount: 32)
        }
        #expect(
            try reconstructor.reconstruct([a[0], a[1], a[2]], secretByteCount: 32)
                == Self.secret("mixed a", byteCount: 32))
    }

    @Test("the encoding round-trips and is LE32(x) || LE64 values")
    func encoding() throws {
        var rng = DeterministicRandomGenerator(testLabel: "encoding")
        let shares = try ShamirSecretSharing.split(
            secret: Self.secret("encoding", byteCount: 32), threshold: 2, shareCount: 300, using: &rng)
        let share = shares[257]
        let encoded = share.encoded()
        #expect(encoded.count == ShamirShare.encodedByteCount(secretByteCount: 32))
        #expect(encoded.count == 4 + 8 * 5)
        #expect(Array(encoded.prefix(4)) == [2, 1, 0, 0])
        #expect(try ShamirShare(encoded: encoded, secretByteCount: 32) == share)
        #expect(!share.description.contains(encoded.map { String($0) }.joined()))
        #expect(share.description == "ShamirShare(x: 258, 5 elements, redacted)")
    }

    @Test("secret chunk values follow the polynomial: threshold 1 shares are the chunks themselves")
    func thresholdOne() throws {
        var rng = DeterministicRandomGenerator(testLabel: "t1")
        let bytes: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 0xff, 0xfe]
        let shares = try ShamirSecretSharing.split(
            secret: SecretBytes(copying: bytes), threshold: 1, shareCount: 2, using: &rng)
        // Chunk 0 = LE(01..07) = 0x07060504030201, chunk 1 = LE(ff fe) = 0xfeff.
        let expected: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 0, 0xff, 0xfe, 0, 0, 0, 0, 0, 0]
        #expect(shares[0].values.unsafeExportedBytes() == expected)
        #expect(shares[1].values.unsafeExportedBytes() == expected)
    }

    @Test("Mersenne-61 arithmetic matches a reference on edge values")
    func field() {
        let p = Mersenne61.prime
        let values: [UInt64] = [0, 1, 2, p - 1, p - 2, 1 << 60, (1 << 61) - 3, 0x1234_5678_9abc_def]
        for a in values {
            for b in values {
                let product = (a.multipliedFullWidth(by: b))
                let reference = p.dividingFullWidth((product.high, product.low)).remainder
                #expect(Mersenne61.multiply(a, b) == reference)
                #expect(Mersenne61.add(a, b) == (a + b) % p)
                #expect(Mersenne61.subtract(a, b) == (a + p - b) % p)
            }
            if a != 0 { #expect(Mersenne61.multiply(a, Mersenne61.inverse(a)) == 1) }
        }
        #expect(Mersenne61.reduce(.max) == UInt64.max % p)
    }

    @Test("the loose Horner step stays below 2^62 and is congruent to acc · x + a")
    func looseHornerStep() {
        let p = Mersenne61.prime
        var rng = DeterministicRandomGenerator(testLabel: "loose horner")
        // Edge values of the documented ranges (acc, a < 2^62; x < 2^32), then random ones.
        var accs: [UInt64] = [0, 1, p - 1, p, (1 << 62) - 1, 1 << 61, (1 << 61) + 5]
        var xs: [UInt64] = [0, 1, 2, (1 << 32) - 1, 1 << 31, 999]
        var adds: [UInt64] = [0, 1, p - 1, (1 << 62) - 1]
        for _ in 0..<40 {
            accs.append(rng.next(UInt64.self) >> 2)
            xs.append(rng.next(UInt64.self) >> 32)
            adds.append(rng.next(UInt64.self) >> 2)
        }
        for acc in accs {
            for x in xs {
                for a in adds {
                    let step = Mersenne61.multiplyAddLoose(acc, x, a)
                    #expect(step < 1 << 62)
                    // Reference: (acc · x + a) mod p through 128-bit division.
                    let product = acc.multipliedFullWidth(by: x)
                    let (low, carry) = product.low.addingReportingOverflow(a)
                    let reference = p.dividingFullWidth((product.high + (carry ? 1 : 0), low)).remainder
                    #expect(Mersenne61.reduce(step) == reference, "acc \(acc) x \(x) a \(a)")
                }
            }
        }
    }
}

/// The decoder's path for many shares at once: `validatedIndex` accepts exactly what `ShamirShare(encoded:)`
/// accepts, and shares whose values were packed into one allocation equal shares decoded one by one.
@Suite struct PackedShareTests {
    @Test func validatedIndexAgreesWithTheDecoder() throws {
        var rng = DeterministicRandomGenerator(testLabel: "packed shares")
        let secret = SecretBytes(randomByteCount: 32, using: &rng)
        let shares = try ShamirSecretSharing.split(
            secret: secret, threshold: 3, xCoordinates: Array(1...6), using: &rng)
        var encodings = shares.map { $0.encoded() }
        // Rejections: x = 0, a value equal to p, a value with its top bit set, one byte short or long.
        var zero = encodings[0]
        zero.replaceSubrange(0..<4, with: [0, 0, 0, 0])
        var atPrime = encodings[1]
        atPrime.replaceSubrange(12..<20, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F])
        var high = encodings[2]
        high[43] = 0x80
        let hostile = [zero, atPrime, high, Array(encodings[3].dropLast()), encodings[4] + [0]]
        for bytes in encodings + hostile {
            let decoded = try? ShamirShare(encoded: bytes, secretByteCount: 32)
            #expect(ShamirShare.validatedIndex(encoded: bytes[...], secretByteCount: 32) == decoded?.x)
        }
        encodings = shares.map { $0.encoded() }
        let packed = SecretBytes.packed(encodings.map { $0.dropFirst(4) })
        for (share, values) in zip(shares, packed) {
            #expect(ShamirShare(validX: share.x, values: values) == share)
            #expect(values.byteCount == 40)
        }
        #expect(packed[0] != packed[1])
        let reconstructed = try ShamirSecretSharing.reconstruct(
            zip(shares, packed).map { ShamirShare(validX: $0.0.x, values: $0.1) }, threshold: 3, secretByteCount: 32)
        #expect(reconstructed == secret)
    }
}
