import SecAggCrypto
import SecAggGraph

/// Round 0′ (sparse graphs): collecting the graph-seed contributions committed to in round 0 (SPEC.md §11.2).
struct SeedRevealRound: Sendable {
    let sessionId: [UInt8]
    let advertised: [UInt32: AdvertisedKeys]
    /// Semi-honest model: the key tree (for the neighbours' proofs); nil in the active model.
    let keyTree: MerkleTree?
    let u1: ClientSet
    let liveCounts: [ProtocolRound: Int]
    private var contributions: [UInt32: [UInt8]] = [:]

    init(
        sessionId: [UInt8], advertised: [UInt32: AdvertisedKeys], keyTree: MerkleTree?, u1: ClientSet,
        liveCounts: [ProtocolRound: Int]
    ) {
        self.sessionId = sessionId
        self.advertised = advertised
        self.keyTree = keyTree
        self.u1 = u1
        self.liveCounts = liveCounts
    }

    mutating func accept(_ message: ClientMessage, from sender: UInt32, context: ServerContext) throws(SecAggError) {
        guard case let .seedReveal(sid, _, contribution) = message, sid == sessionId else { throw .wrongSession }
        guard let keys = advertised[sender],
            SeedContribution.commitment(
                configurationDigest: context.configurationDigest, index: sender, contribution: contribution)
                == keys.seedCommitment
        else {
            throw .invalidClientMessage(sender: sender, reason: "seed contribution does not match its commitment")
        }
        contributions[sender] = contribution
    }

    /// Closes round 0′: all or nothing. A missing reveal would let the server (or a withholding client) choose
    /// between rings after seeing the others' contributions (SPEC.md §11.2); nothing secret was sent yet. The reveal
    /// tree fixes the graph seed; each client gets the root, its own proof and its neighbours' records.
    func close(revealed: ClientSet, context: ServerContext) throws(SecAggError) -> (ServerPhase, ServerOutbox) {
        guard revealed.count == u1.count else {
            throw .missingSeedReveals(clients: u1.filter { !revealed.contains($0) })
        }
        let n = context.configuration.clientCount
        let revealTree = try SessionTrees.revealTree(clientCount: n, contributions: contributions)
        let graph = try context.configuration.makeGraph(
            graphSeed: SessionTrees.graphSeed(sessionId: sessionId, revealRoot: revealTree.root))
        var counts = liveCounts
        counts[.seedReveal] = revealed.count
        let session = ServerSession(
            context: context, sessionId: sessionId, advertised: advertised, graph: graph, liveCounts: counts)
        var outbox = ServerOutbox()
        guard let keyTree else {
            // Active model: every reveal to every client, each checks them all (SPEC.md §11.2).
            let entries = revealed.compactMap { u in
                self.contributions[u].map { SeedContribution(index: u, contribution: $0) }
            }
            outbox.broadcast = (.seedReveals(sessionId: sessionId, contributions: entries), revealed.ids)
            return (.shareKeys(ShareKeysRound(session: session, u1: u1)), outbox)
        }
        guard let harary = graph as? HararyGraph else {
            throw .invalidConfiguration(reason: "a sparse session needs a Harary graph")
        }
        let ringTree = try SessionTrees.ringTree(keyTree: keyTree, graph: harary)
        let (advertised, sessionId, revealRoot, ringRoot) = (advertised, sessionId, revealTree.root, ringTree.root)
        let proofBytes = revealTree.depth * MerkleTree.digestByteCount
        let entryBytes = KeyBroadcast.entryByteCount(signed: context.isActive, committed: true)
        outbox.direct = OutboxMessages(
            recipients: revealed.ids,
            make: { u in
                // u ∈ U1 ⊆ 1…n on a ring, so its window holds k + 1 slots.
                let slots = SessionTrees.window(of: u.rawValue, in: harary).map(\.slot)
                let records = graph.neighbours(of: u.rawValue).map { v in NeighbourRecord(index: v, keys: advertised[v])
                }
                return .neighbourhood(
                    sessionId: sessionId, recipient: u.rawValue, revealRoot: revealRoot,
                    proof: revealTree.proof(slot: u.position), ringRoot: ringRoot, neighbours: records,
                    multiproof: ringTree.multiproof(slots: slots))
            },
            byteCount: { u in
                let slots = SessionTrees.window(of: u.rawValue, in: harary).map(\.slot)
                let values = ringTree.multiproofValueCount(slots: slots) * MerkleTree.digestByteCount
                return graph.neighbours(of: u.rawValue).reduce(2 + 32 + 4 + 32 + proofBytes + 32 + 4 + 4 + values) {
                    total, v in total + 5 + (advertised[v] == nil ? 0 : entryBytes - 4)
                }
            })
        return (.shareKeys(ShareKeysRound(session: session, u1: u1)), outbox)
    }
}
