/// Messages the server sends when a round closes.
public struct ServerOutbox: Sendable {
    /// One message for many recipients (encode once, send to each).
    public var broadcast: (message: ServerMessage, recipients: [ClientID])?
    /// Per-recipient messages.
    public var direct: [(recipient: ClientID, message: ServerMessage)] = []

    /// An empty outbox.
    public init() {}

    /// Every (recipient, message) pair, broadcast expanded.
    public var allMessages: [(recipient: ClientID, message: ServerMessage)] {
        var out = direct
        if let broadcast { out += broadcast.recipients.map { ($0, broadcast.message) } }
        return out
    }
}

/// The encoded form of a ``ServerOutbox``.
public struct EncodedOutbox: Sendable {
    /// One byte string for many recipients.
    public var broadcast: (bytes: [UInt8], recipients: [ClientID])?
    /// Per-recipient byte strings.
    public var direct: [(recipient: ClientID, bytes: [UInt8])] = []

    /// An empty outbox.
    public init() {}

    /// Every (recipient, bytes) pair, broadcast expanded.
    public var allMessages: [(recipient: ClientID, bytes: [UInt8])] {
        var out = direct
        if let broadcast { out += broadcast.recipients.map { ($0, broadcast.bytes) } }
        return out
    }
}

/// What closing a round led to, with the messages to send (``ServerOutbox`` or ``EncodedOutbox``).
///
/// Every step carries an outbox: the next round's requests, the end-of-session message that tells each client
/// the aggregation completed and whether its input is in the sum (``ServerMessage/sessionComplete(sessionId:included:)``),
/// or the abort notice for every client still in the session.
public enum ServerStep<Outbox: Sendable>: Sendable {
    /// The server now collects `round`; send the outbox.
    case nextRound(ProtocolRound, Outbox)
    /// The session completed; send the outbox (the end-of-session message).
    case completed(AggregationResult, Outbox)
    /// The session stopped for `reason` (its wire code is `reason.abortCode`); send the outbox (abort notices).
    case aborted(reason: SecAggError, Outbox)

    /// The messages to send.
    public var outbox: Outbox {
        switch self {
        case let .nextRound(_, outbox), let .completed(_, outbox), let .aborted(_, outbox): outbox
        }
    }
}

extension SecAggError {
    /// The code an abort notice carries for this reason (SPEC.md §12.3).
    public var abortCode: AbortCode {
        switch self {
        case .insufficientClients, .insufficientShares: .insufficientClients
        case .reconstructionFailed: .reconstructionFailed
        case .missingSeedReveals: .missingSeedReveals
        default: .other
        }
    }
}
