import SecAggCrypto

/// Round 0: collecting the clients' advertised keys (SPEC.md §11.3).
struct AdvertiseKeysRound: Sendable {
    private var advertised: [UInt32: AdvertisedKeys] = [:]
    /// A key to test advertised public keys with: a low-order key gives no shared secret.
    private let probeKey = X25519.PrivateKey()

    mutating func accept(_ message: ClientMessage, from sender: UInt32, context: ServerContext) throws(SecAggError) {
        guard case let .advertiseKeys(digest, keys) = message else { throw .wrongSession }
        guard digest == context.configurationDigest else { throw .wrongSession }
        if context.isActive {
            let key = context.configuration.verificationKeys[Int(sender) - 1]
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
    }

    /// Closes round 0 with U1: the key broadcast fixes the session id; on sparse graphs round 0′ follows,
    /// otherwise the (complete) graph is fixed now and round 1 follows.
    func close(u1: ClientSet, context: ServerContext) throws(SecAggError) -> (ServerPhase, ServerOutbox) {
        let keys = u1.compactMap { advertised[$0] }
        let configuration = context.configuration
        let broadcast = KeyBroadcast(
            entries: keys, signed: configuration.securityModel == .active, committed: configuration.isSparse)
        let sessionId = broadcast.sessionId(configurationDigest: context.configurationDigest)
        var outbox = ServerOutbox()
        outbox.broadcast = (
            .keysBroadcast(configurationDigest: context.configurationDigest, keys: broadcast), u1.ids
        )
        var kept: [UInt32: AdvertisedKeys] = [:]
        for k in keys { kept[k.index] = k }
        let counts: [ProtocolRound: Int] = [.advertiseKeys: u1.count]
        if configuration.isSparse {
            return (
                .seedReveal(SeedRevealRound(sessionId: sessionId, advertised: kept, u1: u1, liveCounts: counts)),
                outbox
            )
        }
        let graph = try configuration.makeGraph(graphSeed: unusedGraphSeed)
        let session = ServerSession(
            context: context, sessionId: sessionId, advertised: kept, graph: graph, liveCounts: counts)
        return (.shareKeys(ShareKeysRound(session: session, u1: u1)), outbox)
    }
}

extension ClientSet {
    /// The members as typed ids, ascending.
    var ids: [ClientID] { map { ClientID($0) } }
}
