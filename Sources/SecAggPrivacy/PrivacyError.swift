/// Errors of the distributed differential privacy module: samplers, the client mechanism, decoding, the
/// accountant and the planner. Payloads carry parameters and counts, never noise or vector contents.
public enum PrivacyError: Error, Hashable, Sendable {
    // MARK: Parameters

    /// A parameter is out of its documented range (non-positive ε, δ ∉ (0, 1), a zero denominator, …).
    case invalidParameter(name: String, reason: String)

    // MARK: Sampling and encoding

    /// A sampler drew a value too large to represent (probability below e^(−2^30) for every supported
    /// parameter; reported instead of returning a value from another distribution).
    case samplerRangeExceeded(sampler: String)
    /// An input coordinate is NaN or infinite.
    case nonFiniteValue(index: Int)
    /// A vector has the wrong length for the plan.
    case vectorLengthMismatch(actual: Int, expected: Int)
    /// Conditional rounding did not meet the L2 bound within the attempt limit (each attempt fails with
    /// probability at most β, so this means an input outside the plan's clip, or a broken generator).
    case roundingBoundNotMet(attempts: Int, bound: Double)
    /// An aggregate element is not a canonical ring element.
    case elementOutOfRange(index: Int)
    /// The aggregate was summed over fewer clients than the noise was calibrated for: releasing it would
    /// not give the planned guarantee.
    case tooFewContributors(included: Int, minimum: Int)
    /// More clients were included than the plan allows for (its wrap bound assumes at most `maximum`).
    case tooManyContributors(included: Int, maximum: Int)

    // MARK: Planning

    /// No plan meets the request. `reason` says what failed; the other values say what would work (each
    /// with the other parameters unchanged), nil when nothing in range works.
    case infeasiblePlan(
        reason: String, minimumBitWidth: Int?, minimumEpsilon: Double?, maximumRounds: Int?)
}

extension PrivacyError: CustomStringConvertible {
    /// One line.
    public var description: String {
        switch self {
        case let .invalidParameter(name, reason):
            return "invalid privacy parameter \(name): \(reason)"
        case let .samplerRangeExceeded(sampler):
            return "the \(sampler) sampler drew a value outside its representable range"
        case let .nonFiniteValue(index):
            return "coordinate \(index) is NaN or infinite"
        case let .vectorLengthMismatch(actual, expected):
            return "vector has \(actual) elements, expected \(expected)"
        case let .roundingBoundNotMet(attempts, bound):
            return "conditional rounding missed the L2 bound \(bound) in \(attempts) attempts"
        case let .elementOutOfRange(index):
            return "aggregate element \(index) is not below the modulus"
        case let .tooFewContributors(included, minimum):
            return
                "\(included) clients were included but the noise is calibrated for at least \(minimum): "
                + "the aggregate would not have the planned privacy"
        case let .tooManyContributors(included, maximum):
            return "\(included) clients were included but the plan is for at most \(maximum)"
        case let .infeasiblePlan(reason, bits, epsilon, rounds):
            var options: [String] = []
            if let bits { options.append("at least \(bits) bits") }
            if let epsilon { options.append("ε ≥ \(Self.short(epsilon))") }
            if let rounds { options.append("at most \(rounds) rounds") }
            let alternatives = options.isEmpty ? "nothing in range" : options.joined(separator: ", or ")
            return "\(reason); would work (each alone): \(alternatives)"
        }
    }

    private static func short(_ value: Double) -> String {
        let rounded = (value * 1000).rounded(.up) / 1000
        return "\(rounded)"
    }
}
