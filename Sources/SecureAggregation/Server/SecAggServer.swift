import SecAggCrypto
import SecAggGraph

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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

/// Messages the server sends when a round closes.
public struct ServerOutbox: Sendable {
    /// One message for many recipients (encode once, send to each).
    public var broadcast: (message: ServerMessage, recipients: [UInt32])?
    /// Per-recipient messages.
    public var direct: [(recipient: UInt32, message: ServerMessage)] = []

    /// An empty outbox.
    public init() {}

    /// Every (recipient, message) pair, broadcast expanded.
    public var allMessages: [(recipient: UInt32, message: ServerMessage)] {
        var out = direct
        if let broadcast { out += broadcast.recipients.map { ($0, broadcast.message) } }
        return out
    }
}

/// The encoded form of a ``ServerOutbox``.
public struct EncodedOutbox: Sendable {
    /// One byte string for many recipients.
    public var broadcast: (bytes: [UInt8], recipients: [UInt32])?
    /// Per-recipient byte strings.
    public var direct: [(recipient: UInt32, bytes: [UInt8])] = []

    /// Every (recipient, bytes) pair, broadcast expanded.
    public var allMessages: [(recipient: UInt32, bytes: [UInt8])] {
        var out = direct
        if let broadcast { out += broadcast.recipients.map { ($0, broadcast.bytes) } }
        return out
    }
}

/// A client the server caught deviating from the protocol during a session that still completed (or the
/// client named by the error of one that did not).
public struct FlaggedClient: Sendable, Hashable, CustomStringConvertible {
    /// What was observed.
    public enum Reason: Sendable, Hashable {
        /// `reporter` could not open the share ciphertext this client sent it (the client, or whoever carried
        /// the ciphertext, corrupted it); the pair's mask seed was disclosed and the session went on.
        case undecryptableShares(reporter: UInt32)
        /// A share this client revealed for `owner`'s secret is not on the polynomial that reconstructs the
        /// committed secret; it was left out (SPEC.md §11.4).
        case invalidShare(owner: UInt32, kind: ShareKind)
    }

    /// The client.
    public var client: UInt32
    /// Why.
    public var reason: Reason

    /// Creates an entry.
    public init(client: UInt32, reason: Reason) {
        self.client = client
        self.reason = reason
    }

    /// One line.
    public var description: String {
        switch reason {
        case let .undecryptableShares(reporter):
            "client \(client): client \(reporter) could not open its share ciphertext"
        case let .invalidShare(owner, kind):
            "client \(client): revealed an invalid share of client \(owner)'s \(kind)"
        }
    }
}

/// The outcome of a session: the sum of the included clients' inputs, per configured vector.
public struct AggregationResult: Sendable, Equatable {
    /// The sums, one per configured input, in its ring.
    public var vectors: [[UInt64]]
    /// The clients whose inputs are in the sum (U3), ascending.
    public var includedClients: [UInt32]
    /// Clients in each round's live set, for reports: U1...U5 sizes.
    public var liveCounts: [ProtocolRound: Int]
    /// Clients caught deviating (undecryptable ciphertexts, invalid revealed shares), ascending by client.
    public var flaggedClients: [FlaggedClient] = []
}

/// The server of the secure-aggregation protocol: a passive state machine (SPEC.md §11).
///
/// It consumes client messages in any order; the caller decides when a round's deadline passed and calls
/// ``advance()``; clients that did not answer count as dropped. Masked inputs are summed as they arrive,
/// so memory is O(vector length + n · neighbours), never one buffer per client.
public struct SecAggServer: Sendable {
    /// The session configuration.
    public let configuration: SessionConfiguration
    /// The current state.
    public private(set) var state: ServerState = .collecting(.advertiseKeys)
    /// The aggregate once completed.
    public private(set) var result: AggregationResult?
    /// Counters for the server.
    public private(set) var metrics = PartyMetrics()
    /// Called on every state change.
    public var observer: TransitionObserver?
    /// Worker threads for mask removal (defaults to every core; fewer are used when the memory limit does
    /// not allow one accumulator per worker).
    public var unmaskingConcurrency = SystemInfo.activeProcessorCount
    /// The memory limit checked at initialisation.
    public let limits: ResourceLimits
    /// The workers the last unmasking used (at most ``unmaskingConcurrency``, fewer when the limit is tight).
    package private(set) var unmaskingWorkersUsed = 0

    private let wire: WireFormat
    private let configurationDigest: [UInt8]
    private let probeKey = X25519.PrivateKey()
    private var advertised: [UInt32: AdvertisedKeys] = [:]
    private var seedContributions: [UInt32: [UInt8]] = [:]
    private var selfMaskCommitments: [UInt32: [UInt8]] = [:]
    /// Complaints by complainer (round 2): senders whose ciphertext it could not open, with their pair seeds.
    private var complaints: [UInt32: [ShareComplaint]] = [:]
    private var sessionId: [UInt8] = []
    private var graph: (any CommunicationGraph)?
    private var live: [ProtocolRound: ClientSet] = [:]
    private var responded: ClientSet
    private var inbox: [UInt32: [EncryptedShare]] = [:]
    private var sum: [[UInt64]]
    private var signatures: [UInt32: [UInt8]] = [:]
    private var maskingKeyShares: [UInt32: [ShamirShare]] = [:]
    private var selfMaskShares: [UInt32: [ShamirShare]] = [:]

    /// A server for `configuration`, which is validated here (``SessionConfiguration/validate()`` refuses a
    /// threshold that does not protect privacy) and whose memory estimate with one unmasking worker must fit
    /// `limits` (SPEC.md §11.8; unmasking later uses more workers only as the limit allows); nothing is
    /// allocated before both checks pass, and nothing runs unless the masking path reproduces its known answer
    /// (SPEC.md §11.7).
    public init(configuration: SessionConfiguration, limits: ResourceLimits = .default) throws(SecAggError) {
        try configuration.validate()
        try configuration.check(
            configuration.serverMemoryEstimate(unmaskingWorkers: 1), against: limits, resource: "the server")
        guard MaskApplication.knownAnswerPasses else { throw .selfTestFailed(component: "mask application") }
        self.limits = limits
        self.configuration = configuration
        wire = WireFormat(configuration: configuration)
        configurationDigest = configuration.digest
        responded = ClientSet(clientCount: configuration.clientCount)
        sum = configuration.inputs.map { [UInt64](repeating: 0, count: $0.length) }
    }

    /// The session id once round 0 closed.
    public var currentSessionId: [UInt8]? { sessionId.isEmpty ? nil : sessionId }

    /// N(client) in the session's graph, ascending; empty before the graph is fixed (after round 0, or round 0′
    /// on sparse graphs).
    public func neighbours(of client: UInt32) -> [UInt32] {
        graph?.neighbours(of: client) ?? []
    }

    /// The live set after `round` closed (U1 after advertise-keys, …).
    public func liveClients(after round: ProtocolRound) -> [UInt32] {
        live[round].map { Array($0) } ?? []
    }

    /// The abort message for the remaining clients, when aborted.
    public var abortNotice: ServerMessage? {
        guard case let .aborted(error) = state else { return nil }
        let code: AbortCode =
            switch error {
            case .insufficientClients, .insufficientShares: .insufficientClients
            case .reconstructionFailed: .reconstructionFailed
            case .missingSeedReveals: .missingSeedReveals
            default: .other
            }
        return .abort(binding: sessionId.isEmpty ? configurationDigest : sessionId, code: code.rawValue)
    }

    private var currentRound: ProtocolRound? {
        if case let .collecting(round) = state { return round }
        return nil
    }

    private mutating func transition(to newState: ServerState) {
        let old = state
        state = newState
        observer?(StateTransition(party: 0, from: old.description, to: newState.description))
    }

    /// The live set a client must belong to for its message of `round` to be accepted.
    private func eligible(for round: ProtocolRound) -> ClientSet? {
        switch round {
        case .advertiseKeys: nil
        case .seedReveal, .shareKeys: live[.advertiseKeys]
        case .maskedInputCollection: live[.shareKeys]
        case .consistencyCheck: live[.maskedInputCollection]
        case .unmasking:
            configuration.securityModel == .active ? live[.consistencyCheck] : live[.maskedInputCollection]
        }
    }

    // MARK: Receiving

    /// Decodes and accepts one client message from the (transport-authenticated) `sender`.
    public mutating func receive(encoded bytes: [UInt8], from sender: UInt32) throws(SecAggError) {
        let message: ClientMessage
        do {
            message = try wire.decodeClientMessage(bytes)
        } catch {
            metrics.rejectedMessages += 1
            throw error
        }
        try receive(message, from: sender)
        metrics.received(bytes.count, in: message.round)
    }

    /// Accepts one client message. A rejected message (any thrown error) leaves the server unchanged.
    public mutating func receive(_ message: ClientMessage, from sender: UInt32) throws(SecAggError) {
        do {
            try accept(message, from: sender)
        } catch {
            metrics.rejectedMessages += 1
            throw error
        }
    }

    private mutating func accept(_ message: ClientMessage, from sender: UInt32) throws(SecAggError) {
        switch state {
        case .completed: throw .alreadyCompleted
        case let .aborted(reason): throw .alreadyAborted(reason: reason.description)
        case .collecting: break
        }
        guard let round = currentRound, message.round == round else {
            if let round = currentRound, message.round.rawValue < round.rawValue {
                throw .notParticipating(sender: sender, round: message.round)
            }
            throw .unexpectedMessage(expected: currentRound?.description ?? "none", received: message.round.description)
        }
        guard message.sender == sender else {
            throw .invalidClientMessage(sender: sender, reason: "message claims to be from client \(message.sender)")
        }
        guard sender >= 1, Int(sender) <= configuration.clientCount else {
            throw .notParticipating(sender: sender, round: round)
        }
        if let eligible = eligible(for: round), !eligible.contains(sender) {
            throw .notParticipating(sender: sender, round: round)
        }
        guard !responded.contains(sender) else { throw .duplicateMessage(sender: sender, round: round) }

        switch message {
        case let .advertiseKeys(digest, keys):
            guard digest == configurationDigest else { throw .wrongSession }
            if configuration.securityModel == .active {
                let key = configuration.verificationKeys[Int(sender) - 1]
                guard key.isValidSignature(keys.signature, for: keys.signedBytes(configurationDigest: digest)) else {
                    throw .badSignature(signer: sender, round: .advertiseKeys)
                }
            }
            // Low-order keys would give all-zero shared secrets to every neighbour: refuse them here.
            guard (try? probeKey.sharedSecret(with: keys.encryptionKey)) != nil,
                (try? probeKey.sharedSecret(with: keys.maskingKey)) != nil
            else {
                throw .invalidClientMessage(sender: sender, reason: "low-order public key")
            }
            advertised[sender] = keys
        case let .seedReveal(sid, _, contribution):
            guard sid == sessionId else { throw .wrongSession }
            guard let keys = advertised[sender],
                SeedContribution.commitment(
                    configurationDigest: configurationDigest, index: sender, contribution: contribution)
                    == keys.seedCommitment
            else {
                throw .invalidClientMessage(sender: sender, reason: "seed contribution does not match its commitment")
            }
            seedContributions[sender] = contribution
        case let .shareKeys(sid, _, commitment, shares):
            guard sid == sessionId else { throw .wrongSession }
            let expected = expectedRecipients(of: sender)
            guard shares.map(\.peer) == expected else {
                throw .invalidClientMessage(
                    sender: sender, reason: "shares must address exactly its \(expected.count) live neighbours")
            }
            for s in shares {
                inbox[s.peer, default: []].append(EncryptedShare(peer: sender, ciphertext: s.ciphertext))
            }
            selfMaskCommitments[sender] = commitment
        case let .maskedInput(sid, _, reported, vectors):
            guard sid == sessionId else { throw .wrongSession }
            guard vectors.count == sum.count else {
                throw .invalidClientMessage(sender: sender, reason: "wrong number of vectors")
            }
            // Complaints name senders whose ciphertext was forwarded to this client, and leave it t of them.
            let forwarded = forwardedSenders(to: sender)
            // Strictly ascending (so each pair is corrected once), as the wire decoder enforces for bytes.
            guard zip(reported, reported.dropFirst()).allSatisfy({ $0.sender < $1.sender }) else {
                throw .invalidClientMessage(sender: sender, reason: "complaints must be strictly ascending")
            }
            guard reported.allSatisfy({ forwarded.contains($0.sender) }) else {
                throw .invalidClientMessage(sender: sender, reason: "complaint about a client it received nothing from")
            }
            guard forwarded.count - reported.count >= configuration.threshold else {
                throw .invalidClientMessage(
                    sender: sender, reason: "complaints leave fewer than t = \(configuration.threshold) neighbours")
            }
            for (i, spec) in configuration.inputs.enumerated() {
                guard vectors[i].count == spec.length, vectors[i].allSatisfy({ spec.modulus.contains($0) }) else {
                    throw .invalidClientMessage(sender: sender, reason: "vector \(spec.name) has the wrong shape")
                }
            }
            for (i, spec) in configuration.inputs.enumerated() {
                Self.accumulate(vectors[i], into: &sum[i], modulus: spec.modulus)
            }
            if !reported.isEmpty { complaints[sender] = reported }
        case let .consistencySignature(sid, _, signature):
            guard sid == sessionId else { throw .wrongSession }
            guard let survivors = live[.maskedInputCollection] else { throw .wrongSession }
            let message = ConsistencyCheck.signedBytes(sessionId: sid, signer: sender, survivors: survivors)
            guard configuration.verificationKeys[Int(sender) - 1].isValidSignature(signature, for: message) else {
                throw .badSignature(signer: sender, round: .consistencyCheck)
            }
            signatures[sender] = signature
        case let .unmaskingResponse(sid, _, keyShares, seedShares):
            guard sid == sessionId else { throw .wrongSession }
            let (dropped, survivors) = unmaskingLists(for: sender)
            guard keyShares.map(\.owner) == dropped, seedShares.map(\.owner) == survivors else {
                throw .invalidClientMessage(sender: sender, reason: "shares do not match the unmasking request")
            }
            guard (keyShares + seedShares).allSatisfy({ $0.share.x == sender && $0.share.chunkCount == 5 }) else {
                throw .invalidClientMessage(sender: sender, reason: "share x-coordinate is not the sender's index")
            }
            for s in keyShares { maskingKeyShares[s.owner, default: []].append(s.share) }
            for s in seedShares { selfMaskShares[s.owner, default: []].append(s.share) }
        }
        responded.insert(sender)
    }

    /// Adds a masked vector into the running sum.
    private static func accumulate(_ vector: [UInt64], into total: inout [UInt64], modulus: RingModulus) {
        switch modulus {
        case .powerOfTwo:
            let mask = modulus.elementMask
            total.withUnsafeMutableBufferPointer { t in
                vector.withUnsafeBufferPointer { v in
                    for k in 0..<t.count { t[k] = (t[k] &+ v[k]) & mask }
                }
            }
        case .integer:
            for k in total.indices { total[k] = modulus.add(total[k], vector[k]) }
        }
    }

    private func expectedRecipients(of sender: UInt32) -> [UInt32] {
        guard let u1 = live[.advertiseKeys] else { return [] }
        return neighbours(of: sender).filter { u1.contains($0) }
    }

    /// The senders whose ciphertexts were forwarded to `client` in round 2: its neighbours in U2.
    private func forwardedSenders(to client: UInt32) -> Set<UInt32> {
        guard let u2 = live[.shareKeys] else { return [] }
        return Set(neighbours(of: client).filter { u2.contains($0) })
    }

    /// True when `complainer` reported that it could not open `sender`'s ciphertext (so neither holds the
    /// other's shares on that side, and `complainer` never masked with `sender`).
    private func complained(_ complainer: UInt32, about sender: UInt32) -> Bool {
        complaints[complainer]?.contains { $0.sender == sender } ?? false
    }

    /// (dropped, survivors) for the unmasking request to `client`: its neighbours in U2 \ U3 and in U3 whose
    /// shares it holds (every neighbour in U2 except those it complained about).
    private func unmaskingLists(for client: UInt32) -> (dropped: [UInt32], survivors: [UInt32]) {
        guard let u2 = live[.shareKeys], let u3 = live[.maskedInputCollection] else { return ([], []) }
        var dropped: [UInt32] = []
        var survivors: [UInt32] = []
        for v in neighbours(of: client) where u2.contains(v) && !complained(client, about: v) {
            if u3.contains(v) { survivors.append(v) } else { dropped.append(v) }
        }
        return (dropped, survivors)
    }

    // MARK: Advancing

    /// Closes the current round: clients that did not answer are dropped. Returns the messages that start
    /// the next round; after the unmasking round it computes ``result``. Throws (and aborts) when fewer
    /// than t + 1 clients remain (every client needs t live neighbours) or a secret cannot be reconstructed.
    public mutating func advance() throws(SecAggError) -> ServerOutbox {
        guard let round = currentRound else {
            if case .completed = state { throw .alreadyCompleted }
            if case let .aborted(reason) = state { throw .alreadyAborted(reason: reason.description) }
            throw .alreadyCompleted
        }
        let current = responded
        live[round] = current
        responded = ClientSet(clientCount: configuration.clientCount)
        if round == .seedReveal, let u1 = live[.advertiseKeys], current.count != u1.count {
            // All or nothing: a missing reveal would let the server (or a withholding client) choose between
            // rings after seeing the others' contributions (SPEC.md §11.2). Nothing secret was sent yet.
            let error = SecAggError.missingSeedReveals(clients: u1.filter { !current.contains($0) })
            transition(to: .aborted(error))
            throw error
        }
        let required = configuration.threshold + 1
        if current.count < required {
            let error = SecAggError.insufficientClients(
                round: round, count: current.count, threshold: configuration.threshold)
            transition(to: .aborted(error))
            throw error
        }
        var outbox = ServerOutbox()
        switch round {
        case .advertiseKeys:
            let keys = current.compactMap { advertised[$0] }
            let broadcast = KeyBroadcast(
                entries: keys, signed: configuration.securityModel == .active, committed: configuration.isSparse)
            sessionId = broadcast.sessionId(configurationDigest: configurationDigest)
            outbox.broadcast = (
                .keysBroadcast(configurationDigest: configurationDigest, keys: broadcast), Array(current)
            )
            advertised = [:]
            for k in keys { advertised[k.index] = k }
            if configuration.isSparse {
                transition(to: .collecting(.seedReveal))
            } else {
                try makeGraph(seed: unusedGraphSeed)
                transition(to: .collecting(.shareKeys))
            }
        case .seedReveal:
            let contributions = current.compactMap { u in
                seedContributions[u].map { SeedContribution(index: u, contribution: $0) }
            }
            try makeGraph(seed: SeedContribution.graphSeed(sessionId: sessionId, contributions: contributions))
            seedContributions = [:]
            outbox.broadcast = (.seedReveals(sessionId: sessionId, contributions: contributions), Array(current))
            transition(to: .collecting(.shareKeys))
        case .shareKeys:
            for w in current {
                let shares = (inbox[w] ?? []).filter { current.contains($0.peer) }.sorted { $0.peer < $1.peer }
                outbox.direct.append((w, .sharesForward(sessionId: sessionId, recipient: w, shares: shares)))
            }
            inbox = [:]
            transition(to: .collecting(.maskedInputCollection))
        case .maskedInputCollection:
            if configuration.securityModel == .active {
                outbox.broadcast = (.consistencyRequest(sessionId: sessionId, survivors: current), Array(current))
                transition(to: .collecting(.consistencyCheck))
            } else {
                outbox.direct = unmaskingRequests(to: current)
                transition(to: .collecting(.unmasking))
            }
        case .consistencyCheck:
            outbox.direct = unmaskingRequests(to: current)
            transition(to: .collecting(.unmasking))
        case .unmasking:
            do {
                result = try finish()
                transition(to: .completed)
            } catch {
                transition(to: .aborted(error))
                throw error
            }
        }
        return outbox
    }

    private mutating func makeGraph(seed: [UInt8]) throws(SecAggError) {
        do {
            graph = try configuration.makeGraph(graphSeed: seed)
        } catch {
            transition(to: .aborted(error))
            throw error
        }
    }

    private func unmaskingRequests(to recipients: ClientSet) -> [(recipient: UInt32, message: ServerMessage)] {
        recipients.map { w in
            let (dropped, survivors) = unmaskingLists(for: w)
            var entries: [ConsistencySignatureEntry] = []
            if configuration.securityModel == .active {
                for v in neighbours(of: w) {
                    if let s = signatures[v] { entries.append(ConsistencySignatureEntry(signer: v, signature: s)) }
                }
            }
            return (
                w,
                .unmaskingRequest(
                    sessionId: sessionId, recipient: w, dropped: dropped, survivors: survivors, signatures: entries)
            )
        }
    }

    /// Encoded ``advance()``, counting bytes.
    public mutating func advanceEncoded() throws(SecAggError) -> EncodedOutbox {
        let round = currentRound ?? .unmasking
        let outbox = try advance()
        var encoded = EncodedOutbox()
        let nextRound = configuration.round(after: round) ?? .unmasking
        if let (message, recipients) = outbox.broadcast {
            let bytes = wire.encode(message)
            encoded.broadcast = (bytes, recipients)
            metrics.sent(bytes.count * recipients.count, in: nextRound, messages: recipients.count)
        }
        for (recipient, message) in outbox.direct {
            let bytes = wire.encode(message)
            encoded.direct.append((recipient, bytes))
            metrics.sent(bytes.count, in: nextRound)
        }
        return encoded
    }

    // MARK: Unmasking

    private mutating func finish() throws(SecAggError) -> AggregationResult {
        guard let u2 = live[.shareKeys], let u3 = live[.maskedInputCollection] else {
            throw .invalidConfiguration(reason: "rounds missing")
        }
        let t = configuration.threshold
        // One accumulator per extra worker: never more workers than the memory limit leaves room for.
        let base = configuration.serverMemoryEstimate(unmaskingWorkers: 1)
        let room = max(0, limits.maximumMemoryBytes - base) / max(1, configuration.vectorBytes)
        let workers = max(1, min(unmaskingConcurrency, 1 + room))
        unmaskingWorkersUsed = workers
        // Every secret to reconstruct, in the order errors are reported: self-mask seeds of the included
        // clients, then masking keys of the clients that dropped after sharing keys.
        var requests: [ReconstructionRequest] = []
        for u in u3 {
            requests.append(ReconstructionRequest(owner: u, kind: .selfMaskSeed, shares: selfMaskShares[u] ?? []))
        }
        // A dropped client's masking key is needed only when some included neighbour masked with it (every
        // included neighbour that did not complain about its ciphertext).
        for u in u2
        where !u3.contains(u) && neighbours(of: u).contains(where: { u3.contains($0) && !complained($0, about: u) }) {
            requests.append(ReconstructionRequest(owner: u, kind: .maskingKey, shares: maskingKeyShares[u] ?? []))
        }
        selfMaskShares = [:]
        maskingKeyShares = [:]
        let sid = sessionId
        let commitments = selfMaskCommitments
        let keys = advertised
        // A reconstructed secret must match what its owner committed to: the self-mask seed its commitment of
        // round 1, the masking key its advertised public key (SPEC.md §11.4).
        let verify: @Sendable (ReconstructionRequest, SecretBytes) -> Bool = { request, secret in
            switch request.kind {
            case .selfMaskSeed:
                guard let commitment = commitments[request.owner] else { return false }
                return selfMaskCommitment(sessionId: sid, owner: request.owner, seed: secret) == commitment
            case .maskingKey:
                guard let key = try? X25519.PrivateKey(rawRepresentation: secret), let advertised = keys[request.owner]
                else { return false }
                return key.publicKey == advertised.maskingKey
            }
        }
        let secrets = LagrangeCache.reconstructAll(requests, threshold: t, concurrency: workers, verify: verify)

        // Self masks of every included client; the masking keys of the dropped ones. Errors in request order,
        // as if the secrets were reconstructed one after the other.
        var jobs: [MaskJob] = []
        var dropped: [(owner: UInt32, key: X25519.PrivateKey)] = []
        var flagged: [FlaggedClient] = []
        for (request, result) in zip(requests, secrets) {
            let reconstructed = try result.get()
            for x in reconstructed.faultyShares {
                flagged.append(
                    FlaggedClient(client: x, reason: .invalidShare(owner: request.owner, kind: request.kind)))
            }
            switch request.kind {
            case .selfMaskSeed:
                jobs.append(MaskJob(seed: reconstructed.secret, negate: true))
            case .maskingKey:
                guard let key = try? X25519.PrivateKey(rawRepresentation: reconstructed.secret) else {
                    throw .reconstructionFailed(owner: request.owner, kind: .maskingKey)
                }
                dropped.append((request.owner, key))
            }
        }
        // Pairwise masks between clients that dropped after sharing keys and their surviving neighbours
        // (pairs of two dropped clients cancel and are never expanded; a survivor that complained about the
        // dropped client never added the mask). One X25519 + HKDF per pair; each dropped client's agreements
        // run as one batch (one private key, many peers), clients on every core.
        var groups: [(key: X25519.PrivateKey, owner: UInt32, peers: [(v: UInt32, key: X25519.PublicKey)])] = []
        for (u, key) in dropped {
            var peers: [(v: UInt32, key: X25519.PublicKey)] = []
            for v in neighbours(of: u) where u3.contains(v) && !complained(v, about: u) {
                guard let peer = advertised[v] else { continue }
                peers.append((v, peer.maskingKey))
            }
            groups.append((key, u, peers))
        }
        let groupList = groups
        let derived = ParallelWork.map(count: groupList.count, concurrency: workers, batch: 1) {
            (i) -> Result<[MaskJob], SecAggCryptoError> in
            let (key, u, peers) = groupList[i]
            do throws(SecAggCryptoError) {
                let shared = try key.sharedSecrets(with: peers.map(\.key))
                var out: [MaskJob] = []
                out.reserveCapacity(peers.count)
                for ((v, _), secret) in zip(peers, shared) {
                    let seed = try KeyDerivation.pairwiseMaskSeed(sharedSecret: secret, sessionId: sid, u, v)
                    // v added +PRG(s_uv) when u < v and −PRG(s_uv) when u > v; undo it.
                    out.append(MaskJob(seed: seed, negate: u < v))
                }
                return .success(out)
            } catch {
                return .failure(error)
            }
        }
        for result in derived {
            switch result {
            case let .success(pairJobs): jobs += pairJobs
            case let .failure(error): throw .crypto(error)
            }
        }
        // Complaints between two included clients: the complainer v left the pair mask out, so the other side
        // u's mask stays in the sum unless u complained too; remove it with the seed v disclosed. (A complaint
        // about a client that dropped is handled above by leaving v out of u's pairs.)
        for (v, reported) in complaints.sorted(by: { $0.key < $1.key }) where u3.contains(v) {
            for complaint in reported {
                let u = complaint.sender
                flagged.append(FlaggedClient(client: u, reason: .undecryptableShares(reporter: v)))
                guard u3.contains(u), !complained(u, about: v) else { continue }
                // u added +PRG(s_uv) when v < u and −PRG(s_uv) when v > u; undo it.
                jobs.append(MaskJob(seed: complaint.pairwiseMaskSeed, negate: v < u))
            }
        }
        var vectors = sum
        sum = []
        do {
            try MaskApplication.apply(jobs, to: &vectors, inputs: configuration.inputs, concurrency: workers)
        } catch {
            throw .crypto(error)
        }
        var counts: [ProtocolRound: Int] = [:]
        for (round, set) in live { counts[round] = set.count }
        flagged.sort { ($0.client, $0.description) < ($1.client, $1.description) }
        return AggregationResult(
            vectors: vectors, includedClients: Array(u3), liveCounts: counts, flaggedClients: flagged)
    }
}

/// One secret the server must reconstruct.
struct ReconstructionRequest: Sendable {
    var owner: UInt32
    var kind: ShareKind
    var shares: [ShamirShare]
}

/// Lagrange coefficients shared between reconstructions: the server reconstructs many secrets from
/// overlapping responder sets and computes each set's coefficients once. On the complete graph the sets
/// are "the first t + 1 responders other than the owner", all inside the first t + 2 responders, so they
/// come from one ``ShamirReconstructorFamily`` in O(t) each instead of O(t²).
struct LagrangeCache: Sendable {
    private var family: ShamirReconstructorFamily?
    private var reconstructors: [[UInt32]: ShamirReconstructor] = [:]

    /// A cache deriving subsets of `superset` from one family (nil: every set computed directly).
    init(superset: [UInt32]? = nil) {
        family = superset.flatMap { try? ShamirReconstructorFamily(xCoordinates: $0) }
    }

    /// The shares a reconstruction uses: the first t + 1 by x when available, so one extra share checks
    /// consistency.
    static func chosen(_ shares: [ShamirShare], threshold: Int) -> [ShamirShare] {
        Array(shares.sorted { $0.x < $1.x }.prefix(threshold + 1))
    }

    /// The reconstructor for `xs` (cached).
    mutating func reconstructor(for xs: [UInt32], threshold: Int) throws(SecAggCryptoError) -> ShamirReconstructor {
        if let cached = reconstructors[xs] { return cached }
        let made = try Self.make(xs, threshold: threshold, family: family)
        reconstructors[xs] = made
        return made
    }

    private static func make(_ xs: [UInt32], threshold: Int, family: ShamirReconstructorFamily?)
        throws(SecAggCryptoError) -> ShamirReconstructor
    {
        if let family, family.contains(xs) { return try family.reconstructor(xCoordinates: xs, threshold: threshold) }
        return try ShamirReconstructor(xCoordinates: xs, threshold: threshold)
    }

    /// Reconstructs from at least t shares, using the first t + 1 (by x) when available.
    mutating func reconstruct(_ shares: [ShamirShare], threshold: Int, owner: UInt32, kind: ShareKind)
        throws(SecAggError) -> SecretBytes
    {
        let chosen = Self.chosen(shares, threshold: threshold)
        guard shares.count >= threshold else {
            throw .insufficientShares(owner: owner, kind: kind, available: shares.count, threshold: threshold)
        }
        do {
            return try reconstructor(for: chosen.map(\.x), threshold: threshold)
                .reconstruct(chosen, secretByteCount: 32)
        } catch {
            throw .reconstructionFailed(owner: owner, kind: kind)
        }
    }

    /// Reconstructs every request's 32-byte secret on up to `concurrency` threads, one result per request
    /// in order. Each distinct set of x-coordinates gets its coefficients once (from a family over the
    /// first t + 2 coordinates seen, when it contains the set). A secret that the first t + 1 shares do not
    /// reconstruct consistently, or that `verify` rejects, is decoded again from all its shares correcting
    /// errors (``ShamirSecretSharing/reconstructCorrectingErrors(_:threshold:secretByteCount:isValid:)``),
    /// which also names the shares that were wrong. A request fails with
    /// ``SecAggError/insufficientShares(owner:kind:available:threshold:)`` when it has fewer than t shares
    /// and ``SecAggError/reconstructionFailed(owner:kind:)`` when no secret that `verify` accepts is found.
    static func reconstructAll(
        _ requests: [ReconstructionRequest], threshold t: Int, concurrency: Int,
        verify: @escaping @Sendable (ReconstructionRequest, SecretBytes) -> Bool
    ) -> [Result<(secret: SecretBytes, faultyShares: [UInt32]), SecAggError>] {
        let chosen = requests.map { Self.chosen($0.shares, threshold: t) }
        // Distinct coordinate sets, and the family's superset: the first t + 2 coordinates of all shares.
        var setIndex: [[UInt32]: Int] = [:]
        var distinctSets: [[UInt32]] = []
        var requestSets = [Int](repeating: -1, count: requests.count)
        var seen = Set<UInt32>()
        for (r, request) in requests.enumerated() where request.shares.count >= t {
            let xs = chosen[r].map(\.x)
            for x in xs { seen.insert(x) }
            if let i = setIndex[xs] {
                requestSets[r] = i
            } else {
                setIndex[xs] = distinctSets.count
                requestSets[r] = distinctSets.count
                distinctSets.append(xs)
            }
        }
        let sets = distinctSets
        let setOfRequest = requestSets
        let family: ShamirReconstructorFamily? =
            sets.count > 1 ? try? ShamirReconstructorFamily(xCoordinates: Array(seen.sorted().prefix(t + 2))) : nil
        let reconstructors = ParallelWork.map(count: sets.count, concurrency: concurrency, batch: 1) { i in
            try? make(sets[i], threshold: t, family: family)
        }
        let secrets = ParallelWork.map(count: requests.count, concurrency: concurrency) {
            (r) -> (secret: SecretBytes, faultyShares: [UInt32])? in
            let request = requests[r]
            guard request.shares.count >= t else { return nil }
            if setOfRequest[r] >= 0, let reconstructor = reconstructors[setOfRequest[r]],
                let secret = try? reconstructor.reconstruct(chosen[r], secretByteCount: 32), verify(request, secret)
            {
                return (secret, [])
            }
            // A wrong share (or a wrong commitment): decode from every share, correcting errors.
            return ShamirSecretSharing.reconstructCorrectingErrors(
                request.shares.sorted { $0.x < $1.x }, threshold: t, secretByteCount: 32
            ) { verify(request, $0) }
        }
        return requests.enumerated().map { (r, request) in
            guard request.shares.count >= t else {
                return .failure(
                    .insufficientShares(
                        owner: request.owner, kind: request.kind, available: request.shares.count, threshold: t))
            }
            guard let secret = secrets[r] else {
                return .failure(.reconstructionFailed(owner: request.owner, kind: request.kind))
            }
            return .success(secret)
        }
    }
}

/// Facts about the machine.
public enum SystemInfo {
    /// The number of processors available to this process.
    public static var activeProcessorCount: Int {
        #if canImport(Glibc) || canImport(Darwin)
            return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
            return 1
        #endif
    }
}
