import SecAggCrypto

/// Round 0: collecting the clients' advertised keys (SPEC.md §11.3).
struct AdvertiseKeysRound: Sendable {
    private var advertised: [UInt32: AdvertisedKeys] = [:]

    mutating func accept(_ message: ClientMessage, from sender: UInt32, context: ServerContext) throws(SecAggError) {
        guard case let .advertiseKeys(digest, keys) = message else { throw .wrongSession }
        guard digest == context.configurationDigest else { throw .wrongSession }
        if context.isActive {
            let key = context.configuration.verificationKeys[Int(sender) - 1]
            guard key.isValidSignature(keys.signature, for: keys.signedBytes(configurationDigest: digest)) else {
                throw .badSignature(signer: sender, round: .advertiseKeys)
            }
        }
        // Low-order keys would give all-zero shared secrets to every neighbour: refuse them here (by their
        // coordinates; the same keys an agreement would find, without one).
        guard !keys.encryptionKey.hasSmallOrder, !keys.maskingKey.hasSmallOrder else {
            throw .invalidClientMessage(sender: sender, reason: "low-order public key")
        }
        advertised[sender] = keys
    }

    /// Closes round 0 with U1. Not sparse: the key broadcast fixes the session id and the (complete) graph, round 1
    /// follows. Sparse: the key tree fixes the session id; each client gets the root and its own proof, and round 0′
    /// follows (SPEC.md §11.2).
    func close(u1: ClientSet, context: ServerContext) throws(SecAggError) -> (ServerPhase, ServerOutbox) {
        let keys = u1.compactMap { advertised[$0] }
        let configuration = context.configuration
        let signed = configuration.securityModel == .active
        var kept: [UInt32: AdvertisedKeys] = [:]
        for k in keys { kept[k.index] = k }
        let counts: [ProtocolRound: Int] = [.advertiseKeys: u1.count]
        var outbox = ServerOutbox()
        if configuration.isSparse, !signed {
            var entries: [UInt32: [UInt8]] = [:]
            for k in keys { entries[k.index] = k.entryBytes(signed: signed, committed: true) }
            let tree = try SessionTrees.keyTree(clientCount: configuration.clientCount, entries: entries)
            let sessionId = SessionTrees.sessionId(
                configurationDigest: context.configurationDigest, count: keys.count, keyRoot: tree.root)
            let (digest, count, root) = (context.configurationDigest, keys.count, tree.root)
            let size =
                2 + 32 + 4 + 32 + KeyBroadcast.entryByteCount(signed: signed, committed: true)
                + tree.depth * MerkleTree.digestByteCount
            // `keys` is U1's advertisements in ascending order, so position i is the i-th recipient's own entry.
            outbox.direct = OutboxMessages(
                recipients: keys.map { ClientID($0.index) },
                makeAt: { i in
                    .keyCommitment(
                        configurationDigest: digest, count: count, keyRoot: root, keys: keys[i],
                        proof: tree.proof(slot: Int(keys[i].index) - 1))
                }, byteCount: { _ in size })
            return (
                .seedReveal(
                    SeedRevealRound(sessionId: sessionId, advertised: kept, keyTree: tree, u1: u1, liveCounts: counts)),
                outbox
            )
        }
        // Not sparse, or sparse in the active model: every client gets every advertisement (SPEC.md §11.2).
        let broadcast = KeyBroadcast(entries: keys, signed: signed, committed: configuration.isSparse)
        let sessionId = try broadcast.sessionId(
            configurationDigest: context.configurationDigest, clientCount: configuration.clientCount)
        outbox.broadcast = (
            .keysBroadcast(configurationDigest: context.configurationDigest, keys: broadcast), u1.ids
        )
        if configuration.isSparse {
            return (
                .seedReveal(
                    SeedRevealRound(sessionId: sessionId, advertised: kept, keyTree: nil, u1: u1, liveCounts: counts)),
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
