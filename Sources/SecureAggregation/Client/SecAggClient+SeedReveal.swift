import SecAggCrypto
import SecAggGraph

/// Round 0′ sent (sparse graphs): the keys and the session id, kept until the neighbourhood arrives.
struct RevealedSeed: Sendable {
    let keys: ClientKeys
    let sessionId: [UInt8]
    /// Semi-honest model: this client's leaf in the key tree, checked under the key root (it is in the ring tree
    /// too); empty in the active model.
    var ownKeyLeaf: [UInt8] = []
    /// Active model: every advertisement (every reveal is checked against its commitment).
    var broadcast: KeyBroadcast?

    /// Active model (SPEC.md §11.2): checks that the reveals cover exactly the advertised clients and that each
    /// opens its commitment, builds the reveal tree from them, and returns N(u) and the live neighbours' entries.
    func neighbourhood(contributions: [SeedContribution], context: ClientContext) throws(SecAggError)
        -> (neighbours: [UInt32], live: [UInt32: AdvertisedKeys])
    {
        guard let broadcast else { throw .inconsistentServerMessage(reason: "no key broadcast") }
        // All or nothing: dropping a reveal would let whoever sees the others choose among graphs (§11.2).
        guard contributions.map(\.index) == broadcast.indices else {
            throw .inconsistentServerMessage(reason: "the seed reveals do not cover exactly the advertised clients")
        }
        if let index = broadcast.firstUnopenedCommitment(
            contributions, configurationDigest: context.configurationDigest)
        {
            throw .inconsistentServerMessage(
                reason: "client \(index)'s seed contribution does not match its commitment")
        }
        var byIndex: [UInt32: [UInt8]] = [:]
        for entry in contributions { byIndex[entry.index] = entry.contribution }
        let root = try SessionTrees.revealTree(clientCount: context.configuration.clientCount, contributions: byIndex)
            .root
        let graph = try context.configuration.makeGraph(
            graphSeed: SessionTrees.graphSeed(sessionId: sessionId, revealRoot: root), evaluation: .pointwise)
        let neighbours = graph.neighbours(of: context.index)
        var live: [UInt32: AdvertisedKeys] = [:]
        for v in neighbours { live[v] = broadcast.entry(for: v) }
        return (neighbours, live)
    }

    /// Checks the neighbourhood message (SPEC.md §11.2): this client's own contribution is in the reveal tree, the
    /// records cover exactly N(u) of the graph the reveal root gives, and the multiproof shows this client's own key
    /// leaf and every record's at their ring positions in the ring tree. Returns N(u) and the live neighbours' entries.
    func neighbourhood(
        revealRoot: [UInt8], proof: [UInt8], ringRoot: [UInt8], records: [NeighbourRecord], multiproof: [UInt8],
        context: ClientContext
    ) throws(SecAggError) -> (neighbours: [UInt32], live: [UInt32: AdvertisedKeys]) {
        let n = context.configuration.clientCount
        let index = context.index
        guard
            SessionTrees.verify(
                root: revealRoot,
                leafHash: SessionTrees.revealLeafHash(index: index, contribution: keys.seedContribution),
                index: index, clientCount: n, proof: proof)
        else {
            throw .inconsistentServerMessage(reason: "the reveal tree does not hold this client's contribution")
        }
        let graph = try context.configuration.makeGraph(
            graphSeed: SessionTrees.graphSeed(sessionId: sessionId, revealRoot: revealRoot), evaluation: .pointwise)
        guard let ring = graph as? HararyGraph else {
            throw .inconsistentServerMessage(reason: "a neighbourhood on a graph without a ring")
        }
        let window = SessionTrees.window(of: index, in: ring)
        let neighbours = window.map(\.client).filter { $0 != index }.sorted()
        guard records.map(\.index) == neighbours else {
            throw .inconsistentServerMessage(reason: "the neighbourhood does not list exactly this client's neighbours")
        }
        let signed = context.isActive
        var leaves: [UInt32: [UInt8]] = [index: ownKeyLeaf]
        var live: [UInt32: AdvertisedKeys] = [:]
        for record in records {
            leaves[record.index] = SessionTrees.keyLeafHash(
                index: record.index, entry: record.keys?.entryBytes(signed: signed, committed: true))
            if let keys = record.keys { live[record.index] = keys }
        }
        guard
            MerkleTree.verify(
                root: ringRoot, leafHashes: window.flatMap { leaves[$0.client] ?? [] }, slots: window.map(\.slot),
                slotCount: n, multiproof: multiproof)
        else {
            throw .inconsistentServerMessage(reason: "the ring tree's multiproof does not show this neighbourhood")
        }
        return (neighbours, live)
    }
}

extension ClientKeys {
    /// Active model: the key broadcast (and with it every commitment) fixes the session id; check this client's own
    /// entry in it and reveal the contribution.
    func revealSeed(_ broadcast: KeyBroadcast, context: ClientContext) throws(SecAggError) -> (
        RevealedSeed, ClientMessage
    ) {
        let sid = try checkOwnEntry(in: broadcast, context: context)
        // At least t + 1 advertisers are needed for anyone to have t live neighbours; refuse early.
        guard broadcast.count >= context.threshold + 1 else {
            throw .insufficientClients(round: .seedReveal, count: broadcast.count, required: context.threshold + 1)
        }
        return (
            RevealedSeed(keys: self, sessionId: sid, broadcast: broadcast),
            .seedReveal(sessionId: sid, sender: context.index, contribution: seedContribution)
        )
    }

    /// Semi-honest model: the key tree (and with it every commitment) is now fixed: check this client's own entry in it and reveal
    /// the contribution.
    func revealSeed(
        count: Int, keyRoot: [UInt8], own: AdvertisedKeys, proof: [UInt8], context: ClientContext
    ) throws(SecAggError) -> (RevealedSeed, ClientMessage) {
        let index = context.index
        let digest = context.configurationDigest
        let ownKeyLeaf = SessionTrees.keyLeafHash(
            index: index, entry: own.entryBytes(signed: context.isActive, committed: true))
        guard own.index == index, own.encryptionKey == encryptionKey.publicKey,
            own.maskingKey == maskingKey.publicKey,
            own.seedCommitment
                == SeedContribution.commitment(
                    configurationDigest: digest, index: index, contribution: seedContribution),
            SessionTrees.verify(
                root: keyRoot, leafHash: ownKeyLeaf, index: index, clientCount: context.configuration.clientCount,
                proof: proof)
        else {
            throw .inconsistentServerMessage(reason: "the key tree does not hold this client's keys")
        }
        // At least t + 1 advertisers are needed for anyone to have t live neighbours; refuse early.
        guard count >= context.threshold + 1 else {
            throw .insufficientClients(round: .seedReveal, count: count, required: context.threshold + 1)
        }
        let sid = SessionTrees.sessionId(configurationDigest: digest, count: count, keyRoot: keyRoot)
        return (
            RevealedSeed(keys: self, sessionId: sid, ownKeyLeaf: ownKeyLeaf, broadcast: nil),
            .seedReveal(sessionId: sid, sender: index, contribution: seedContribution)
        )
    }
}
