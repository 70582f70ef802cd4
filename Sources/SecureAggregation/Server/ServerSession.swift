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
}
