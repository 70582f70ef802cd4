import SecAggCrypto

/// Round 0′ (sparse graphs): collecting the graph-seed contributions committed to in round 0 (SPEC.md §11.2).
struct SeedRevealRound: Sendable {
    let sessionId: [UInt8]
    let advertised: [UInt32: AdvertisedKeys]
    let u1: ClientSet
    let liveCounts: [ProtocolRound: Int]
    private var contributions: [UInt32: [UInt8]] = [:]

    init(sessionId: [UInt8], advertised: [UInt32: AdvertisedKeys], u1: ClientSet, liveCounts: [ProtocolRound: Int]) {
        self.sessionId = sessionId
        self.advertised = advertised
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
    /// between rings after seeing the others' contributions (SPEC.md §11.2); nothing secret was sent yet.
    func close(revealed: ClientSet, context: ServerContext) throws(SecAggError) -> (ServerPhase, ServerOutbox) {
        guard revealed.count == u1.count else {
            throw .missingSeedReveals(clients: u1.filter { !revealed.contains($0) })
        }
        let entries = revealed.compactMap { u in
            contributions[u].map { SeedContribution(index: u, contribution: $0) }
        }
        let graph = try context.configuration.makeGraph(
            graphSeed: SeedContribution.graphSeed(sessionId: sessionId, contributions: entries))
        var counts = liveCounts
        counts[.seedReveal] = revealed.count
        let session = ServerSession(
            context: context, sessionId: sessionId, advertised: advertised, graph: graph, liveCounts: counts)
        var outbox = ServerOutbox()
        outbox.broadcast = (.seedReveals(sessionId: sessionId, contributions: entries), revealed.ids)
        return (.shareKeys(ShareKeysRound(session: session, u1: u1)), outbox)
    }
}
