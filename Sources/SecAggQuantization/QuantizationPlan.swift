public import SecAggCrypto

/// The fixed-point parameters of a session (SPEC.md §7): it travels with the session configuration so
/// that every client quantizes, and the server decodes, with the same numbers.
///
/// A coordinate x becomes y = fl(fl(clip(x) · w) · s), rounded to an integer and embedded in Z_R in
/// two's complement. With Y = fl(fl(c · W) · s) and B = ⌈Y⌉ (W = maximum weight, 1 when unweighted), a
/// plan is valid only when n · B ≤ H and, if weighted, n · W ≤ H, where H = ⌊(R − 1)/2⌋: the sum of any
/// n inputs then never wraps and decodes unambiguously.
public struct QuantizationPlan: Hashable, Sendable {
    /// How a scaled coordinate becomes an integer.
    public enum Rounding: String, Codable, Hashable, Sendable {
        /// Unbiased: ⌊|y|⌋ + 1 with probability |y| − ⌊|y|⌋, else ⌊|y|⌋, sign restored. Error < 1.
        case stochastic
        /// Round half away from zero. Error ≤ 1/2.
        case nearest
    }

    /// The maximum number of clients whose inputs are summed (n).
    public let clientCount: Int
    /// Coordinates are clipped to [−clipRange, clipRange] (c).
    public let clipRange: Double
    /// The ring the aggregate lives in.
    public let modulus: RingModulus
    /// The fixed-point scale s: a unit of the integer encoding is 1/s.
    public let scale: Double
    /// The maximum client weight W for FedAvg, or nil for an unweighted plan (no weight coordinate).
    public let maximumWeight: Int?
    /// The rounding mode.
    public let rounding: Rounding

    /// The largest supported maximum weight, 2^53 (every weight is then exact in Float64).
    public static let weightLimit = 1 << 53

    /// Creates a plan from explicit parameters and checks that the sum of `clientCount` worst-case
    /// inputs cannot wrap. Prefer the `plan(…)` constructors, which choose the largest safe scale.
    public init(
        clientCount: Int, clipRange: Double, modulus: RingModulus, scale: Double, maximumWeight: Int? = nil,
        rounding: Rounding = .stochastic
    ) throws(QuantizationError) {
        try Self.checkParameters(
            clientCount: clientCount, clipRange: clipRange, modulus: modulus,
            maximumWeight: maximumWeight)
        guard scale.isFinite, scale > 0 else {
            throw .invalidPlanParameter(name: "scale", reason: "must be finite and positive")
        }
        self.clientCount = clientCount
        self.clipRange = clipRange
        self.modulus = modulus
        self.scale = scale
        self.maximumWeight = maximumWeight
        self.rounding = rounding
        let half = Self.centeredBound(for: modulus)
        let weight = UInt64(maximumWeight ?? 1)
        let (weightSum, weightOverflow) = UInt64(clientCount).multipliedReportingOverflow(by: weight)
        guard !weightOverflow, weightSum <= half, let bound = elementBoundIfRepresentable,
            case let (total, overflow) = UInt64(clientCount).multipliedReportingOverflow(by: bound),
            !overflow, total <= half
        else {
            throw Self.wrapError(clientCount: clientCount, maximumWeight: maximumWeight, modulus: modulus)
        }
    }

    // MARK: Planning

    /// The plan with the largest scale for which `clientCount` inputs clipped to ±`clipRange` (and
    /// weighted by at most `maximumWeight`) can never wrap modulo 2^`bitWidth`.
    public static func plan(
        clientCount: Int, clipRange: Double, bitWidth: Int, maximumWeight: Int? = nil,
        rounding: Rounding = .stochastic
    ) throws(QuantizationError) -> QuantizationPlan {
        try plan(
            clientCount: clientCount, clipRange: clipRange, modulus: .powerOfTwo(bitWidth: bitWidth),
            maximumWeight: maximumWeight, rounding: rounding)
    }

    /// The plan with the largest safe scale for any ring: s = M / fl(c · W) with M = ⌊H / n⌋, lowered
    /// one ulp at a time until fl(fl(c · W) · s) ≤ M (SPEC.md §7.3).
    public static func plan(
        clientCount: Int, clipRange: Double, modulus: RingModulus, maximumWeight: Int? = nil,
        rounding: Rounding = .stochastic
    ) throws(QuantizationError) -> QuantizationPlan {
        try checkParameters(
            clientCount: clientCount, clipRange: clipRange, modulus: modulus,
            maximumWeight: maximumWeight)
        guard
            let scale = largestScale(
                clientCount: clientCount, clipRange: clipRange, modulus: modulus,
                maximumWeight: maximumWeight ?? 1)
        else {
            throw wrapError(clientCount: clientCount, maximumWeight: maximumWeight, modulus: modulus)
        }
        return try QuantizationPlan(
            clientCount: clientCount, clipRange: clipRange, modulus: modulus,
            scale: scale, maximumWeight: maximumWeight, rounding: rounding)
    }

    /// The plan over the smallest ring Z_{2^b} (2 ≤ b ≤ 64) whose largest safe scale brings the
    /// worst-case error of the mean (``worstCaseMeanError``) down to `targetError` or below.
    public static func plan(
        clientCount: Int, clipRange: Double, targetError: Double, maximumWeight: Int? = nil,
        rounding: Rounding = .stochastic
    ) throws(QuantizationError) -> QuantizationPlan {
        guard targetError.isFinite, targetError > 0 else {
            throw .invalidPlanParameter(name: "targetError", reason: "must be finite and positive")
        }
        try checkParameters(
            clientCount: clientCount, clipRange: clipRange, modulus: .powerOfTwo(bitWidth: 64),
            maximumWeight: maximumWeight)
        var best: QuantizationPlan?
        for bitWidth in 2...64 {
            guard
                let candidate = try? plan(
                    clientCount: clientCount, clipRange: clipRange, bitWidth: bitWidth,
                    maximumWeight: maximumWeight, rounding: rounding)
            else { continue }
            if candidate.worstCaseMeanError <= targetError { return candidate }
            best = candidate
        }
        // What would work at 64 bits: the scale must reach δ/ε, i.e. c · W ≤ M · ε / δ, or
        // ⌊H / n⌋ ≥ c · W · δ / ε.
        let delta = rounding.maximumRoundingError
        let half = Double(centeredBound(for: .powerOfTwo(bitWidth: 64)))
        let weight = Double(maximumWeight ?? 1)
        let neededScale = delta / targetError
        let m = (half / Double(clientCount)).rounded(.down)
        let maximumClip = m / (weight * neededScale)
        let perClient = (clipRange * weight * neededScale).rounded(.up)
        let maximumClients = perClient >= half ? 0 : Int(min(half / Swift.max(perClient, 1), Double(Int.max / 2)))
        throw .precisionUnattainable(
            targetError: targetError, achievableError: best?.worstCaseMeanError ?? .infinity,
            maximumClipRange: maximumClip, maximumClientCount: maximumClients)
    }

    // MARK: Derived values

    /// H = ⌊(R − 1) / 2⌋: the largest magnitude of the centered representation that decodes unambiguously.
    public var centeredBound: UInt64 { Self.centeredBound(for: modulus) }

    /// W: the maximum weight, 1 for an unweighted plan.
    public var weightBound: Int { maximumWeight ?? 1 }

    /// True when the update carries a weight coordinate (FedAvg).
    public var isWeighted: Bool { maximumWeight != nil }

    /// B = ⌈fl(fl(c · W) · s)⌉: the largest magnitude of one client's rounded coordinate.
    public var elementBound: UInt64 { elementBoundIfRepresentable ?? .max }

    /// The worst-case error per coordinate of the decoded sum Σ w_i x_i of n clients (clipping
    /// aside): n · δ / s, with δ = 1 for stochastic and 1/2 for nearest rounding (strict for stochastic).
    public var worstCaseSumError: Double { Double(clientCount) * rounding.maximumRoundingError / scale }

    /// The worst-case error per coordinate of the decoded mean when every included weight is at least 1
    /// (always so unweighted): δ / s.
    public var worstCaseMeanError: Double { rounding.maximumRoundingError / scale }

    /// The worst-case error of a decoded mean over `includedClientCount` clients with total weight
    /// `totalWeight` (the client count when unweighted): n_incl · δ / (s · totalWeight).
    public func worstCaseMeanError(includedClientCount: Int, totalWeight: Int) -> Double {
        Double(includedClientCount) * rounding.maximumRoundingError / (scale * Double(totalWeight))
    }

    /// The aggregation-vector length for `valueCount` model coordinates: one more when weighted.
    public func vectorLength(valueCount: Int) -> Int { isWeighted ? valueCount + 1 : valueCount }

    // MARK: Internals

    private var elementBoundIfRepresentable: UInt64? {
        let y = (clipRange * Double(weightBound)) * scale
        let bound = y.rounded(.up)
        guard bound.isFinite, bound < 0x1p64 else { return nil }
        return UInt64(bound)
    }

    /// H = ⌊(R − 1) / 2⌋ for any ring: 2^(b−1) − 1 for 2^b, (q − 1)/2 rounded down for q.
    public static func centeredBound(for modulus: RingModulus) -> UInt64 {
        switch modulus {
        case let .powerOfTwo(bitWidth): bitWidth >= 64 ? UInt64(Int64.max) : (UInt64(1) << UInt64(bitWidth - 1)) - 1
        case let .integer(q): (q - 1) / 2
        }
    }

    private static func checkParameters(
        clientCount: Int, clipRange: Double, modulus: RingModulus, maximumWeight: Int?
    ) throws(QuantizationError) {
        do {
            try modulus.validate()
        } catch {
            throw .invalidModulus(description: error.description)
        }
        guard clientCount >= 1 else {
            throw .invalidPlanParameter(name: "clientCount", reason: "must be at least 1")
        }
        guard clipRange.isFinite, clipRange > 0 else {
            throw .invalidPlanParameter(name: "clipRange", reason: "must be finite and positive")
        }
        if let maximumWeight, !(1...weightLimit).contains(maximumWeight) {
            throw .invalidPlanParameter(name: "maximumWeight", reason: "must be in 1...2^53")
        }
    }

    /// The largest s with fl(fl(c · W) · s) ≤ M = ⌊H / n⌋, or nil when no positive scale fits.
    static func largestScale(clientCount: Int, clipRange: Double, modulus: RingModulus, maximumWeight: Int)
        -> Double?
    {
        let half = centeredBound(for: modulus)
        let (weightSum, overflow) = UInt64(clientCount).multipliedReportingOverflow(by: UInt64(maximumWeight))
        guard !overflow, weightSum <= half else { return nil }
        let m = half / UInt64(clientCount)
        guard m >= 1 else { return nil }
        // M as a Float64 rounded down, so that ⌈Y⌉ ≤ M follows from Y ≤ mDouble.
        var mDouble = Double(m)
        if mDouble >= 0x1p64 || UInt64(mDouble) > m { mDouble = mDouble.nextDown }
        let cw = clipRange * Double(maximumWeight)
        var scale = mDouble / cw
        guard scale.isFinite, scale > 0 else { return nil }
        while cw * scale > mDouble { scale = scale.nextDown }
        return scale > 0 ? scale : nil
    }

    private static func wrapError(clientCount: Int, maximumWeight: Int?, modulus: RingModulus) -> QuantizationError {
        let weight = maximumWeight ?? 1
        // Any positive scale needs H ≥ n · W (which also gives M = ⌊H/n⌋ ≥ 1): 2^(b−1) − 1 ≥ n · W.
        let (need, overflow) = UInt64(clientCount).multipliedReportingOverflow(by: UInt64(weight))
        let minimumBitWidth: Int? =
            overflow || need > UInt64(Int64.max) ? nil : (UInt64.bitWidth - need.leadingZeroBitCount) + 1
        let maximumClients = Int(centeredBound(for: modulus) / UInt64(weight))
        return .wrapUnavoidable(
            clientCount: clientCount, maximumWeight: weight, modulus: modulus,
            minimumBitWidth: minimumBitWidth, maximumClientCount: maximumClients)
    }
}

extension QuantizationPlan.Rounding {
    /// δ: the largest rounding error of one coordinate in integer units (1 stochastic, 1/2 nearest).
    public var maximumRoundingError: Double {
        switch self {
        case .stochastic: 1
        case .nearest: 0.5
        }
    }
}

extension QuantizationPlan: Codable {
    private enum CodingKeys: String, CodingKey {
        case clientCount, clipRange, modulus, scale, maximumWeight, rounding
    }

    /// Decodes and re-validates a plan (a plan from a configuration file is untrusted input).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            clientCount: container.decode(Int.self, forKey: .clientCount),
            clipRange: container.decode(Double.self, forKey: .clipRange),
            modulus: container.decode(RingModulus.self, forKey: .modulus),
            scale: container.decode(Double.self, forKey: .scale),
            maximumWeight: container.decodeIfPresent(Int.self, forKey: .maximumWeight),
            rounding: container.decode(Rounding.self, forKey: .rounding))
    }

    /// Encodes the six defining parameters.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(clientCount, forKey: .clientCount)
        try container.encode(clipRange, forKey: .clipRange)
        try container.encode(modulus, forKey: .modulus)
        try container.encode(scale, forKey: .scale)
        try container.encodeIfPresent(maximumWeight, forKey: .maximumWeight)
        try container.encode(rounding, forKey: .rounding)
    }
}
