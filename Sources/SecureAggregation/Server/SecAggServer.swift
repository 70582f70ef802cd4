import Dispatch
import SecAggCrypto
import SecAggGraph

/// Where the server is in the protocol.
public enum ServerState: Sendable, Equatable, CustomStringConvertible {
    /// Accepting messages of this round until the caller calls ``SecAggServer/advance()``.
    case collecting(ProtocolRound)
    /// The aggregate is available in ``SecAggServer/result``.
    case completed
    /// Stopped for the given reason.
    case aborted(SecAggError)

    /// Short name.
    public var description: String {
        switch self {
        case let .collecting(round): "collecting(\(round))"
        case .completed: "completed"
        case let .aborted(error): "aborted(\(error))"
        }
    }
}

/// One state per round, each holding only what that round and the later ones need.
enum ServerPhase: Sendable {
    case advertiseKeys(AdvertiseKeysRound)
    case seedReveal(SeedRevealRound)
    case shareKeys(ShareKeysRound)
    case maskedInput(MaskedInputRound)
    case consistencyCheck(ConsistencyCheckRound)
    case unmasking(UnmaskingRound)
    case completed(AggregationResult)
    case aborted(SecAggError)
    /// Held only while a round's state is moved out to be mutated or closed (never observable).
    case transitioning(ProtocolRound)

    var round: ProtocolRound? {
        switch self {
        case .advertiseKeys: .advertiseKeys
        case .seedReveal: .seedReveal
        case .shareKeys: .shareKeys
        case .maskedInput: .maskedInputCollection
        case .consistencyCheck: .consistencyCheck
        case .unmasking: .unmasking
        case let .transitioning(round): round
        case .completed, .aborted: nil
        }
    }

    /// The live set a client must belong to for its message to be accepted (nil: any client 1...n).
    var eligible: ClientSet? {
        switch self {
        case let .seedReveal(r): r.u1
        case let .shareKeys(r): r.u1
        case let .maskedInput(r): r.u2
        case let .consistencyCheck(r): r.masked.u3
        case let .unmasking(r): r.eligible
        default: nil
        }
    }
}

/// The server of the secure-aggregation protocol: a passive state machine (SPEC.md §11) with no I/O, clock or
/// thread of its own.
///
/// It consumes client messages in any order (``receive(encoded:from:)``) and tells the caller whom it still awaits
/// (``awaitedClients``, ``isRoundComplete``); the caller closes the round with ``advance()`` when everyone answered or
/// its deadline passed, and sends the step's outbox. Clients that did not answer count as dropped. Masked inputs
/// are summed as they arrive, so memory is O(vector length + n · neighbours), never one buffer per client. The
/// unmasking step is CPU-heavy: ``advanceAsync()`` runs it off Swift's cooperative pool.
public struct SecAggServer: Sendable {
    /// The session configuration.
    public let configuration: SessionConfiguration
    /// The memory limit checked at initialisation.
    public let limits: ResourceLimits
    /// Counters for the server.
    public internal(set) var metrics = PartyMetrics()
    /// Called on every state change.
    public var observer: TransitionObserver?
    /// Worker threads for mask removal (defaults to every core; fewer are used when the memory limit does not
    /// allow one accumulator per worker).
    public var unmaskingConcurrency = SystemInfo.activeProcessorCount
    /// The workers the last unmasking used (at most ``unmaskingConcurrency``, fewer when the limit is tight).
    package internal(set) var unmaskingWorkersUsed = 0

    let context: ServerContext
    let wire: WireFormat
    var phase: ServerPhase = .advertiseKeys(AdvertiseKeysRound())
    /// Clients whose message of the current round was accepted.
    var responded: ClientSet
    /// Clients removed with ``abortClient(_:)``: never awaited or accepted again.
    var excluded: ClientSet
    /// Each closed round's live set (for reports).
    var liveSets: [ProtocolRound: ClientSet] = [:]
    /// The clients the current round expects (nil: every client, in round 0).
    var participants: ClientSet?
    /// The session id once round 0 closed, and the graph once it is fixed (kept here so that both are known while
    /// a round's state is moved out, and after the session ended).
    var fixedSessionId: [UInt8]?
    var fixedGraph: (any CommunicationGraph)?

    /// A server for `configuration`, which is validated here (``SessionConfiguration/validate()`` refuses a
    /// threshold that does not protect privacy) and whose memory estimate with one unmasking worker must fit
    /// `limits` (SPEC.md §11.8; unmasking later uses more workers only as the limit allows); nothing runs unless
    /// the masking path reproduces its known answer (SPEC.md §11.7).
    public init(configuration: SessionConfiguration, limits: ResourceLimits = .default) throws(SecAggError) {
        try configuration.validate()
        try configuration.check(
            configuration.serverMemoryEstimate(unmaskingWorkers: 1), against: limits, resource: "the server")
        guard MaskApplication.knownAnswerPasses else { throw .selfTestFailed(component: "mask application") }
        self.limits = limits
        self.configuration = configuration
        context = ServerContext(configuration: configuration, configurationDigest: configuration.digest)
        wire = WireFormat(configuration: configuration)
        responded = ClientSet(clientCount: configuration.clientCount)
        excluded = ClientSet(clientCount: configuration.clientCount)
    }

    /// The current state.
    public var state: ServerState {
        switch phase {
        case .completed: .completed
        case let .aborted(error): .aborted(error)
        default: .collecting(phase.round ?? .advertiseKeys)
        }
    }

    /// The round being collected; nil once the session completed or aborted.
    public var currentRound: ProtocolRound? { phase.round }

    /// The aggregate once completed.
    public var result: AggregationResult? {
        if case let .completed(result) = phase { return result }
        return nil
    }

    /// The session id once round 0 closed.
    public var sessionID: SessionID? { fixedSessionId.map(SessionID.init) }

    /// The clients whose message of the current round has not arrived yet (and that were not removed with
    /// ``abortClient(_:)``), ascending; empty when the session is over.
    public var awaitedClients: [ClientID] { awaited?.ids ?? [] }

    /// True when every client the current round awaits has answered: the caller may ``advance()`` now instead
    /// of waiting for its deadline. (A bitmap operation: cheap enough to ask after every message.)
    public var isRoundComplete: Bool { awaited?.isEmpty ?? false }

    /// The round's expected clients less those that answered or were removed; nil when the session is over.
    private var awaited: ClientSet? {
        guard phase.round != nil else { return nil }
        return (phase.eligible ?? .all(clientCount: configuration.clientCount)).subtracting(responded)
            .subtracting(excluded)
    }

    /// N(client) in the session's graph, ascending; empty before the graph is fixed.
    public func neighbours(of client: ClientID) -> [ClientID] {
        (fixedGraph?.neighbours(of: client.rawValue) ?? []).map { ClientID($0) }
    }

    /// The live set after `round` closed (U1 after advertise-keys, …); empty before.
    public func liveClients(after round: ProtocolRound) -> [ClientID] { liveSets[round]?.ids ?? [] }

    private var phaseSessionId: [UInt8]? {
        switch phase {
        case let .seedReveal(r): r.sessionId
        default: session?.sessionId
        }
    }

    var session: ServerSession? {
        switch phase {
        case let .shareKeys(r): r.session
        case let .maskedInput(r): r.session
        case let .consistencyCheck(r): r.masked.session
        case let .unmasking(r): r.masked.session
        default: nil
        }
    }

    /// The clients an abort notice goes to: those the current round expects (every client 1...n in round 0), less
    /// the removed ones.
    var stillInSession: [ClientID] {
        (participants ?? .all(clientCount: configuration.clientCount)).subtracting(excluded).ids
    }

    mutating func enter(_ next: ServerPhase) {
        let old = state
        phase = next
        if let eligible = next.eligible { participants = eligible }
        if fixedSessionId == nil { fixedSessionId = phaseSessionId }
        if fixedGraph == nil { fixedGraph = session?.graph }
        let new = state
        if old != new { observer?(StateTransition(party: 0, from: old.description, to: new.description)) }
    }
}
