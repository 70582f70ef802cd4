public import SecAggCrypto

/// A client of the secure-aggregation protocol: a pure state machine with no I/O, clock or thread
/// (SPEC.md §11). Each step consumes one server message and returns the reply; the caller moves bytes.
///
/// Rules enforced by the client itself: it refuses a configuration whose threshold does not protect privacy
/// (``SessionConfiguration/validate()``) before it sends anything; it never reveals both shares of one peer; it
/// refuses to go on with fewer than t live neighbours; survivor sets only shrink; on sparse graphs it checks
/// every revealed seed contribution against its commitment; in the active model it verifies every signature;
/// a neighbour whose share ciphertext does not open is left out (and reported), not a reason to abort;
/// messages for another session or round are rejected without changing state.
public struct SecAggClient: Sendable {
    /// The session configuration.
    public let configuration: SessionConfiguration
    /// This client's index (1...n).
    public let index: ClientID
    /// Counters for this client.
    public internal(set) var metrics = PartyMetrics()
    /// Called on every state change.
    public var observer: TransitionObserver?
    /// Worker threads for mask expansion (1 = all on the calling thread, the right choice on a phone).
    public var maskingConcurrency = 1

    let context: ClientContext
    let wire: WireFormat
    var phase: ClientPhase = .notStarted
    /// The input, until it is masked.
    var input: [[UInt64]]?
    /// Active model: signs round 0 and round 3.
    var signingKey: Ed25519.PrivateKey?
    /// The session id once the key broadcast arrived, kept after the session ended.
    var knownSessionId: [UInt8]?

    /// A client, optionally with its input: one vector per configured input, elements canonical in their
    /// ring. The input may also be given later with ``provideInput(_:)``, any time before the masked-input
    /// round ends (training can run while keys are agreed). In the active model `signingKey` must match the
    /// configuration's verification key for `index`.
    ///
    /// The configuration is checked first (``SessionConfiguration/validate()``, which refuses a threshold that
    /// does not protect privacy under its declared threat) and so is the memory it would need against
    /// `limits` (SPEC.md §11.8): a client refuses a configuration before it has sent anything.
    public init(
        configuration: SessionConfiguration, index: ClientID, input: [[UInt64]]? = nil,
        signingKey: Ed25519.PrivateKey? = nil, limits: ResourceLimits = .default
    ) throws(SecAggError) {
        try configuration.validate()
        try configuration.check(
            configuration.clientMemoryEstimate, against: limits, resource: "a client of this session")
        guard index.rawValue >= 1, Int(index.rawValue) <= configuration.clientCount else {
            throw .invalidConfiguration(
                reason: "client index \(index.rawValue) outside 1...\(configuration.clientCount)")
        }
        if let input { try Self.validate(input, configuration: configuration) }
        if configuration.securityModel == .active {
            guard let signingKey, signingKey.publicKey == configuration.verificationKeys[index.position] else {
                throw .invalidConfiguration(reason: "active model: signing key does not match the configured key")
            }
        }
        self.configuration = configuration
        self.index = index
        self.input = input
        self.signingKey = signingKey
        context = ClientContext(
            configuration: configuration, index: index.rawValue, configurationDigest: configuration.digest)
        wire = WireFormat(configuration: configuration)
    }

    static func validate(_ input: [[UInt64]], configuration: SessionConfiguration) throws(SecAggError) {
        guard input.count == configuration.inputs.count else {
            throw .invalidInput(reason: "\(input.count) vectors for \(configuration.inputs.count) configured inputs")
        }
        for (vector, spec) in zip(input, configuration.inputs) {
            guard vector.count == spec.length else {
                throw .invalidInput(reason: "\(spec.name): \(vector.count) elements, expected \(spec.length)")
            }
            guard vector.allSatisfy({ spec.modulus.contains($0) }) else {
                throw .invalidInput(reason: "\(spec.name): element outside \(spec.modulus)")
            }
        }
    }

    /// The current state.
    public var state: ClientState { phase.state(sparse: configuration.isSparse) }

    /// The session id, once the key broadcast arrived (public).
    public var sessionID: SessionID? { knownSessionId.map(SessionID.init) }

    mutating func enter(_ next: ClientPhase) {
        let old = state
        phase = next
        if knownSessionId == nil { knownSessionId = next.sessionId }
        switch next {
        case .completed, .aborted, .awaitingOutcome:
            // Every secret goes with the state that held it; SecretBytes zeroise their memory when released.
            input = nil
            signingKey = nil
        case .awaitingSurvivors, .awaitingUnmaskingRequest:
            // The masked input is sent: the input is no longer needed (one m-vector per client would otherwise stay
            // alive until the end of the session — 8 GB for 10^5 clients of 10^4 elements in one process).
            input = nil
        default: break
        }
        observer?(StateTransition(party: index.rawValue, from: old.description, to: state.description))
    }

    // MARK: Round 0

    /// Generates the two key pairs and returns the round-0 message.
    public mutating func start(using rng: inout some RandomByteGenerator) throws(SecAggError) -> ClientMessage {
        guard case .notStarted = phase else {
            throw .unexpectedMessage(expected: state.description, received: "start")
        }
        let (keys, message) = ClientKeys.generate(context: context, signingKey: signingKey, using: &rng)
        enter(.awaitingKeyBroadcast(keys))
        return message
    }

    /// Round 0 with the system CSPRNG.
    public mutating func start() throws(SecAggError) -> ClientMessage {
        var rng = SystemRandomGenerator()
        return try start(using: &rng)
    }

    /// Round 0, encoded.
    public mutating func startEncoded(using rng: inout some RandomByteGenerator) throws(SecAggError) -> [UInt8] {
        let bytes = try wire.encode(try start(using: &rng))
        metrics.sent(bytes.count, in: .advertiseKeys)
        return bytes
    }

    /// Round 0, encoded, with the system CSPRNG.
    public mutating func startEncoded() throws(SecAggError) -> [UInt8] {
        var rng = SystemRandomGenerator()
        return try startEncoded(using: &rng)
    }
}
