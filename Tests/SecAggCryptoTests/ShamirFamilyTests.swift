import Testing

@testable import SecAggCrypto

@Suite struct ShamirFamilyTests {
    /// The first t + 1 of `responders` other than `owner`: the set the server uses on the complete graph.
    private static func leaveOneOut(_ responders: [UInt32], owner: UInt32, threshold: Int) -> [UInt32] {
        Array(responders.filter { $0 != owner }.prefix(threshold + 1))
    }

    @Test("family coefficients equal the directly computed ones", arguments: [(1, 4), (2, 6), (5, 12), (40, 90)])
    func coefficientsMatchDirect(threshold: Int, responderCount: Int) throws {
        var rng = DeterministicRandomGenerator(testLabel: "family \(threshold) \(responderCount)")
        // Responders: distinct, unsorted-by-construction coordinates in 1...5000.
        var pool = Set<UInt32>()
        while pool.count < responderCount { pool.insert(UInt32(1 + rng.next(below: 5000))) }
        let responders = pool.sorted()
        let family = try ShamirReconstructorFamily(xCoordinates: Array(responders.prefix(threshold + 2)))
        for owner in responders.prefix(threshold + 3) + [0] {
            let xs = Self.leaveOneOut(responders, owner: owner, threshold: threshold)
            let direct = try ShamirReconstructor(xCoordinates: xs, threshold: threshold)
            let derived = try family.reconstructor(xCoordinates: xs, threshold: threshold)
            #expect(derived.xCoordinates == xs)
            #expect(derived.lagrangeCoefficients.atZero == direct.lagrangeCoefficients.atZero, "owner \(owner)")
            #expect(derived.lagrangeCoefficients.atChecks == direct.lagrangeCoefficients.atChecks, "owner \(owner)")
        }
        // A shuffled order (basis and check chosen differently) and a check outside the superset.
        var shuffled = Array(responders.prefix(threshold + 1))
        shuffled.reverse()
        shuffled.append(responders[responders.count - 1])
        let direct = try ShamirReconstructor(xCoordinates: shuffled, threshold: threshold)
        let derived = try family.reconstructor(xCoordinates: shuffled, threshold: threshold)
        #expect(derived.lagrangeCoefficients.atZero == direct.lagrangeCoefficients.atZero)
        #expect(derived.lagrangeCoefficients.atChecks == direct.lagrangeCoefficients.atChecks)
    }

    @Test("family reconstructors recover secrets and still detect a tampered share")
    func reconstructsAndDetects() throws {
        var rng = DeterministicRandomGenerator(testLabel: "family reconstruct")
        let threshold = 7
        let xs = (1...20).map { UInt32($0 * 3) }
        let secret = SecretBytes(randomByteCount: 32, using: &rng)
        let shares = try ShamirSecretSharing.split(secret: secret, threshold: threshold, xCoordinates: xs, using: &rng)
        let family = try ShamirReconstructorFamily(xCoordinates: Array(xs.prefix(threshold + 2)))
        for omitted in xs.prefix(threshold + 2) {
            let chosen = Array(shares.filter { $0.x != omitted }.prefix(threshold + 1))
            let reconstructor = try family.reconstructor(xCoordinates: chosen.map(\.x), threshold: threshold)
            #expect(try reconstructor.reconstruct(chosen, secretByteCount: 32) == secret)
            var tampered = chosen
            let last = tampered[threshold]
            var bytes = last.encoded()
            bytes[4] ^= 1
            tampered[threshold] = try ShamirShare(encoded: bytes, secretByteCount: 32)
            #expect(throws: SecAggCryptoError.inconsistentShares) {
                try reconstructor.reconstruct(tampered, secretByteCount: 32)
            }
        }
    }

    @Test("family input errors are typed")
    func errors() throws {
        #expect(throws: SecAggCryptoError.duplicateShareIndex(index: 2)) {
            try ShamirReconstructorFamily(xCoordinates: [1, 2, 2])
        }
        #expect(throws: SecAggCryptoError.zeroShareIndex) { try ShamirReconstructorFamily(xCoordinates: [0, 1]) }
        let family = try ShamirReconstructorFamily(xCoordinates: [1, 2, 3, 4])
        #expect(throws: SecAggCryptoError.notEnoughShares(count: 2, threshold: 3)) {
            try family.reconstructor(xCoordinates: [1, 2], threshold: 3)
        }
        #expect(throws: SecAggCryptoError.duplicateShareIndex(index: 1)) {
            try family.reconstructor(xCoordinates: [1, 1, 2], threshold: 2)
        }
        #expect(family.contains([1, 4]))
        #expect(!family.contains([1, 5]))
    }
}
