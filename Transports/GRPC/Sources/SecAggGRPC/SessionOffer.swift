import Foundation
public import SecAggQuantization
public import SecureAggregation

/// What a server publishes about its session: the configuration and the quantization every client must use.
///
/// The configuration carries no quantization (the engine sums ring elements); the plan is a function of n, the
/// ring and the clip range c (SPEC.md §7.3, ``QuantizationPlan/plan(clientCount:clipRange:modulus:maximumWeight:rounding:)``,
/// unweighted, stochastic rounding), so the offer carries c and the scale the server derived, and a client that
/// derives another scale refuses.
public struct SessionOffer: Sendable, Hashable {
    /// The session configuration (SPEC.md §11.1).
    public var configuration: SessionConfiguration
    /// The clip range c.
    public var clip: Double
    /// The server's per-round deadline.
    public var roundTimeout: Duration

    /// An offer for `configuration` (one input vector) with clip range `clip`.
    public init(configuration: SessionConfiguration, clip: Double, roundTimeout: Duration) {
        self.configuration = configuration
        self.clip = clip
        self.roundTimeout = roundTimeout
    }

    /// The quantization plan of the session: the largest safe scale for n clients, clip c and the input's ring.
    public func plan() throws(NodeError) -> QuantizationPlan {
        guard configuration.inputs.count == 1, let input = configuration.inputs.first else {
            throw .invalidOffer("the session has \(configuration.inputs.count) input vectors; this transport sums one")
        }
        guard clip.isFinite, clip > 0 else { throw .invalidOffer("the clip range \(clip) is not finite and positive") }
        do {
            return try QuantizationPlan.plan(
                clientCount: configuration.clientCount, clipRange: clip, modulus: input.modulus, maximumWeight: nil,
                rounding: .stochastic)
        } catch {
            throw .invalidOffer("no quantization plan for this session: \(error)")
        }
    }

    /// The protobuf form.
    var message: Secagg_V1_SessionOffer {
        var offer = Secagg_V1_SessionOffer()
        offer.configuration = Data(configuration.encoded)
        offer.clip = clip
        offer.scale = (try? plan().scale) ?? 0
        offer.roundTimeoutMs = UInt64(max(0, roundTimeout.milliseconds))
        return offer
    }

    /// Decodes and checks an offer: the configuration must decode and validate, and the scale must be the one this
    /// client derives for the same n, ring and clip.
    init(message: Secagg_V1_SessionOffer) throws(NodeError) {
        let configuration: SessionConfiguration
        do {
            configuration = try SessionConfiguration(encoded: [UInt8](message.configuration))
            try configuration.validate()
        } catch {
            throw .invalidOffer("the configuration does not decode or validate: \(error)")
        }
        self.init(
            configuration: configuration, clip: message.clip,
            roundTimeout: .milliseconds(Int64(clamping: message.roundTimeoutMs)))
        let derived = try plan().scale
        guard derived == message.scale else {
            throw .invalidOffer(
                "the server's quantization scale \(message.scale) differs from this client's \(derived) for the same "
                    + "n, ring and clip")
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1_000 &+ attoseconds / 1_000_000_000_000_000
    }

    /// Seconds as a Double.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
