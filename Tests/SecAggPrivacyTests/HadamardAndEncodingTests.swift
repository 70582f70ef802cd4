import Foundation
import SecAggCrypto
import Testing

@testable import SecAggPrivacy

struct HadamardTests {
    /// H·H = D·I exactly on integers, for every power of two up to 2^12.
    @Test func integerTransformTwiceIsDTimesTheVector() {
        var rng = DeterministicRandomGenerator(testLabel: "wht-int")
        for k in 0...12 {
            let d = 1 << k
            let z = (0..<d).map { _ in Int64(rng.next(below: 1 << 40)) - (1 << 39) }
            var twice = z
            RandomizedHadamard.transform(&twice)
            RandomizedHadamard.transform(&twice)
            #expect(twice == z.map { $0 * Int64(d) }, "D = \(d)")
        }
    }

    /// The inverse undoes the rotation: integer vectors come back exactly after rounding, and norms are
    /// preserved (the rotation is orthogonal).
    @Test func inverseIsExactOnIntegersAndNormsArePreserved() throws {
        var rng = DeterministicRandomGenerator(testLabel: "wht-round-trip")
        for d in [1, 2, 3, 63, 64, 65, 1000, 4096, 5000] {
            let seed = rng.bytes(count: 32)
            let integers = (0..<d).map { _ in Double(Int64(rng.next(below: 1 << 30)) - (1 << 29)) }
            let rotated = try RandomizedHadamard.rotate(integers, seed: seed)
            #expect(rotated.count == RandomizedHadamard.paddedDimension(for: d))
            let back = try RandomizedHadamard.inverse(rotated, dimension: d, seed: seed)
            #expect(back.map { $0.rounded() } == integers, "d = \(d)")
            let norm = integers.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let rotatedNorm = rotated.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(rotatedNorm - norm) <= 1e-12 * norm)
        }
        #expect(throws: PrivacyError.self) {
            try RandomizedHadamard.inverse([1, 2, 3], dimension: 3, seed: [UInt8](repeating: 0, count: 32))
        }
    }

    /// Flattening (KLS 2021, Lemma 29): each rotated coordinate is a Rademacher sum with variance proxy
    /// ‖x‖²/D, so max_j |y_j| ≤ ‖x‖·√(2 ln(2D/β)/D) except with probability β; here on a spiky vector over
    /// 400 public seeds with β = 0.05.
    @Test func rotationFlattensSpikyVectors() throws {
        let d = 1024
        var x = [Double](repeating: 0, count: d)
        x[3] = 10
        x[500] = -7
        x[1000] = 4
        let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let beta = 0.05
        let bound = norm * (2 * log(2 * Double(d) / beta) / Double(d)).squareRoot()
        var exceed = 0
        var rng = DeterministicRandomGenerator(testLabel: "flatten")
        for _ in 0..<400 {
            let y = try RandomizedHadamard.rotate(x, seed: rng.bytes(count: 32))
            if y.map(abs).max() ?? 0 > bound { exceed += 1 }
        }
        #expect(exceed <= 20, "\(exceed) of 400 seeds exceeded the flattening bound")
        // Without the rotation the largest coordinate is 10 ≫ the bound.
        #expect(bound < 2)
    }

    /// The rotation seed is SHA-256("secagg/v1/dp-rotation" || session id).
    @Test func rotationSeedDerivation() {
        let session = [UInt8](repeating: 0xAB, count: 32)
        #expect(
            RandomizedHadamard.rotationSeed(sessionID: session)
                == Hkdf.sha256(Array("secagg/v1/dp-rotation".utf8) + session))
        #expect(
            RandomizedHadamard.rotationSeed(sessionID: session) != RandomizedHadamard.rotationSeed(sessionID: [0xAB]))
    }
}

struct EncodingTests {
    static func encoding(
        dimension: Int = 100, scale: Double = 200,
        noise: ClientNoise = .discreteGaussian(varianceNumerator: 100, varianceDenominator: 1),
        bits: Int = 24
    ) throws -> PrivacyEncoding {
        let l2 = PrivacyPlan.l2Bound(
            scale: scale, clipNorm: 1, paddedDimension: RandomizedHadamard.paddedDimension(for: dimension),
            beta: exp(-0.5))
        return try PrivacyEncoding(
            dimension: dimension, clipNorm: 1, scale: scale, l2Bound: l2, noise: noise,
            modulus: .powerOfTwo(bitWidth: bits))
    }

    /// ⌊Δ₂²⌋ is exact.
    @Test func squaredNormBoundIsExact() throws {
        for (l2, expected) in [
            (3.5, UInt128(12)), (1e6, UInt128(1_000_000_000_000)),
            (0x1p40 + 0.5, (UInt128(1) << 80) + (UInt128(1) << 40)),
        ] {
            let e = try PrivacyEncoding(
                dimension: 4, clipNorm: 1, scale: 1, l2Bound: l2, noise: .skellam(rateNumerator: 1, rateDenominator: 1),
                modulus: .powerOfTwo(bitWidth: 32))
            #expect(e.squaredNormBound == expected)
        }
    }

    /// Conditional rounding never exceeds the bound, is unbiased (mean of many roundings ≈ v), and gives up
    /// with a typed error when the bound cannot be met.
    @Test func conditionalRounding() throws {
        let e = try Self.encoding(dimension: 64, scale: 10)
        var rng = DeterministicRandomGenerator(testLabel: "round")
        let v = (0..<64).map { _ in (rng.nextUnitDouble() - 0.5) * 2.4 }
        let stream = try NoiseStream(seed: [UInt8](repeating: 3, count: 32))
        var source = stream
        var mean = [Double](repeating: 0, count: 64)
        let trials = 2000
        var attempts = 0
        for _ in 0..<trials {
            let (z, a) = try e.conditionallyRound(v, using: &source)
            attempts += a
            #expect(z.reduce(UInt128(0)) { $0 + UInt128($1.magnitude * $1.magnitude) } <= e.squaredNormBound)
            for i in 0..<64 {
                #expect(Double(z[i]) == v[i].rounded(.down) || Double(z[i]) == v[i].rounded(.up))
                mean[i] += Double(z[i]) / Double(trials)
            }
        }
        // Rounding variance ≤ 1/4 per coordinate: the mean of 2000 is within 5·0.5/√2000 ≈ 0.056 of v (the
        // conditioning on the norm biases it by far less at this bound).
        for i in 0..<64 { #expect(abs(mean[i] - v[i]) < 0.06, "coordinate \(i)") }
        #expect(Double(attempts) / Double(trials) < 2)
        // A vector far outside the bound can never be rounded into it.
        let tight = try PrivacyEncoding(
            dimension: 4, clipNorm: 1, scale: 1, l2Bound: 1, noise: .skellam(rateNumerator: 1, rateDenominator: 1),
            modulus: .powerOfTwo(bitWidth: 32))
        #expect(throws: PrivacyError.roundingBoundNotMet(attempts: 1000, bound: 1)) {
            _ = try tight.conditionallyRound([5, 5, 5, 5], using: &source)
        }
    }

    /// Clients encode, the ring sums, the server decodes: the mean is within the noise of the plaintext
    /// mean, clipping is applied and reported, and the integers are what was embedded.
    @Test func encodeAndDecodeAggregate() throws {
        let e = try Self.encoding(dimension: 300, scale: 1000, bits: 32)
        let session = [UInt8](repeating: 7, count: 32)
        let seed = RandomizedHadamard.rotationSeed(sessionID: session)
        var rng = DeterministicRandomGenerator(testLabel: "encode")
        var aggregate = [UInt64](repeating: 0, count: e.paddedDimension)
        var truth = [Double](repeating: 0, count: 300)
        let clients = 8
        for c in 0..<clients {
            var x = (0..<300).map { _ in rng.nextUnitDouble() - 0.5 }
            let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
            // Client 0 is twice over the clip norm and gets scaled down to it.
            let target = c == 0 ? 2.0 : 0.9
            x = x.map { $0 * target / norm }
            let update = try e.encode(x, sessionID: session, using: &rng)
            #expect(update.wasClipped == (c == 0))
            #expect(update.elements == update.integers.map(e.embed))
            let clipped = c == 0 ? x.map { $0 / 2 } : x
            for i in 0..<300 { truth[i] += clipped[i] }
            for i in aggregate.indices { aggregate[i] = e.modulus.add(aggregate[i], update.elements[i]) }
        }
        let decoded = try e.decodeSum(aggregate, rotationSeed: seed)
        // Noise per coordinate of the sum: √(8·100 + 8/4)/1000 ≈ 0.028; allow 6σ.
        let sigma = (Double(clients) * 100.25).squareRoot() / 1000
        for i in 0..<300 { #expect(abs(decoded[i] - truth[i]) < 6 * sigma, "coordinate \(i)") }
        #expect(throws: PrivacyError.vectorLengthMismatch(actual: 3, expected: 512)) {
            _ = try e.decodeSum([1, 2, 3], rotationSeed: seed)
        }
        var bad = aggregate
        bad[5] = 1 << 40
        #expect(throws: PrivacyError.elementOutOfRange(index: 5)) { _ = try e.decodeSum(bad, rotationSeed: seed) }
        #expect(throws: PrivacyError.nonFiniteValue(index: 2)) {
            _ = try e.encode([0, 0, .nan] + [Double](repeating: 0, count: 297), sessionID: session, using: &rng)
        }
        #expect(throws: PrivacyError.vectorLengthMismatch(actual: 2, expected: 300)) {
            _ = try e.encode([0, 0], sessionID: session, using: &rng)
        }
    }

    /// The encoding rejects parameters outside its ranges, also when decoded from JSON.
    @Test func encodingRejectsBadParameters() throws {
        let noise = ClientNoise.skellam(rateNumerator: 1, rateDenominator: 1)
        let ring = RingModulus.powerOfTwo(bitWidth: 32)
        #expect(throws: PrivacyError.self) {
            try PrivacyEncoding(dimension: 0, clipNorm: 1, scale: 1, l2Bound: 2, noise: noise, modulus: ring)
        }
        #expect(throws: PrivacyError.self) {
            try PrivacyEncoding(dimension: 4, clipNorm: .nan, scale: 1, l2Bound: 2, noise: noise, modulus: ring)
        }
        #expect(throws: PrivacyError.self) {
            try PrivacyEncoding(dimension: 4, clipNorm: 1, scale: 0x1p51, l2Bound: 0x1p52, noise: noise, modulus: ring)
        }
        #expect(throws: PrivacyError.self) {
            try PrivacyEncoding(dimension: 4, clipNorm: 1, scale: 2, l2Bound: 1, noise: noise, modulus: ring)
        }
        #expect(throws: PrivacyError.self) {
            try PrivacyEncoding(
                dimension: 4, clipNorm: 1, scale: 1, l2Bound: 2,
                noise: .discreteGaussian(varianceNumerator: 0, varianceDenominator: 1), modulus: ring)
        }
        let good = try PrivacyEncoding(dimension: 4, clipNorm: 1, scale: 1, l2Bound: 2, noise: noise, modulus: ring)
        let json = try JSONEncoder().encode(good)
        #expect(try JSONDecoder().decode(PrivacyEncoding.self, from: json) == good)
        let tampered = String(decoding: json, as: UTF8.self).replacingOccurrences(
            of: "\"dimension\":4", with: "\"dimension\":0")
        #expect(throws: (any Error).self) { try JSONDecoder().decode(PrivacyEncoding.self, from: Data(tampered.utf8)) }
    }
}
