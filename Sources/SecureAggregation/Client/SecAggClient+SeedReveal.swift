import SecAggCrypto
import SecAggGraph

/// Round 0′ sent (sparse graphs): the keys, the session id and the key broadcast, kept until the reveals arrive.
struct RevealedSeed: Sendable {
    let keys: ClientKeys
    let sessionId: [UInt8]
    let broadcast: KeyBroadcast

    /// Checks that every advertiser revealed the contribution it committed to, and derives the graph.
    func graph(from contributions: [SeedContribution], context: ClientContext) throws(SecAggError)
        -> any CommunicationGraph
    {
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
        return try context.configuration.makeGraph(
            graphSeed: SeedContribution.graphSeed(sessionId: sessionId, contributions: contributions))
    }
}

extension ClientKeys {
    /// The advertised set (and every commitment) is now fixed: reveal the contribution.
    func revealSeed(_ broadcast: KeyBroadcast, context: ClientContext) throws(SecAggError)
        -> (RevealedSeed, ClientMessage)
    {
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
}
