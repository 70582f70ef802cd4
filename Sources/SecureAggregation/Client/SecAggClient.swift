public import SecAggCrypto
import SecAggGraph

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
    /// Waiting for the survivor set to sign (active model).
    case consistencyCheck
    /// Waiting for the unmasking request; will reveal shares.
    case unmasking
    /// Done: the client answered the unmasking request.
    case completed
    /// Stopped for the given reason; every later message is refused.
    case aborted(SecAggError)

    /// Short name.
    public var description: String {
        switch self {
        case .advertiseKeys: "advertiseKeys"
        case .seedReveal: "seedReveal"
        case .shareKeys: "shareKeys"
        case .maskedInputCollection: "maskedInputCollection"
        case .consistencyCheck: "consistencyCheck"
        case .unmasking: "unmasking"
        case .completed: "completed"
        case let .aborted(error): "aborted(\(error))"
        }
    }
}

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
    public let index: UInt32
    /// The current state.
    public private(set) var state: ClientState = .advertiseKeys
    /// Counters for this client.
    public private(set) var metrics = PartyMetrics()
    /// Called on every state change.
    public var observer: TransitionObserver?
    /// Worker threads for mask expansion (1 = all on the calling thread, the right choice on a phone).
    public var maskingConcurrency = 1

    private let wire: WireFormat
    private let configurationDigest: [UInt8]
    private var input: [[UInt64]]?
    private var signingKey: Ed25519.PrivateKey?
    private var encryptionKey: X25519.PrivateKey?
    private var maskingKey: X25519.PrivateKey?
    private var sessionId: [UInt8] = []
    /// Sparse graphs: the contribution committed to in round 0, and the key broadcast kept until round 0′ ends.
    private var seedContribution: [UInt8] = []
    private var pendingBroadcast: KeyBroadcast?
    /// N(u), ascending. Only the client's own neighbourhood is kept: the graph itself is O(n).
    private var neighbourList: [UInt32] = []
    private var neighbourSet = Set<UInt32>()
    /// c_uv for every live neighbour, derived once in ShareKeys and reused to open its box in round 2.
    private var shareEncryptionKeys: [UInt32: SecretBytes] = [:]
    private var neighbourKeys: [UInt32: AdvertisedKeys] = [:]
    private var verificationKeys: [Ed25519.PublicKey] = []
    private var selfMaskSeed: SecretBytes?
    /// Shares held for neighbours that sent them (the client's view of N(u) ∩ U2, less complaints).
    private var heldShares: [UInt32: (maskingKey: ShamirShare, selfMask: ShamirShare)] = [:]
    /// Neighbours whose forwarded ciphertext did not open: reported in round 2, left out of every later list.
    private var complainedAbout = Set<UInt32>()
    private var signedSurvivors: ClientSet?
    private var revealedMaskingKeyShares = Set<UInt32>()
    private var revealedSelfMaskShares = Set<UInt32>()

    /// A client, optionally with its input: one vector per configured input, elements canonical in their
    /// ring. The input may also be given later with ``provideInput(_:)``, any time before the shares are
    /// forwarded (training can run while keys are agreed). In the active model `signingKey` must match
    /// the configuration's verification key for `index`.
    ///
    /// The configuration is checked first (``SessionConfiguration/validate()``, which refuses a threshold that
    /// does not protect privacy under its declared threat) and so is the memory it would need against
    /// `limits` (SPEC.md §11.8): a client refuses a configuration before it has sent anything.
    public init(
        configuration: SessionConfiguration, index: UInt32, input: [[UInt64]]? = nil,
        signingKey: Ed25519.PrivateKey? = nil, limits: ResourceLimits = .default
    ) throws(SecAggError) {
        try configuration.validate()
        try configuration.check(
            configuration.clientMemoryEstimate, against: limits, resource: "a client of this session")
        guard index >= 1, Int(index) <= configuration.clientCount else {
            throw .invalidConfiguration(reason: "client index \(index) outside 1...\(configuration.clientCount)")
        }
        if let input { try Self.validate(input, configuration: configuration) }
        if configuration.securityModel == .active {
            guard let signingKey,
                signingKey.publicKey == configuration.verificationKeys[Int(index) - 1]
            else {
                throw .invalidConfiguration(reason: "active model: signing key does not match the configured key")
            }
        }
        self.configuration = configuration
        self.index = index
        self.input = input
        self.signingKey = signingKey
        self.verificationKeys = configuration.verificationKeys
        wire = WireFormat(configuration: configuration)
        configurationDigest = configuration.digest
    }

    private static func validate(_ input: [[UInt64]], configuration: SessionConfiguration) throws(SecAggError) {
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

    /// Sets (or replaces) the input before the masked-input round.
    public mutating func provideInput(_ input: [[UInt64]]) throws(SecAggError) {
        switch state {
        case .advertiseKeys, .seedReveal, .shareKeys, .maskedInputCollection: break
        default: throw .invalidInput(reason: "the masked input was already sent (or the client stopped)")
        }
        try Self.validate(input, configuration: configuration)
        self.input = input
    }

    /// The session id, once the key broadcast arrived (public).
    public var currentSessionId: [UInt8]? { sessionId.isEmpty ? nil : sessionId }

    private mutating func transition(to newState: ClientState) {
        let old = state
        state = newState
        observer?(StateTransition(party: index, from: old.description, to: newState.description))
        if case .aborted = newState { releaseSecrets() }
        if case .completed = newState { releaseSecrets() }
    }

    /// Drops every secret; SecretBytes zeroise their memory when released.
    private mutating func releaseSecrets() {
        encryptionKey = nil
        maskingKey = nil
        selfMaskSeed = nil
        heldShares = [:]
        shareEncryptionKeys = [:]
        input = nil
        signingKey = nil
        pendingBroadcast = nil
    }

    // MARK: Round 0

    /// Generates the two key pairs and returns the round-0 message.
    public mutating func start(using rng: inout some RandomByteGenerator) throws(SecAggError) -> ClientMessage {
        guard case .advertiseKeys = state else {
            throw .unexpectedMessage(expected: state.description, received: "start")
        }
        let c = X25519.PrivateKey(using: &rng)
        let s = X25519.PrivateKey(using: &rng)
        encryptionKey = c
        maskingKey = s
        var keys = AdvertisedKeys(index: index, encryptionKey: c.publicKey, maskingKey: s.publicKey, signature: [])
        if configuration.isSparse {
            // r_u, hidden by its commitment until the advertised set is fixed (SPEC.md §11.2).
            seedContribution = rng.bytes(count: SeedContribution.byteCount)
            keys.seedCommitment = SeedContribution.commitment(
                configurationDigest: configurationDigest, index: index, contribution: seedContribution)
        }
        if let signingKey {
            keys.signature = signingKey.signature(for: keys.signedBytes(configurationDigest: configurationDigest))
        }
        transition(to: configuration.isSparse ? .seedReveal : .shareKeys)
        return .advertiseKeys(configurationDigest: configurationDigest, keys: keys)
    }

    /// Round 0 with the system CSPRNG.
    public mutating func start() throws(SecAggError) -> ClientMessage {
        var rng = SystemRandomGenerator()
        return try start(using: &rng)
    }

    /// Round 0, encoded.
    public mutating func startEncoded(using rng: inout some RandomByteGenerator) throws(SecAggError) -> [UInt8] {
        let message = try start(using: &rng)
        let bytes = try wire.encode(message)
        metrics.sent(bytes.count, in: .advertiseKeys)
        return bytes
    }

    // MARK: Message handling

    /// Consumes one server message and returns the reply (nil when there is nothing to send).
    ///
    /// Errors that only reject the message (``SecAggError/isRejectionOnly``: wrong session, wrong round,
    /// malformed bytes) leave the state unchanged; any other error aborts the client.
    public mutating func handle(_ message: ServerMessage, using rng: inout some RandomByteGenerator)
        throws(SecAggError) -> ClientMessage?
    {
        switch state {
        case let .aborted(reason): throw .alreadyAborted(reason: reason.description)
        case .completed: throw .alreadyCompleted
        default: break
        }
        do {
            let reply = try dispatch(message, using: &rng)
            return reply
        } catch {
            if error.isRejectionOnly {
                metrics.rejectedMessages += 1
            } else {
                transition(to: .aborted(error))
            }
            throw error
        }
    }

    /// ``handle(_:using:)`` with the system CSPRNG.
    public mutating func handle(_ message: ServerMessage) throws(SecAggError) -> ClientMessage? {
        var rng = SystemRandomGenerator()
        return try handle(message, using: &rng)
    }

    /// Decodes `bytes`, handles the message and encodes the reply.
    public mutating func handle(encoded bytes: [UInt8], using rng: inout some RandomByteGenerator)
        throws(SecAggError) -> [UInt8]?
    {
        let message: ServerMessage
        do {
            message = try wire.decodeServerMessage(bytes)
        } catch {
            metrics.rejectedMessages += 1
            throw error
        }
        let round: ProtocolRound =
            if case .keysBroadcast = message, configuration.isSparse { .seedReveal } else {
                message.round ?? .advertiseKeys
            }
        metrics.received(bytes.count, in: round)
        guard let reply = try handle(message, using: &rng) else { return nil }
        let out = try wire.encode(reply)
        metrics.sent(out.count, in: reply.round)
        return out
    }

    /// ``handle(encoded:using:)`` with the system CSPRNG.
    public mutating func handle(encoded bytes: [UInt8]) throws(SecAggError) -> [UInt8]? {
        var rng = SystemRandomGenerator()
        return try handle(encoded: bytes, using: &rng)
    }

    private mutating func dispatch(_ message: ServerMessage, using rng: inout some RandomByteGenerator)
        throws(SecAggError) -> ClientMessage?
    {
        switch (state, message) {
        case let (_, .abort(binding, code)):
            guard binding == configurationDigest || (!sessionId.isEmpty && binding == sessionId) else {
                throw .wrongSession
            }
            transition(to: .aborted(.serverAborted(code: code)))
            return nil
        case let (.seedReveal, .keysBroadcast(digest, keys)):
            guard digest == configurationDigest else { throw .wrongSession }
            return try revealSeed(keys)
        case let (.shareKeys, .keysBroadcast(digest, keys)) where !configuration.isSparse:
            guard digest == configurationDigest else { throw .wrongSession }
            let sid = try checkOwnEntry(in: keys)
            let graph = try configuration.makeGraph(graphSeed: unusedGraphSeed)
            return try shareKeys(keys, sessionId: sid, graph: graph, using: &rng)
        case let (.shareKeys, .seedReveals(sid, contributions)) where configuration.isSparse:
            guard ConstantTime.equals(sid, sessionId) else { throw .wrongSession }
            guard let keys = pendingBroadcast else { throw .invalidConfiguration(reason: "key broadcast missing") }
            let graph = try checkSeedReveals(contributions, keys: keys)
            pendingBroadcast = nil
            return try shareKeys(keys, sessionId: sid, graph: graph, using: &rng)
        case let (.maskedInputCollection, .sharesForward(sid, recipient, shares)):
            try checkBinding(sid, recipient: recipient)
            return try maskedInput(shares)
        case let (.consistencyCheck, .consistencyRequest(sid, survivors)):
            try checkBinding(sid, recipient: index)
            return try consistencyCheck(survivors)
        case let (.unmasking, .unmaskingRequest(sid, recipient, dropped, survivors, signatures)):
            try checkBinding(sid, recipient: recipient)
            return try unmask(dropped: dropped, survivors: survivors, signatures: signatures)
        default:
            throw .unexpectedMessage(
                expected: state.description, received: "\(message.round.map { "\($0)" } ?? "abort")")
        }
    }

    private func checkBinding(_ sid: [UInt8], recipient: UInt32) throws(SecAggError) {
        guard ConstantTime.equals(sid, sessionId) else { throw .wrongSession }
        guard recipient == index else {
            throw .unexpectedMessage(expected: "a message for client \(index)", received: "one for client \(recipient)")
        }
    }

    private func neighbours() -> [UInt32] {
        neighbourList
    }

    // MARK: Round 0′ (sparse graphs)

    /// Checks that the broadcast carries this client's own advertisement unchanged; returns the session id.
    private func checkOwnEntry(in keys: KeyBroadcast) throws(SecAggError) -> [UInt8] {
        guard let encryptionKey, let maskingKey else { throw .invalidConfiguration(reason: "keys missing") }
        guard let own = keys.entry(for: index),
            own.encryptionKey == encryptionKey.publicKey, own.maskingKey == maskingKey.publicKey,
            own.seedCommitment
                == (configuration.isSparse
                    ? SeedContribution.commitment(
                        configurationDigest: configurationDigest, index: index, contribution: seedContribution) : [])
        else {
            throw .inconsistentServerMessage(reason: "the key broadcast does not contain this client's keys")
        }
        return keys.sessionId(configurationDigest: configurationDigest)
    }

    /// The advertised set (and every commitment) is now fixed: reveal the contribution.
    private mutating func revealSeed(_ keys: KeyBroadcast) throws(SecAggError) -> ClientMessage {
        let sid = try checkOwnEntry(in: keys)
        // At least t + 1 advertisers are needed for anyone to have t live neighbours; refuse early.
        guard keys.count >= configuration.threshold + 1 else {
            throw .insufficientClients(round: .seedReveal, count: keys.count, threshold: configuration.threshold)
        }
        sessionId = sid
        pendingBroadcast = keys
        transition(to: .shareKeys)
        return .seedReveal(sessionId: sid, sender: index, contribution: seedContribution)
    }

    /// Checks that every advertiser revealed the contribution it committed to, and derives the graph.
    private func checkSeedReveals(_ contributions: [SeedContribution], keys: KeyBroadcast) throws(SecAggError)
        -> any CommunicationGraph
    {
        // All or nothing: dropping a reveal would let whoever sees the others choose among graphs (§11.2).
        guard contributions.map(\.index) == keys.indices else {
            throw .inconsistentServerMessage(reason: "the seed reveals do not cover exactly the advertised clients")
        }
        if let index = keys.firstUnopenedCommitment(contributions, configurationDigest: configurationDigest) {
            throw .inconsistentServerMessage(
                reason: "client \(index)'s seed contribution does not match its commitment")
        }
        return try configuration.makeGraph(
            graphSeed: SeedContribution.graphSeed(sessionId: sessionId, contributions: contributions))
    }

    // MARK: Round 1

    private mutating func shareKeys(
        _ keys: KeyBroadcast, sessionId sid: [UInt8], graph: any CommunicationGraph,
        using rng: inout some RandomByteGenerator
    ) throws(SecAggError) -> ClientMessage {
        guard let encryptionKey, let maskingKey else { throw .invalidConfiguration(reason: "keys missing") }
        guard let own = keys.entry(for: index) else {
            throw .inconsistentServerMessage(reason: "the key broadcast does not contain this client's keys")
        }
        var live: [UInt32: AdvertisedKeys] = [:]
        var seenKeys = Set<[UInt8]>([own.encryptionKey.rawRepresentation, own.maskingKey.rawRepresentation])
        let myNeighbours = graph.neighbours(of: index)
        for v in myNeighbours {
            guard let entry = keys.entry(for: v) else { continue }
            if configuration.securityModel == .active {
                let message = entry.signedBytes(configurationDigest: configurationDigest)
                guard verificationKeys[Int(v) - 1].isValidSignature(entry.signature, for: message) else {
                    throw .badSignature(signer: v, round: .advertiseKeys)
                }
            }
            // Distinct keys: a server that copies keys between clients is caught here.
            guard seenKeys.insert(entry.encryptionKey.rawRepresentation).inserted,
                seenKeys.insert(entry.maskingKey.rawRepresentation).inserted
            else {
                throw .inconsistentServerMessage(reason: "client \(v) advertised a key that is already in use")
            }
            live[v] = entry
        }
        guard live.count >= configuration.threshold else {
            throw .insufficientClients(round: .shareKeys, count: live.count, threshold: configuration.threshold)
        }
        sessionId = sid
        neighbourList = myNeighbours
        neighbourSet = Set(myNeighbours)
        neighbourKeys = live

        // b_u and the shares of s_u^SK and b_u for every live neighbour.
        let seed = SecretBytes(randomByteCount: MaskPrg.seedByteCount, using: &rng)
        selfMaskSeed = seed
        let commitment = selfMaskCommitment(sessionId: sid, owner: index, seed: seed)
        let recipients = live.keys.sorted()
        let keyShares: [ShamirShare]
        let seedShares: [ShamirShare]
        do {
            keyShares = try ShamirSecretSharing.split(
                secret: maskingKey.rawRepresentation, threshold: configuration.threshold, xCoordinates: recipients,
                using: &rng)
            seedShares = try ShamirSecretSharing.split(
                secret: seed, threshold: configuration.threshold, xCoordinates: recipients, using: &rng)
        } catch {
            throw .crypto(error)
        }
        // One private key with every live neighbour: the agreements run as one batch.
        let peerKeys = recipients.compactMap { live[$0]?.encryptionKey }
        let sharedSecrets: [X25519.SharedSecret]
        do {
            sharedSecrets = try encryptionKey.sharedSecrets(with: peerKeys)
        } catch {
            throw .crypto(error)
        }
        guard sharedSecrets.count == recipients.count else {
            throw .invalidConfiguration(reason: "live neighbour keys missing")
        }
        var out: [EncryptedShare] = []
        out.reserveCapacity(recipients.count)
        for (i, v) in recipients.enumerated() {
            do {
                let key = try KeyDerivation.shareEncryptionKey(
                    sharedSecret: sharedSecrets[i], sessionId: sid, index, v)
                shareEncryptionKeys[v] = key
                var plaintext = keyShares[i].encoded() + seedShares[i].encoded()
                defer { secureZero(&plaintext) }
                let ad = ShareAssociatedData(sessionId: sid, sender: index, recipient: v, purpose: .keyShares)
                let box = try Aead.seal(plaintext, key: key, associatedData: ad.bytes, using: &rng)
                out.append(EncryptedShare(peer: v, ciphertext: box))
            } catch {
                throw .crypto(error)
            }
        }
        transition(to: .maskedInputCollection)
        return .shareKeys(sessionId: sid, sender: index, selfMaskCommitment: commitment, shares: out)
    }

    // MARK: Round 2

    private mutating func maskedInput(_ shares: [EncryptedShare]) throws(SecAggError) -> ClientMessage {
        guard let input else { throw .invalidInput(reason: "no input provided before the masked-input round") }
        guard let encryptionKey, let maskingKey, let selfMaskSeed else {
            throw .invalidConfiguration(reason: "state missing")
        }
        var held: [UInt32: (maskingKey: ShamirShare, selfMask: ShamirShare)] = [:]
        var failed: [UInt32] = []
        for entry in shares {
            guard let peer = neighbourKeys[entry.peer] else {
                throw .inconsistentServerMessage(reason: "shares from client \(entry.peer), not a live neighbour")
            }
            // A ciphertext that does not open, or opens to malformed shares, costs this client that one
            // neighbour (reported below), not the session (SPEC.md §11.3 round 2).
            guard let pair = openShares(entry, peerKey: peer.encryptionKey, encryptionKey: encryptionKey) else {
                failed.append(entry.peer)
                continue
            }
            held[entry.peer] = pair
        }
        guard held.count >= configuration.threshold else {
            throw .insufficientClients(
                round: .maskedInputCollection, count: held.count, threshold: configuration.threshold)
        }

        // y_u = x_u + PRG(b_u) + Σ_{v < u} PRG(s_uv) − Σ_{v > u} PRG(s_uv) over the neighbours whose shares
        // opened (SPEC.md §11.3); the pairwise seeds of the others are disclosed with the complaint.
        var jobs: [MaskJob] = [MaskJob(seed: selfMaskSeed, negate: false)]
        var complaints: [ShareComplaint] = []
        let peers = (Array(held.keys) + failed).sorted().compactMap { v in neighbourKeys[v].map { (v, $0.maskingKey) } }
        let failedSet = Set(failed)
        do {
            let sharedSecrets = try maskingKey.sharedSecrets(with: peers.map(\.1))
            for ((v, _), shared) in zip(peers, sharedSecrets) {
                let seed = try KeyDerivation.pairwiseMaskSeed(sharedSecret: shared, sessionId: sessionId, index, v)
                if failedSet.contains(v) {
                    complaints.append(ShareComplaint(sender: v, pairwiseMaskSeed: seed))
                } else {
                    jobs.append(MaskJob(seed: seed, negate: v > index))
                }
            }
        } catch {
            throw .crypto(error)
        }
        var vectors = input
        do {
            try MaskApplication.apply(
                jobs, to: &vectors, inputs: configuration.inputs, concurrency: maskingConcurrency)
        } catch {
            throw .crypto(error)
        }
        heldShares = held
        complainedAbout = failedSet
        // The share-encryption keys have done their job: release (and so zeroise) them now.
        shareEncryptionKeys = [:]
        self.encryptionKey = nil
        self.input = nil
        transition(to: configuration.securityModel == .active ? .consistencyCheck : .unmasking)
        return .maskedInput(sessionId: sessionId, sender: index, complaints: complaints, vectors: vectors)
    }

    /// Opens one forwarded ciphertext; nil when it fails authentication or holds malformed shares.
    private func openShares(_ entry: EncryptedShare, peerKey: X25519.PublicKey, encryptionKey: X25519.PrivateKey)
        -> (maskingKey: ShamirShare, selfMask: ShamirShare)?
    {
        let plaintext: SecretBytes
        do {
            let key: SecretBytes
            if let cached = shareEncryptionKeys[entry.peer] {
                key = cached
            } else {
                let shared = try encryptionKey.sharedSecret(with: peerKey)
                key = try KeyDerivation.shareEncryptionKey(
                    sharedSecret: shared, sessionId: sessionId, index, entry.peer)
            }
            let ad = ShareAssociatedData(
                sessionId: sessionId, sender: entry.peer, recipient: index, purpose: .keyShares)
            plaintext = try Aead.open(entry.ciphertext, key: key, associatedData: ad.bytes)
        } catch {
            return nil
        }
        var bytes = plaintext.unsafeExportedBytes()
        defer { secureZero(&bytes) }
        guard bytes.count == 2 * shareByteCount,
            let keyShare = try? ShamirShare(encoded: Array(bytes[0..<shareByteCount]), secretByteCount: 32),
            let seedShare = try? ShamirShare(encoded: Array(bytes[shareByteCount...]), secretByteCount: 32),
            keyShare.x == index, seedShare.x == index
        else {
            return nil
        }
        return (keyShare, seedShare)
    }

    // MARK: Round 3

    private mutating func consistencyCheck(_ survivors: ClientSet) throws(SecAggError) -> ClientMessage {
        guard let signingKey else { throw .invalidConfiguration(reason: "no signing key") }
        guard survivors.clientCount == configuration.clientCount, survivors.contains(index) else {
            throw .inconsistentServerMessage(reason: "survivor set does not contain this client")
        }
        var liveNeighbours = 0
        for v in neighbours() where survivors.contains(v) {
            // A survivor this client complained about is allowed (its ciphertext reached us but did not open);
            // it just does not count towards t.
            if complainedAbout.contains(v) { continue }
            guard heldShares[v] != nil else {
                throw .inconsistentServerMessage(reason: "survivor \(v) never shared keys with this client")
            }
            liveNeighbours += 1
        }
        guard liveNeighbours >= configuration.threshold else {
            throw .insufficientClients(
                round: .consistencyCheck, count: liveNeighbours, threshold: configuration.threshold)
        }
        signedSurvivors = survivors
        let signature = signingKey.signature(
            for: ConsistencyCheck.signedBytes(sessionId: sessionId, signer: index, survivors: survivors))
        transition(to: .unmasking)
        return .consistencySignature(sessionId: sessionId, sender: index, signature: signature)
    }

    // MARK: Round 4

    private mutating func unmask(
        dropped: [UInt32], survivors: [UInt32], signatures: [ConsistencySignatureEntry]
    ) throws(SecAggError) -> ClientMessage {
        let droppedSet = Set(dropped)
        let survivorSet = Set(survivors)
        // The same peer may never be both dropped and alive: that would reveal both of its secrets.
        if let both = droppedSet.intersection(survivorSet).min() { throw .conflictingShareRequest(peer: both) }
        // Survivor sets only shrink: every listed peer must be one that shared keys with us, and every
        // such peer must be classified.
        for v in dropped + survivors where heldShares[v] == nil {
            throw .inconsistentServerMessage(reason: "client \(v) is not among the clients that shared keys")
        }
        guard droppedSet.count + survivorSet.count == heldShares.count else {
            throw .inconsistentServerMessage(reason: "the request does not classify every neighbour that shared keys")
        }
        guard survivorSet.count >= configuration.threshold else {
            throw .insufficientClients(round: .unmasking, count: survivorSet.count, threshold: configuration.threshold)
        }
        if configuration.securityModel == .active {
            guard let signed = signedSurvivors else { throw .invalidConfiguration(reason: "no signed survivor set") }
            for v in survivors where !signed.contains(v) {
                throw .inconsistentServerMessage(reason: "survivor \(v) was not in the signed survivor set")
            }
            for v in dropped where signed.contains(v) {
                throw .inconsistentServerMessage(reason: "dropped client \(v) was in the signed survivor set")
            }
            // Distinct signers count, not entries: one signature repeated t times is one signer (the wire
            // decoder refuses repeats, but a transport may hand the typed message in directly).
            var signers = Set<UInt32>()
            for entry in signatures {
                guard signers.insert(entry.signer).inserted else {
                    throw .inconsistentServerMessage(reason: "client \(entry.signer) signed twice")
                }
                guard neighbourSet.contains(entry.signer), signed.contains(entry.signer) else {
                    throw .inconsistentServerMessage(
                        reason: "signature from client \(entry.signer), not a live neighbour")
                }
                let message = ConsistencyCheck.signedBytes(
                    sessionId: sessionId, signer: entry.signer, survivors: signed)
                guard verificationKeys[Int(entry.signer) - 1].isValidSignature(entry.signature, for: message) else {
                    throw .badSignature(signer: entry.signer, round: .consistencyCheck)
                }
            }
            guard signers.count >= configuration.threshold else {
                throw .insufficientClients(round: .unmasking, count: signers.count, threshold: configuration.threshold)
            }
        }
        for v in dropped where revealedSelfMaskShares.contains(v) { throw .conflictingShareRequest(peer: v) }
        for v in survivors where revealedMaskingKeyShares.contains(v) { throw .conflictingShareRequest(peer: v) }
        var keyShares: [RevealedShare] = []
        var seedShares: [RevealedShare] = []
        for v in dropped {
            guard let held = heldShares[v] else { continue }
            revealedMaskingKeyShares.insert(v)
            keyShares.append(RevealedShare(owner: v, share: held.maskingKey))
        }
        for v in survivors {
            guard let held = heldShares[v] else { continue }
            revealedSelfMaskShares.insert(v)
            seedShares.append(RevealedShare(owner: v, share: held.selfMask))
        }
        transition(to: .completed)
        return .unmaskingResponse(
            sessionId: sessionId, sender: index, maskingKeyShares: keyShares, selfMaskShares: seedShares)
    }
}
