/// Message and byte counts of one party in one round.
public struct RoundTraffic: Sendable, Hashable, Codable {
    /// Messages received.
    public var messagesReceived = 0
    /// Bytes received.
    public var bytesReceived = 0
    /// Messages sent.
    public var messagesSent = 0
    /// Bytes sent.
    public var bytesSent = 0

    /// Zero counts.
    public init() {}
}

/// Per-round counters of one party (SPEC.md §11.7). Contains no secret.
public struct PartyMetrics: Sendable, Hashable, Codable {
    /// Traffic per round, keyed by round.
    public var traffic: [ProtocolRound: RoundTraffic] = [:]
    /// Messages rejected without changing state.
    public var rejectedMessages = 0

    /// Empty counters.
    public init() {}

    mutating func received(_ byteCount: Int, in round: ProtocolRound) {
        traffic[round, default: RoundTraffic()].messagesReceived += 1
        traffic[round, default: RoundTraffic()].bytesReceived += byteCount
    }

    mutating func sent(_ byteCount: Int, in round: ProtocolRound, messages: Int = 1) {
        traffic[round, default: RoundTraffic()].messagesSent += messages
        traffic[round, default: RoundTraffic()].bytesSent += byteCount
    }

    /// Total bytes sent over all rounds.
    public var totalBytesSent: Int { traffic.values.reduce(0) { $0 + $1.bytesSent } }
    /// Total bytes received over all rounds.
    public var totalBytesReceived: Int { traffic.values.reduce(0) { $0 + $1.bytesReceived } }
}

/// A state change, reported to the observer callback of a client or the server.
public struct StateTransition: Sendable, CustomStringConvertible {
    /// Which party: 0 for the server, the client index otherwise.
    public var party: UInt32
    /// The state left.
    public var from: String
    /// The state entered.
    public var to: String

    /// "client 3: shareKeys → maskedInputCollection".
    public var description: String { "\(party == 0 ? "server" : "client \(party)"): \(from) → \(to)" }
}

/// A callback for state transitions; it must not block (the engine calls it synchronously).
public typealias TransitionObserver = @Sendable (StateTransition) -> Void
