public import SecAggCrypto

/// The two distributed mechanisms.
public enum DistributedMechanism: String, Codable, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// Distributed discrete Gaussian (Kairouz, Liu & Steinke, ICML 2021).
    case ddgauss
    /// Distributed Skellam (Agarwal, Kairouz & Liu, NeurIPS 2021).
    case skellam

    /// "ddgauss" or "skellam".
    public var description: String { rawValue }
}

/// The integer noise every client adds to each coordinate. JSON: `{"mechanism": "ddgauss" | "skellam",
/// "numerator": "…", "denominator": "…"}` (σ² or λ, decimal strings as every integer that may exceed 2^53).
public enum ClientNoise: Hashable, Sendable, Codable {
    /// N_Z(0, σ²) with σ² = varianceNumerator / varianceDenominator.
    case discreteGaussian(varianceNumerator: UInt64, varianceDenominator: UInt64)
    /// Sk(λ, λ) with λ = rateNumerator / rateDenominator: variance 2λ.
    case skellam(rateNumerator: UInt64, rateDenominator: UInt64)

    /// The mechanism this noise belongs to.
    public var mechanism: DistributedMechanism {
        switch self {
        case .discreteGaussian: .ddgauss
        case .skellam: .skellam
        }
    }

    /// The noise parameter of the accountant: σ² for the discrete Gaussian (its variance is slightly
    /// smaller), the exact variance 2λ for Skellam.
    public var variance: Double {
        switch self {
        case let .discreteGaussian(n, d): Double(n) / Double(d)
        case let .skellam(n, d): 2 * Double(n) / Double(d)
        }
    }

    private enum CodingKeys: String, CodingKey { case mechanism, numerator, denominator }

    /// Decodes `{"mechanism", "numerator", "denominator"}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let mechanism = try c.decode(DistributedMechanism.self, forKey: .mechanism)
        guard let numerator = UInt64(try c.decode(String.self, forKey: .numerator)),
            let denominator = UInt64(try c.decode(String.self, forKey: .denominator))
        else {
            throw DecodingError.dataCorruptedError(
                forKey: .numerator, in: c, debugDescription: "numerator and denominator are decimal UInt64 strings")
        }
        switch mechanism {
        case .ddgauss: self = .discreteGaussian(varianceNumerator: numerator, varianceDenominator: denominator)
        case .skellam: self = .skellam(rateNumerator: numerator, rateDenominator: denominator)
        }
    }

    /// Encodes `{"mechanism", "numerator", "denominator"}`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mechanism, forKey: .mechanism)
        switch self {
        case let .discreteGaussian(n, d), let .skellam(n, d):
            try c.encode(String(n), forKey: .numerator)
            try c.encode(String(d), forKey: .denominator)
        }
    }

    /// Checks the parameters against the samplers' ranges.
    func makeSampler() throws(PrivacyError) -> NoiseSampler {
        switch self {
        case let .discreteGaussian(n, d): .discreteGaussian(try DiscreteGaussianSampler(numerator: n, denominator: d))
        case let .skellam(n, d): .skellam(try SkellamSampler(numerator: n, denominator: d))
        }
    }
}

enum NoiseSampler {
    case discreteGaussian(DiscreteGaussianSampler)
    case skellam(SkellamSampler)

    @inline(__always)
    func sample<Source: RandomWordSource>(using source: inout Source) throws(PrivacyError) -> Int64 {
        switch self {
        case let .discreteGaussian(s): try s.draw(from: &source)
        case let .skellam(s): try s.draw(from: &source)
        }
    }
}

/// One client's encoded update: ring elements ready for masking.
public struct PrivateUpdate: Sendable {
    /// D canonical ring elements.
    public var elements: [UInt64]
    /// True when the update's L2 norm exceeded the clip norm and was scaled down to it.
    public var wasClipped: Bool
    /// Conditional-rounding attempts used (1 when the first rounding met the bound).
    public var roundingAttempts: Int
    /// The signed integers before embedding (rounded vector plus noise), for tests and the simulator.
    package var integers: [Int64]
}

/// The client-side mechanism of a session (SPEC.md §15.5): what every client applies to its update and
/// the server undoes on the aggregate. Public parameters only; the noise stream is each client's secret.
///
/// Per update x ∈ R^d: scale x down to L2 norm ≤ C; rotate (``RandomizedHadamard``, padded to D); multiply by
/// γ; round each coordinate up with probability equal to its fractional part, and round again (fresh bits)
/// until the squared norm is ≤ Δ₂² (conditional rounding, KLS 2021 §4.1); add one noise sample per coordinate;
/// embed in the ring in two's complement.
public struct PrivacyEncoding: Hashable, Sendable, Codable {
    /// Rounding attempts before giving up with ``PrivacyError/roundingBoundNotMet(attempts:bound:)``.
    public static let maximumRoundingAttempts = 1000
    /// The largest supported model length, 2^26.
    public static let maximumDimension = 1 << 26

    /// d: model coordinates per update.
    public let dimension: Int
    /// C: the L2 clip norm.
    public let clipNorm: Double
    /// γ: the integer grid step is 1/γ.
    public let scale: Double
    /// Δ₂: every rounded vector has ‖z‖₂ ≤ Δ₂ (the accountant's L2 sensitivity).
    public let l2Bound: Double
    /// The noise each client adds.
    public let noise: ClientNoise
    /// The ring of the aggregate.
    public let modulus: RingModulus

    /// Creates an encoding and checks its ranges (γ·C and Δ₂ below 2^50, so every integer fits 64 bits).
    public init(
        dimension: Int, clipNorm: Double, scale: Double, l2Bound: Double, noise: ClientNoise, modulus: RingModulus
    ) throws(PrivacyError) {
        guard dimension >= 1, dimension <= Self.maximumDimension else {
            throw .invalidParameter(name: "dimension", reason: "must be in 1...2^26, got \(dimension)")
        }
        guard clipNorm.isFinite, clipNorm > 0 else {
            throw .invalidParameter(name: "clip norm", reason: "must be finite and positive")
        }
        guard scale.isFinite, scale > 0, scale * clipNorm <= 0x1p50 else {
            throw .invalidParameter(name: "γ", reason: "must be positive with γ·C ≤ 2^50")
        }
        guard l2Bound.isFinite, l2Bound >= scale * clipNorm, l2Bound <= 0x1p50 else {
            throw .invalidParameter(name: "Δ₂", reason: "must lie in γ·C...2^50")
        }
        do {
            try modulus.validate()
        } catch {
            throw .invalidParameter(name: "modulus", reason: "\(error)")
        }
        _ = try noise.makeSampler()
        self.dimension = dimension
        self.clipNorm = clipNorm
        self.scale = scale
        self.l2Bound = l2Bound
        self.noise = noise
        self.modulus = modulus
    }

    /// Decodes and re-checks an encoding (a configuration file is untrusted input).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            dimension: c.decode(Int.self, forKey: .dimension), clipNorm: c.decode(Double.self, forKey: .clipNorm),
            scale: c.decode(Double.self, forKey: .scale), l2Bound: c.decode(Double.self, forKey: .l2Bound),
            noise: c.decode(ClientNoise.self, forKey: .noise), modulus: c.decode(RingModulus.self, forKey: .modulus))
    }

    /// D: the padded length, the length of the vectors the clients send.
    public var paddedDimension: Int { RandomizedHadamard.paddedDimension(for: dimension) }

    /// ⌊Δ₂²⌋ exactly (Δ₂ = m·2^e as a Float64, so Δ₂² = m²·2^(2e)).
    public var squaredNormBound: UInt128 {
        let m = UInt128(l2Bound.significandBitPattern | (1 << 52))
        let e = Int(l2Bound.exponent) - 52
        let square = m * m
        return e >= 0 ? square << UInt128(2 * e) : square >> UInt128(-2 * e)
    }

    /// H = ⌊(R − 1)/2⌋.
    public var centeredBound: UInt64 {
        switch modulus {
        case let .powerOfTwo(b): b >= 64 ? UInt64(Int64.max) : (UInt64(1) << UInt64(b - 1)) - 1
        case let .integer(q): (q - 1) / 2
        }
    }

    // MARK: Client

    /// Encodes one update with noise from `noise` (a client's secret ``NoiseStream``): SPEC.md §15.5 steps
    /// 1–6. Throws on NaN or ±∞, a wrong length, or rounding that misses the bound 1000 times.
    public func encode(_ values: [Double], rotationSeed: [UInt8], noise source: inout some RandomWordSource)
        throws(PrivacyError) -> PrivateUpdate
    {
        try encodeDrawing(values, rotationSeed: rotationSeed, noise: &source)
    }

    /// ``encode(_:rotationSeed:noise:)`` from a ``NoiseStream`` (the same result; specialized for speed).
    public func encode(_ values: [Double], rotationSeed: [UInt8], noise source: inout NoiseStream)
        throws(PrivacyError) -> PrivateUpdate
    {
        try encodeDrawing(values, rotationSeed: rotationSeed, noise: &source)
    }

    @inline(__always)
    func encodeDrawing<Source: RandomWordSource>(_ values: [Double], rotationSeed: [UInt8], noise source: inout Source)
        throws(PrivacyError) -> PrivateUpdate
    {
        guard values.count == dimension else {
            throw .vectorLengthMismatch(actual: values.count, expected: dimension)
        }
        var squaredNorm = 0.0
        for (i, x) in values.enumerated() {
            guard x.isFinite else { throw .nonFiniteValue(index: i) }
            squaredNorm += x * x
        }
        let norm = squaredNorm.squareRoot()
        let clipped = norm > clipNorm
        var x = values
        if clipped {
            let factor = clipNorm / norm
            for i in x.indices { x[i] *= factor }
        }
        var v = try RandomizedHadamard.rotate(x, seed: rotationSeed)
        for i in v.indices { v[i] *= scale }
        var (z, attempts) = try conditionallyRound(v, using: &source)
        let sampler = try noise.makeSampler()
        var elements = [UInt64](repeating: 0, count: z.count)
        try z.withUnsafeMutableBufferPointer { (integers) throws(PrivacyError) in
            try elements.withUnsafeMutableBufferPointer { (out) throws(PrivacyError) in
                for i in 0..<integers.count {
                    let value = integers[i] + (try sampler.sample(using: &source))
                    integers[i] = value
                    out[i] = embed(value)
                }
            }
        }
        return PrivateUpdate(elements: elements, wasClipped: clipped, roundingAttempts: attempts, integers: z)
    }

    /// Encodes a Float32 update (converted to Float64 exactly).
    public func encode(_ values: [Float], rotationSeed: [UInt8], noise source: inout some RandomWordSource)
        throws(PrivacyError) -> PrivateUpdate
    {
        try encode(values.map(Double.init), rotationSeed: rotationSeed, noise: &source)
    }

    /// Encodes with a noise stream seeded by 32 bytes of `rng` (the system CSPRNG in production), for the
    /// session `sessionID`.
    public func encode(_ values: [Double], sessionID: [UInt8], using rng: inout some RandomByteGenerator)
        throws(PrivacyError) -> PrivateUpdate
    {
        var stream = NoiseStream(using: &rng)
        return try encode(
            values, rotationSeed: RandomizedHadamard.rotationSeed(sessionID: sessionID), noise: &stream)
    }

    /// Encodes with a noise stream seeded from the system CSPRNG, for the session `sessionID`.
    public func encode(_ values: [Double], sessionID: [UInt8]) throws(PrivacyError) -> PrivateUpdate {
        var system = SystemRandomGenerator()
        return try encode(values, sessionID: sessionID, using: &system)
    }

    /// Conditional randomized rounding: each attempt reads one word w per coordinate, in order, and rounds
    /// v up when (w >> 11)·2^−53 < v − ⌊v⌋; the first attempt with Σ z² ≤ ⌊Δ₂²⌋ is kept.
    package func conditionallyRound(_ v: [Double], using source: inout some RandomWordSource) throws(PrivacyError)
        -> (values: [Int64], attempts: Int)
    {
        for value in v where !(abs(value) < 0x1p62) { throw .invalidParameter(name: "γ", reason: "γ·x overflows") }
        let bound = squaredNormBound
        var z = [Int64](repeating: 0, count: v.count)
        for attempt in 1...Self.maximumRoundingAttempts {
            var total: UInt128 = 0
            var overflow = false
            for i in v.indices {
                let floor = v[i].rounded(.down)
                let u = Double(source.nextWord() >> 11) * 0x1p-53
                let value = Int64(floor) + (u < v[i] - floor ? 1 : 0)
                z[i] = value
                let magnitude = UInt128(value.magnitude)
                let (sum, o) = total.addingReportingOverflow(magnitude * magnitude)
                total = sum
                overflow = overflow || o
            }
            if !overflow && total <= bound { return (z, attempt) }
        }
        throw .roundingBoundNotMet(attempts: Self.maximumRoundingAttempts, bound: l2Bound)
    }

    /// z mod R in two's complement (|z| < 2^62 here).
    @inline(__always)
    func embed(_ z: Int64) -> UInt64 {
        switch modulus {
        case .powerOfTwo: UInt64(bitPattern: z) & modulus.elementMask
        case let .integer(q): z >= 0 ? UInt64(z) % q : (q - (z.magnitude % q)) % q
        }
    }

    // MARK: Server

    /// The signed integers of an aggregate: v ↦ v when v ≤ H, else v − R.
    package func centered(_ aggregate: [UInt64]) throws(PrivacyError) -> [Int64] {
        guard aggregate.count == paddedDimension else {
            throw .vectorLengthMismatch(actual: aggregate.count, expected: paddedDimension)
        }
        let half = centeredBound
        var out = [Int64](repeating: 0, count: aggregate.count)
        for (i, element) in aggregate.enumerated() {
            guard modulus.contains(element) else { throw .elementOutOfRange(index: i) }
            if element <= half {
                out[i] = Int64(element)
            } else {
                switch modulus {
                case .powerOfTwo: out[i] = Int64(bitPattern: element | ~modulus.elementMask)
                case let .integer(q): out[i] = -Int64(q - element)
                }
            }
        }
        return out
    }

    /// The decoded sum of the included clients' clipped updates: centered integers divided by γ, rotated
    /// back, the first d coordinates (SPEC.md §15.5, server).
    public func decodeSum(_ aggregate: [UInt64], rotationSeed: [UInt8]) throws(PrivacyError) -> [Double] {
        let integers = try centered(aggregate)
        let values = integers.map { Double($0) / scale }
        return try RandomizedHadamard.inverse(values, dimension: dimension, seed: rotationSeed)
    }
}
