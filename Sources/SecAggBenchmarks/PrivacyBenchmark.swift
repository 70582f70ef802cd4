import Foundation
import SecAggCrypto
public import SecAggPrivacy
public import SecAggSimulation
import SecureAggregation

/// A client's distributed-DP noise generation next to its masking time (`secagg bench dp`).
public struct PrivacyBenchmarkResult: Sendable, Codable, Hashable {
    /// "ddgauss" or "skellam".
    public var mechanism: String
    /// n: the client masks with n − 1 pairwise masks and its self mask.
    public var clients: Int
    /// m = d: model coordinates.
    public var length: Int
    /// D: the padded length the DP vector is sent at.
    public var paddedLength: Int
    /// Per-client noise variance of the plan (integer units).
    public var noiseVariance: Double
    /// Clipping, rotation and scaling by γ.
    public var rotationSeconds: Double
    /// Conditional randomized rounding (all attempts).
    public var roundingSeconds: Double
    /// One exact noise sample per coordinate (D samples) and the ring embedding.
    public var samplingSeconds: Double
    /// Rotation + rounding + sampling, timed as one encoding.
    public var noiseSeconds: Double
    /// Applying n masks to an m-element vector on one thread (the engine's masking loop).
    public var maskingSeconds: Double
    /// The same at the padded length D.
    public var maskingPaddedSeconds: Double

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey {
        case mechanism, clients, length, ratio
        case paddedLength = "padded_length"
        case noiseVariance = "noise_variance"
        case rotationSeconds = "rotation_s"
        case roundingSeconds = "rounding_s"
        case samplingSeconds = "sampling_s"
        case noiseSeconds = "noise_s"
        case maskingSeconds = "masking_s"
        case maskingPaddedSeconds = "masking_padded_s"
    }

    /// noise / masking at m.
    public var ratio: Double { noiseSeconds / maskingSeconds }

    /// Encodes every stored property and the ratio.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mechanism, forKey: .mechanism)
        try c.encode(clients, forKey: .clients)
        try c.encode(length, forKey: .length)
        try c.encode(paddedLength, forKey: .paddedLength)
        try c.encode(noiseVariance, forKey: .noiseVariance)
        try c.encode(rotationSeconds, forKey: .rotationSeconds)
        try c.encode(roundingSeconds, forKey: .roundingSeconds)
        try c.encode(samplingSeconds, forKey: .samplingSeconds)
        try c.encode(noiseSeconds, forKey: .noiseSeconds)
        try c.encode(maskingSeconds, forKey: .maskingSeconds)
        try c.encode(maskingPaddedSeconds, forKey: .maskingPaddedSeconds)
        try c.encode(ratio, forKey: .ratio)
    }

    /// Decodes the stored properties (the ratio is derived).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mechanism = try c.decode(String.self, forKey: .mechanism)
        clients = try c.decode(Int.self, forKey: .clients)
        length = try c.decode(Int.self, forKey: .length)
        paddedLength = try c.decode(Int.self, forKey: .paddedLength)
        noiseVariance = try c.decode(Double.self, forKey: .noiseVariance)
        rotationSeconds = try c.decode(Double.self, forKey: .rotationSeconds)
        roundingSeconds = try c.decode(Double.self, forKey: .roundingSeconds)
        samplingSeconds = try c.decode(Double.self, forKey: .samplingSeconds)
        noiseSeconds = try c.decode(Double.self, forKey: .noiseSeconds)
        maskingSeconds = try c.decode(Double.self, forKey: .maskingSeconds)
        maskingPaddedSeconds = try c.decode(Double.self, forKey: .maskingPaddedSeconds)
    }

    init(
        mechanism: String, clients: Int, length: Int, paddedLength: Int, noiseVariance: Double,
        rotationSeconds: Double, roundingSeconds: Double, samplingSeconds: Double, noiseSeconds: Double,
        maskingSeconds: Double, maskingPaddedSeconds: Double
    ) {
        self.mechanism = mechanism
        self.clients = clients
        self.length = length
        self.paddedLength = paddedLength
        self.noiseVariance = noiseVariance
        self.rotationSeconds = rotationSeconds
        self.roundingSeconds = roundingSeconds
        self.samplingSeconds = samplingSeconds
        self.noiseSeconds = noiseSeconds
        self.maskingSeconds = maskingSeconds
        self.maskingPaddedSeconds = maskingPaddedSeconds
    }

    /// Human-readable lines.
    public var textReport: String {
        func ms(_ s: Double) -> String { String(format: "%.1f ms", s * 1e3) }
        return """
            dp noise (\(mechanism), d = \(length), D = \(paddedLength), per-client variance \(String(format: "%.4g", noiseVariance))): \
            \(ms(noiseSeconds)) (rotation \(ms(rotationSeconds)), rounding \(ms(roundingSeconds)), \
            sampling \(ms(samplingSeconds)))
            masking (\(clients) masks × \(length), one thread, \(MaskPrg.maskBackend)): \(ms(maskingSeconds)) \
            (× \(paddedLength): \(ms(maskingPaddedSeconds)))
            ratio noise / masking: \(String(format: "%.3f", ratio))
            """
    }
}

/// `secagg bench dp`.
public enum PrivacyBenchmark {
    /// Plans (ε, δ = 1/n², T = 1, C = 1, Z_2^32) for n clients and d = `length`, then times one client's
    /// encoding — rotation, rounding and exact sampling, separately and as a whole — and n mask applications
    /// to an m-element vector on one thread (best of `repetitions`).
    public static func run(
        mechanism: DistributedMechanism, clients: Int, length: Int, epsilon: Double = 1, repetitions: Int = 3
    ) throws(SimulationError) -> PrivacyBenchmarkResult {
        guard clients >= 2, clients <= 100_000, length >= 1, length <= 1 << 24 else {
            throw .invalidArgument("--clients must be in 2...10^5 and --length in 1...2^24")
        }
        do {
            let request = PrivacyPlanRequest(
                mechanism: mechanism, epsilon: epsilon, delta: 1 / Double(clients * clients), clientCount: clients,
                dimension: length)
            let plan = try PrivacyPlan.plan(request)
            let encoding = plan.encoding
            var rng = DeterministicRandomGenerator(testLabel: "bench dp")
            var x = (0..<length).map { _ in rng.nextUnitDouble() - 0.5 }
            let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
            x = x.map { $0 * 0.9 / norm }
            let rotationSeed = rng.bytes(count: 32)
            let noiseSeed = rng.bytes(count: 32)
            let sampler: (inout NoiseStream) throws(PrivacyError) -> Int64
            switch encoding.noise {
            case let .discreteGaussian(n, d):
                let s = try DiscreteGaussianSampler(numerator: n, denominator: d)
                sampler = { (source: inout NoiseStream) throws(PrivacyError) in try s.sample(using: &source) }
            case let .skellam(n, d):
                let s = try SkellamSampler(numerator: n, denominator: d)
                sampler = { (source: inout NoiseStream) throws(PrivacyError) in try s.sample(using: &source) }
            }
            var rotated: [Double] = []
            let rotation = try bestSeconds(repetitions) {
                var v = try RandomizedHadamard.rotate(x, seed: rotationSeed)
                for i in v.indices { v[i] *= encoding.scale }
                rotated = v
            }
            var rounded: [Int64] = []
            let rounding = try bestSeconds(repetitions) {
                var stream = try NoiseStream(seed: noiseSeed)
                rounded = try encoding.conditionallyRound(rotated, using: &stream).values
            }
            var sink: UInt64 = 0
            let sampling = try bestSeconds(repetitions) {
                var stream = try NoiseStream(seed: noiseSeed)
                for value in rounded {
                    let z = value &+ (try sampler(&stream))
                    sink &+= UInt64(bitPattern: z) & 0xFFFF_FFFF
                }
            }
            let whole = try bestSeconds(repetitions) {
                var stream = try NoiseStream(seed: noiseSeed)
                let update = try encoding.encode(x, rotationSeed: rotationSeed, noise: &stream)
                sink &+= update.elements[0]
            }
            func masking(_ count: Int) throws -> Double {
                try ApplyBenchmark.run(masks: clients, length: count, bits: 32, threads: 1, repetitions: repetitions)
                    .seconds
            }
            let maskSeconds = try masking(length)
            let paddedSeconds = try masking(encoding.paddedDimension)
            if sink == 0x5EC_A66 { print("") }  // keeps the sampling loop from being optimized away
            return PrivacyBenchmarkResult(
                mechanism: mechanism.rawValue, clients: clients, length: length,
                paddedLength: encoding.paddedDimension, noiseVariance: plan.noiseVariance,
                rotationSeconds: rotation, roundingSeconds: rounding, samplingSeconds: sampling, noiseSeconds: whole,
                maskingSeconds: maskSeconds, maskingPaddedSeconds: paddedSeconds)
        } catch let error as SimulationError {
            throw error
        } catch {
            throw .configuration("\(error)")
        }
    }
}
