import SecAggCrypto
import SecAggGraph

/// Round 0′ sent (sparse graphs): the keys, the session id and the key tree's root, kept until the neighbourhood
/// arrives.
struct RevealedSeed: Sendable {
    let keys: ClientKeys
    let sessionId: [UInt8]
    /// Semi-honest model: the key tree's root (neighbours' entries come with proofs).
    let keyRoot: [UInt8]
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
    /// records cover exactly N(u) of the graph the reveal root gives, every record is proven in both trees, and
    /// every neighbour's contribution opens its commitment. Returns N(u) and the live neighbours' entries.
    func neighbourhood(
        revealRoot: [UInt8], proof: [UInt8], records: [NeighbourRecord], context: ClientContext
    ) throws(SecAggError) -> (neighbours: [UInt32], live: [UInt32: AdvertisedKeys]) {
        let n = context.configuration.clientCount
        let index = context.index
        let digest = context.configurationDigest
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
        let neighbours = graph.neighbours(of: index)
        guard records.map(\.index) == neighbours else {
            throw .inconsistentServerMessage(reason: "the neighbourhood does not list exactly this client's neighbours")
        }
        let signed = context.isActive
        var live: [UInt32: AdvertisedKeys] = [:]
        for record in records {
            let v = record.index
            let keyLeaf = SessionTrees.keyLeafHash(
                index: v, entry: record.keys?.entryBytes(signed: signed, committed: true))
            let revealLeaf = SessionTrees.revealLeafHash(
                index: v, contribution: record.keys == nil ? nil : record.contribution)
            guard
                SessionTrees.verify(root: keyRoot, leafHash: keyLeaf, index: v, clientCount: n, proof: record.keyProof)
            else {
                throw .inconsistentServerMessage(reason: "client \(v)'s key-tree proof does not verify")
            }
            guard
                SessionTrees.verify(
                    root: revealRoot, leafHash: revealLeaf, index: v, clientCount: n, proof: record.revealProof)
            else {
                throw .inconsistentServerMessage(reason: "client \(v)'s reveal-tree proof does not verify")
            }
            guard let entry = record.keys else { continue }
            guard
                SeedContribution.commitment(configurationDigest: digest, index: v, contribution: record.contribution)
                    == entry.seedCommitment
            else {
                throw .inconsistentServerMessage(reason: "client \(v)'s seed contribution does not match its commitment")
            }
            live[v] = entry
        }
        return (neighbours, live)
    }
}

extension ClientKeys {
    /// Active model: the key broadcast (and with it every commitment) fixes the session id; check this client's own
    /// entry in it and reveal the contribution.
    func revealSeed(_ broadcast: KeyBroadcast, context: ClientContext) throws(SecAggError) -> (RevealedSeed, ClientMessage) {
        let sid = try checkOwnEntry(in: broadcast, context: context)
        // At least t + 1 advertisers are needed for anyone to have t live neighbours; refuse early.
        guard broadcast.count >= context.threshold + 1 else {
            throw .insufficientClients(round: .seedReveal, count: broadcast.count, required: context.threshold + 1)
        }
        return (
            RevealedSeed(keys: self, sessionId: sid, keyRoot: [], broadcast: broadcast),
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
        guard own.index == index, own.encryptionKey == encryptionKey.publicKey,
            own.maskingKey == maskingKey.publicKey,
            own.seedCommitment
                == SeedContribution.commitment(configurationDigest: digest, index: index, contribution: seedContribution),
            SessionTrees.verify(
                root: keyRoot,
                leafHash: SessionTrees.keyLeafHash(
                    index: index, entry: own.entryBytes(signed: context.isActive, committed: true)),
                index: index, clientCount: context.configuration.clientCount, proof: proof)
        else {
            throw .inconsistentServerMessage(reason: "the key tree does not hold this client's keys")
        }
        // At least t + 1 advertisers are needed for anyone to have t live neighbours; refuse early.
        guard count >= context.threshold + 1 else {
            throw .insufficientClients(round: .seedReveal, count: count, required: context.threshold + 1)
        }
        let sid = SessionTrees.sessionId(configurationDigest: digest, count: count, keyRoot: keyRoot)
        return (
            RevealedSeed(keys: self, sessionId: sid, keyRoot: keyRoot, broadcast: nil),
            .seedReveal(sessionId: sid, sender: index, contribution: seedContribution)
        )
    }
}
