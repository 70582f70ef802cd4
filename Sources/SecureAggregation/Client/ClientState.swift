/// Where a client is in the protocol.
public enum ClientState: Sendable, Equatable, CustomStringConvertible {
    /// Not started: ``SecAggClient/start(using:)`` produces the round-0 message.
    case advertiseKeys
    /// Sparse graphs: waiting for the key broadcast; will reveal its graph-seed contribution.
    case seedReveal
    /// Waiting for the key broadcast (or, on sparse graphs, the seed reveals); will send encrypted shares.
    case shareKeys
    /// Waiting for the forwarded shares; will send the masked input.
    case maskedInputCollection
    /// The forwarded shares arrived but the input did not: ``SecAggClient/provideInput(_:)`` returns the masked
    /// input to send (training can take as long as the server's masked-input deadline allows).
    case inputRequired
    /// Waiting for the survivor set to sign (active model).
    case consistencyCheck
    /// Waiting for the unmasking request; will reveal shares.
    case unmasking
    /// Answered the unmasking request; waiting for the server's end-of-session message (every secret is released).
    case awaitingOutcome
    /// The server announced that the aggregation completed; `inputIncluded` tells whether this client's input is
    /// in the sum.
    case completed(inputIncluded: Bool)
    /// Stopped for the given reason; every later message is refused.
    case aborted(SecAggError)

    /// Short name.
    public var description: String {
        switch self {
        case .advertiseKeys: "advertiseKeys"
        case .seedReveal: "seedReveal"
        case .shareKeys: "shareKeys"
        case .maskedInputCollection: "maskedInputCollection"
        case .inputRequired: "inputRequired"
        case .consistencyCheck: "consistencyCheck"
        case .unmasking: "unmasking"
        case .awaitingOutcome: "awaitingOutcome"
        case let .completed(included): included ? "completed(included)" : "completed(not included)"
        case let .aborted(error): "aborted(\(error))"
        }
    }
}

/// What the client holds in each state (one value per state, nothing a later round does not need).
enum ClientPhase: Sendable {
    case notStarted
    /// Round 0 sent: the key pairs (and, on sparse graphs, the committed seed contribution).
    case awaitingKeyBroadcast(ClientKeys)
    /// Round 0′ sent (sparse graphs): the keys, the session id and the broadcast, until the reveals arrive.
    case awaitingSeedReveals(RevealedSeed)
    /// Round 1 sent.
    case awaitingShares(SharesSent)
    /// The forwarded shares are open; the input is missing.
    case inputRequired(SharesReceived)
    /// Round 2 sent (active model): waiting for U3.
    case awaitingSurvivors(InputSent)
    /// Round 2 (or 3) sent: waiting for the unmasking request.
    case awaitingUnmaskingRequest(InputSent)
    /// Round 4 sent.
    case awaitingOutcome(sessionId: [UInt8])
    case completed(inputIncluded: Bool)
    case aborted(SecAggError)

    func state(sparse: Bool) -> ClientState {
        switch self {
        case .notStarted: .advertiseKeys
        case .awaitingKeyBroadcast: sparse ? .seedReveal : .shareKeys
        case .awaitingSeedReveals: .shareKeys
        case .awaitingShares: .maskedInputCollection
        case .inputRequired: .inputRequired
        case .awaitingSurvivors: .consistencyCheck
        case .awaitingUnmaskingRequest: .unmasking
        case .awaitingOutcome: .awaitingOutcome
        case let .completed(included): .completed(inputIncluded: included)
        case let .aborted(error): .aborted(error)
        }
    }

    /// The session id once the key broadcast arrived.
    var sessionId: [UInt8]? {
        switch self {
        case let .awaitingSeedReveals(r): r.sessionId
        case let .awaitingShares(s): s.sessionId
        case let .inputRequired(s): s.sessionId
        case let .awaitingSurvivors(i), let .awaitingUnmaskingRequest(i): i.sessionId
        case let .awaitingOutcome(sid): sid
        default: nil
        }
    }

    /// True once the masked input was sent (so that the end-of-session message can say it was included).
    var sentMaskedInput: Bool {
        switch self {
        case .awaitingSurvivors, .awaitingUnmaskingRequest, .awaitingOutcome: true
        default: false
        }
    }
}

/// What a client knows from its initialisation on.
struct ClientContext: Sendable {
    let configuration: SessionConfiguration
    let index: UInt32
    let configurationDigest: [UInt8]

    var threshold: Int { configuration.threshold }
    var isActive: Bool { configuration.securityModel == .active }
}
