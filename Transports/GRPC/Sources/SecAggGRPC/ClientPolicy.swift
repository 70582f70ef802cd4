public import SecAggCrypto
public import SecureAggregation

/// What a client accepts from a server, checked on the offered configuration before the client sends anything.
///
/// The engine already refuses a threshold that gives no privacy under the threat the configuration *declares*
/// (``SessionConfiguration/validate()``). But the server writes that declaration: a policy is the client's own
/// floor, so that a server cannot talk it into a tiny cohort, t = 2 of 1,000 neighbours, an unexpected ring or
/// model, or (in the active model) a public-key infrastructure of its choosing.
public struct ClientPolicy: Sendable, Hashable {
    /// The least threshold as a fraction of the client's neighbours k (n − 1 on the complete graph): t ≥ ⌈f · k⌉.
    /// Default 0.5: half of the neighbours must collude with the server before a secret can be rebuilt.
    public var minimumThresholdFraction = 0.5
    /// The least cohort size n. Default 3.
    public var minimumClientCount = 3
    /// The largest cohort size n; it also bounds what the client reads before it has a configuration (the offer)
    /// and the key broadcast. Default 100,000.
    public var maximumClientCount = 100_000
    /// The rings the client accepts; nil accepts every ring the quantization can use.
    public var allowedModuli: Set<RingModulus>?
    /// The security models the client accepts. Default: both.
    public var allowedModels: Set<SecurityModel> = [.semiHonest, .active]
    /// Active model: every client's Ed25519 verification key, in index order, as the client expects them (the
    /// public-key infrastructure it trusts). An active-model offer is refused unless it carries exactly these keys.
    public var expectedVerificationKeys: [Ed25519.PublicKey]?

    /// The default policy.
    public init() {}

    /// The largest encoded configuration this policy can accept (SPEC.md §11.1: fixed fields, one input, and one
    /// verification key per client), with room for the offer's other fields.
    public var maximumOfferByteCount: Int { 4_096 + 32 * maximumClientCount }

    /// Checks `configuration` for a client whose update has `valueCount` coordinates; throws
    /// ``NodeError/policyRefused(_:)`` naming the first rule it breaks and the flag that changes it.
    public func check(_ configuration: SessionConfiguration, valueCount: Int) throws(NodeError) {
        let n = configuration.clientCount
        guard n >= minimumClientCount else {
            throw .policyRefused(
                "the cohort has \(n) clients, fewer than this client's minimum of \(minimumClientCount) "
                    + "(--min-clients)")
        }
        guard n <= maximumClientCount else {
            throw .policyRefused(
                "the cohort has \(n) clients, more than this client's maximum of \(maximumClientCount) (--max-clients)")
        }
        let k = configuration.degree
        let least = max(2, Int((minimumThresholdFraction * Double(k)).rounded(.up)))
        guard configuration.threshold >= least else {
            throw .policyRefused(
                "the threshold t = \(configuration.threshold) is below this client's minimum of "
                    + "\(Self.percent(minimumThresholdFraction)) of its \(k) neighbours (t ≥ \(least), "
                    + "--min-threshold-fraction): \(configuration.threshold) colluding parties could rebuild its secrets"
            )
        }
        guard allowedModels.contains(configuration.securityModel) else {
            throw .policyRefused(
                "the \(configuration.securityModel) model is not allowed by this client (--allow-model)")
        }
        guard configuration.inputs.count == 1, let input = configuration.inputs.first else {
            throw .policyRefused("the session has \(configuration.inputs.count) input vectors; this client sends one")
        }
        if let allowedModuli, !allowedModuli.contains(input.modulus) {
            let allowed = allowedModuli.map(\.description).sorted().joined(separator: ", ")
            throw .policyRefused(
                "the ring \(input.modulus) is not among this client's allowed rings (\(allowed); --allow-bits, "
                    + "--allow-modulus)")
        }
        guard input.length == valueCount else {
            throw .policyRefused(
                "the session sums vectors of \(input.length) values but this client's update has \(valueCount)")
        }
        if configuration.securityModel == .active {
            guard let expectedVerificationKeys else {
                throw .policyRefused(
                    "the active model needs the expected verification keys of every client (--verification-keys): "
                        + "without them the server could choose the keys it checks signatures against")
            }
            guard expectedVerificationKeys == configuration.verificationKeys else {
                let first = zip(expectedVerificationKeys, configuration.verificationKeys).enumerated().first {
                    $0.element.0 != $0.element.1
                }
                let which =
                    first.map { "client \($0.offset + 1)'s key differs" }
                    ?? "\(configuration.verificationKeys.count) keys offered, \(expectedVerificationKeys.count) expected"
                throw .policyRefused("the offered verification keys are not the expected ones: \(which)")
            }
        }
    }

    static func percent(_ fraction: Double) -> String {
        let value = fraction * 100
        return value == value.rounded() ? "\(Int(value))%" : "\(value)%"
    }
}
