import SecAggCrypto
import SecAggGraph

/// What the server knows from its initialisation on: the configuration and its digest.
struct ServerContext: Sendable {
    let configuration: SessionConfiguration
    let configurationDigest: [UInt8]

    var threshold: Int { configuration.threshold }
    var isActive: Bool { configuration.securityModel == .active }
}

/// What every round knows once the communication graph is fixed (after round 0, or round 0′ on sparse graphs).
struct ServerSession: Sendable {
    let context: ServerContext
    let sessionId: [UInt8]
    /// U1's advertisements, by client.
    let advertised: [UInt32: AdvertisedKeys]
    let graph: any CommunicationGraph
    /// |U1|, |U1′|, |U2|... as the rounds close.
    var liveCounts: [ProtocolRound: Int]

    var configuration: SessionConfiguration { context.configuration }

    func neighbours(of client: UInt32) -> [UInt32] { graph.neighbours(of: client) }

    /// How many of `client`'s neighbours are in `live` (those that sent it a box, when `live` is U2).
    func neighbourCount(of client: UInt32, in live: ClientSet) -> Int {
        graph.neighbours(of: client).reduce(0) { $0 + (live.contains($1) ? 1 : 0) }
    }
}
